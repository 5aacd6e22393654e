//! The trusted-flagger registry in Redis: registering, reading, suspending and reinstating
//! entries (each change audited in the same script), and the per-flagger timestamp sets that
//! transparency reports count. What an entry is, and how registrations are validated, is
//! [`crate::flaggers`].

use super::handle::{ReviewStore, ms, with_prelude};
use crate::flaggers::{
    FlaggerCounts, FlaggerStatus, FlaggerView, NewFlagger, RegistryError, StatusChange,
    TrustedFlagger,
};
use redis::AsyncCommands;
use std::sync::LazyLock;

/// Registers a trusted flagger or changes its entry, with its audit entry. KEYS: audit, seq,
/// registry hash, account index. ARGV: id, now, actor, action, new JSON, expected JSON ('' = the
/// id must be new), account ('' = none), audit `after`, cause. Returns 1; 0 if the entry exists
/// (new) or changed since read; -1 if the account is bound to another entry.
static PUT_FLAGGER: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local old = redis.call('HGET', KEYS[3], ARGV[1])
if ARGV[6] == '' then
  if old then return 0 end
  if ARGV[7] ~= '' and redis.call('HSETNX', KEYS[4], ARGV[7], ARGV[1]) == 0 then return -1 end
elseif old ~= ARGV[6] then
  return 0
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
audit('flagger:' .. ARGV[1], ARGV[3], ARGV[2], ARGV[4], '{}', ARGV[8], ARGV[9])
return 1
"#,
    )
});

/// The key of one of a flagger's timestamp sets (`received`, `decided`, `acted`).
pub fn counter_key(store: &ReviewStore, id: &str, what: &str) -> String {
    store.key(&format!("flagger:{id}:{what}"))
}

/// Registers a flagger (active) on behalf of `actor`.
pub async fn add(
    store: &ReviewStore,
    new: NewFlagger,
    actor: &str,
) -> Result<TrustedFlagger, RegistryError> {
    let flagger = TrustedFlagger {
        id: new.id,
        name: new.name,
        awarded_by: new.awarded_by,
        expertise: new.expertise,
        since: new.since,
        account: new.account,
        status: FlaggerStatus::Active,
        changes: Vec::new(),
        registered_at: store.clock().now(),
        registered_by: actor.to_string(),
    };
    let json = serde_json::to_string(&flagger)?;
    match put(store, &flagger, &json, "", actor, "flagger.registered", "").await? {
        1 => Ok(flagger),
        -1 => {
            let account = flagger.account.clone().unwrap_or_default();
            let bound: Option<String> = store
                .connection()
                .hget(store.key("flaggers:accounts"), &account)
                .await?;
            Err(RegistryError::AccountTaken {
                account,
                flagger: bound.unwrap_or_default(),
            })
        }
        _ => Err(RegistryError::Exists(flagger.id)),
    }
}

/// Writes `json` for `flagger` if the stored document is still `expected` ('' = absent),
/// with its audit entry. Returns 1, 0 (changed or exists) or -1 (account bound elsewhere).
async fn put(
    store: &ReviewStore,
    flagger: &TrustedFlagger,
    json: &str,
    expected: &str,
    actor: &str,
    action: &str,
    cause: &str,
) -> Result<i64, RegistryError> {
    let after = serde_json::json!({"status": flagger.status, "account": flagger.account});
    Ok(PUT_FLAGGER
        .key(store.key("audit"))
        .key(store.key("audit:seq"))
        .key(store.key("flaggers"))
        .key(store.key("flaggers:accounts"))
        .arg(&flagger.id)
        .arg(ms(store.clock().now()))
        .arg(actor)
        .arg(action)
        .arg(json)
        .arg(expected)
        .arg(flagger.account.as_deref().unwrap_or(""))
        .arg(after.to_string())
        .arg(cause)
        .invoke_async(&mut store.connection())
        .await?)
}

/// The entry `id`, if registered.
pub async fn get(store: &ReviewStore, id: &str) -> Result<Option<TrustedFlagger>, RegistryError> {
    let json: Option<String> = store.connection().hget(store.key("flaggers"), id).await?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// The entry bound to API account `account`, if any.
pub async fn for_account(
    store: &ReviewStore,
    account: &str,
) -> Result<Option<TrustedFlagger>, RegistryError> {
    let id: Option<String> = store
        .connection()
        .hget(store.key("flaggers:accounts"), account)
        .await?;
    match id {
        Some(id) => get(store, &id).await,
        None => Ok(None),
    }
}

/// Every entry with its counts, by id.
pub async fn list(store: &ReviewStore) -> Result<Vec<FlaggerView>, RegistryError> {
    let mut conn = store.connection();
    let all: std::collections::BTreeMap<String, String> =
        conn.hgetall(store.key("flaggers")).await?;
    let mut views = Vec::with_capacity(all.len());
    for json in all.values() {
        let flagger: TrustedFlagger = serde_json::from_str(json)?;
        let counts = counts(store, &flagger.id).await?;
        views.push(FlaggerView { flagger, counts });
    }
    Ok(views)
}

/// The totals of flagger `id`.
pub async fn counts(store: &ReviewStore, id: &str) -> Result<FlaggerCounts, RegistryError> {
    let (received, decided, acted): (u64, u64, u64) = redis::pipe()
        .zcard(counter_key(store, id, "received"))
        .zcard(counter_key(store, id, "decided"))
        .zcard(counter_key(store, id, "acted"))
        .query_async(&mut store.connection())
        .await?;
    Ok(FlaggerCounts {
        notices_received: received,
        notices_decided: decided,
        notices_acted_on: acted,
    })
}

/// Sets flagger `id`'s status (suspend or reinstate), recording who, when and why.
pub async fn set_status(
    store: &ReviewStore,
    id: &str,
    status: FlaggerStatus,
    actor: &str,
    reason: &str,
) -> Result<TrustedFlagger, RegistryError> {
    for _ in 0..8 {
        let old: Option<String> = store.connection().hget(store.key("flaggers"), id).await?;
        let old = old.ok_or_else(|| RegistryError::NotFound(id.to_string()))?;
        let mut flagger: TrustedFlagger = serde_json::from_str(&old)?;
        if flagger.status == status {
            return Err(RegistryError::Unchanged(id.to_string()));
        }
        flagger.status = status;
        flagger.changes.push(StatusChange {
            status,
            at: store.clock().now(),
            by: actor.to_string(),
            reason: reason.to_string(),
        });
        let action = match status {
            FlaggerStatus::Active => "flagger.reinstated",
            FlaggerStatus::Suspended => "flagger.suspended",
        };
        let json = serde_json::to_string(&flagger)?;
        if put(store, &flagger, &json, &old, actor, action, reason).await? == 1 {
            return Ok(flagger);
        }
    }
    Err(RegistryError::Busy)
}
