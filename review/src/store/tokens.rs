//! API tokens: who may call the HTTP API, as what role.
//!
//! A token is printed once and stored only as its SHA-256 digest (hash `tokens`: digest →
//! principal JSON). Token names and the web UI's account names are one name space (set
//! `token_names`, hash `web:users`), because both become the actor of audit entries and the
//! holder of leases: a token named like a moderator could otherwise act as that moderator.
//! Revoking a name deletes its tokens, so the next request with one of them is refused.

use super::handle::{ReviewStore, StoreError};
use crate::model::Role;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The web UI's accounts (name → account JSON), for the shared name space.
pub const UI_ACCOUNTS: &str = "web:users";

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Account or authority name.
    pub name: String,
    /// Role.
    pub role: Role,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `name` is 1–64 characters of `a-z 0-9 . _ -` (the rule for UI accounts too).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Creates an API token for `name` with `role`; returns the token, shown once. Only its
/// digest is stored. Refuses an invalid name, or one that is a web UI account's.
pub async fn add_token(store: &ReviewStore, name: &str, role: Role) -> Result<String, StoreError> {
    if !valid_name(name) {
        return Err(StoreError::Invalid(
            "token names are 1-64 characters of a-z, 0-9, '.', '_' and '-'".into(),
        ));
    }
    let mut conn = store.connection();
    let is_account: bool = conn.hexists(store.key(UI_ACCOUNTS), name).await?;
    if is_account {
        return Err(StoreError::Invalid(format!(
            "{name} is a web UI account; API tokens need names of their own"
        )));
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = format!("tdk_{}", hex::encode(bytes));
    let principal = serde_json::to_string(&Principal {
        name: name.to_string(),
        role,
    })?;
    let _: () = redis::pipe()
        .hset(store.key("tokens"), digest(&token), principal)
        .ignore()
        .sadd(store.key("token_names"), name)
        .ignore()
        .query_async(&mut conn)
        .await?;
    Ok(token)
}

/// The principal of `token`, if it is a live token.
pub async fn principal(store: &ReviewStore, token: &str) -> Result<Option<Principal>, StoreError> {
    let found: Option<String> = store
        .connection()
        .hget(store.key("tokens"), digest(token))
        .await?;
    Ok(found.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// Deletes every token of `name`; returns how many there were. Takes effect at the next
/// request: every request looks its token up.
pub async fn revoke(store: &ReviewStore, name: &str) -> Result<usize, StoreError> {
    let mut conn = store.connection();
    let all: Vec<(String, String)> = conn.hgetall(store.key("tokens")).await?;
    let mut gone = 0;
    for (digest, json) in all {
        let p: Principal = serde_json::from_str(&json)?;
        if p.name == name {
            let n: usize = conn.hdel(store.key("tokens"), &digest).await?;
            gone += n;
        }
    }
    let _: () = conn.srem(store.key("token_names"), name).await?;
    Ok(gone)
}

/// Whether an API token uses `name`.
pub async fn name_taken(store: &ReviewStore, name: &str) -> Result<bool, StoreError> {
    Ok(store
        .connection()
        .sismember(store.key("token_names"), name)
        .await?)
}
