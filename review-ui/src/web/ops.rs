//! Redis writes the web UI needs that the review store does not offer: an audit entry for
//! an event that is not a case transition (login, a media view, a preference), claiming
//! one named case (from its page, or the cases of a cluster for a bulk decision), and
//! giving a claim back (release, skip) or handing it to another moderator (reassign).
//!
//! They live here rather than in `store.rs` so the UI does not change the store's scripts;
//! they follow the same conventions: the audit entry is appended by the same Lua call as the
//! change, with the gapless sequence number, and times come from the injected clock.

use takedown_review::store::{ReviewStore, StoreError};

const AUDIT: &str = r#"
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', ARGV[1], 'actor', ARGV[2], 'at', ARGV[3],
  'action', ARGV[4], 'before', '{}', 'after', ARGV[5], 'cause', ARGV[6])
return seq
"#;

/// KEYS: audit, seq, case, leases. ARGV: case id, actor, now, lease end.
/// Returns 1 claimed, 0 the case is not open, -1 someone else holds a current lease.
const CLAIM_ONE: &str = r#"
if redis.call('HGET', KEYS[3], 'state') ~= 'open' then return 0 end
local holder = redis.call('HGET', KEYS[3], 'holder')
local lease = tonumber(redis.call('HGET', KEYS[3], 'lease_until') or '0')
if holder and holder ~= ARGV[2] and lease >= tonumber(ARGV[3]) then return -1 end
local q = redis.call('HGET', KEYS[3], 'queue')
if q then redis.call('ZREM', q, ARGV[1]) end
redis.call('HSET', KEYS[3], 'holder', ARGV[2], 'lease_until', ARGV[4])
redis.call('HSETNX', KEYS[3], 'first_claimed_at', ARGV[3])
redis.call('HINCRBY', KEYS[3], 'ver', 1)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', ARGV[1], 'actor', ARGV[2], 'at', ARGV[3],
  'action', 'case.claimed', 'before', '{}',
  'after', cjson.encode({holder = ARGV[2], lease_until = tonumber(ARGV[4])}), 'cause', 'claimed by id')
return 1
"#;

/// KEYS: audit, seq, case, leases. ARGV: case id, actor, now, required holder ('' = any),
/// new holder ('' = back to its queue), lease end, action, cause.
/// Returns 1 done, 0 the case is not open or not held, -1 it is held by someone else.
const HAND_OVER: &str = r#"
if redis.call('HGET', KEYS[3], 'state') ~= 'open' then return 0 end
local holder = redis.call('HGET', KEYS[3], 'holder')
if not holder then return 0 end
if ARGV[4] ~= '' and holder ~= ARGV[4] then return -1 end
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[3], 'holder', 'lease_until')
  redis.call('ZADD', redis.call('HGET', KEYS[3], 'queue'), redis.call('HGET', KEYS[3], 'score'), ARGV[1])
else
  redis.call('HSET', KEYS[3], 'holder', ARGV[5], 'lease_until', ARGV[6])
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
end
redis.call('HINCRBY', KEYS[3], 'ver', 1)
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', ARGV[1], 'actor', ARGV[2], 'at', ARGV[3],
  'action', ARGV[7], 'before', cjson.encode({holder = holder}),
  'after', cjson.encode({holder = ARGV[5]}), 'cause', ARGV[8])
return 1
"#;

/// The loaded scripts.
pub(crate) struct Scripts {
    audit: redis::Script,
    claim_one: redis::Script,
    hand_over: redis::Script,
}

/// What giving a claim back or handing it on does.
pub(crate) enum HandOver<'a> {
    /// The holder gives the case back to its queue (`case.released`).
    Release,
    /// The holder passes on it for now (`case.skipped`; back to its queue).
    Skip,
    /// A senior moderator gives the case to another moderator (`case.reassigned`), whoever
    /// holds it.
    Reassign { to: &'a str },
}

fn now_ms(store: &ReviewStore) -> i64 {
    (store.clock().now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// How claiming a named case went.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The actor holds the case now.
    Claimed,
    /// The case is not open (decided, suspended, purged).
    NotOpen,
    /// Someone else holds a current lease.
    HeldByOther,
}

impl Scripts {
    pub fn new() -> Self {
        Scripts {
            audit: redis::Script::new(AUDIT),
            claim_one: redis::Script::new(CLAIM_ONE),
            hand_over: redis::Script::new(HAND_OVER),
        }
    }

    /// Appends an audit entry about `subject` by `actor` (no transition; `after` is JSON).
    pub async fn audit(
        &self,
        store: &ReviewStore,
        subject: &str,
        actor: &str,
        action: &str,
        after: &str,
        cause: &str,
    ) -> Result<(), StoreError> {
        let _: i64 = self
            .audit
            .key(store.key("audit"))
            .key(store.key("audit:seq"))
            .arg(subject)
            .arg(actor)
            .arg(now_ms(store))
            .arg(action)
            .arg(after)
            .arg(cause)
            .invoke_async(&mut store.connection())
            .await?;
        Ok(())
    }

    /// Claims the case `id` for `actor` with the store's lease length, taking it out of its
    /// queue; a lease of the same actor is renewed, an expired one of someone else replaced.
    pub async fn claim_one(
        &self,
        store: &ReviewStore,
        id: &str,
        actor: &str,
    ) -> Result<Claim, StoreError> {
        let (now, until) = lease_times(store);
        on_case(&self.claim_one, store, id, actor, now, &[until.to_string()]).await
    }

    /// Releases, skips or reassigns the case `id` held by `actor` (or, for a reassignment,
    /// by anyone), with its audit entry.
    pub async fn hand_over(
        &self,
        store: &ReviewStore,
        id: &str,
        actor: &str,
        how: HandOver<'_>,
    ) -> Result<Claim, StoreError> {
        let (now, until) = lease_times(store);
        let (required, to, action, cause) = match how {
            HandOver::Release => (actor, "", "case.released", "released by its holder"),
            HandOver::Skip => (actor, "", "case.skipped", "skipped by its holder"),
            HandOver::Reassign { to } => ("", to, "case.reassigned", "reassigned by a senior"),
        };
        let rest = [required, to, &until.to_string(), action, cause].map(str::to_string);
        on_case(&self.hand_over, store, id, actor, now, &rest).await
    }
}

/// Now and the end of a lease taken now, in Unix ms (store clock).
fn lease_times(store: &ReviewStore) -> (i64, i64) {
    let now = now_ms(store);
    (now, now + store.options().lease.whole_milliseconds() as i64)
}

/// Runs a claim script on case `id`. KEYS: audit, seq, case, leases; ARGV: case id, actor,
/// now, then `rest`. The script returns 1 done, -1 held by someone else, 0 not open.
async fn on_case(
    script: &redis::Script,
    store: &ReviewStore,
    id: &str,
    actor: &str,
    now: i64,
    rest: &[String],
) -> Result<Claim, StoreError> {
    let mut inv = script.prepare_invoke();
    inv.key(store.key("audit"))
        .key(store.key("audit:seq"))
        .key(store.key(&format!("case:{id}")))
        .key(store.key("leases"))
        .arg(id)
        .arg(actor)
        .arg(now);
    for a in rest {
        inv.arg(a);
    }
    let code: i64 = inv.invoke_async(&mut store.connection()).await?;
    Ok(match code {
        1 => Claim::Claimed,
        -1 => Claim::HeldByOther,
        _ => Claim::NotOpen,
    })
}
