//! The audit trail: sealing it into a SHA-256 hash chain and verifying the chain.
//!
//! Transitions append their entries atomically in Lua (see [`crate::lua`]), but Redis's Lua
//! has no SHA-256, so the chain is computed here: a sealer reads entries in stream order and
//! stores `hash_n = SHA-256(hash_{n-1} || entry_n)` for each, with the head (last sealed id
//! and hash). Entries also carry a gapless sequence number. [`verify`] recomputes the chain:
//! an edited, inserted, reordered or deleted entry changes every later hash or leaves a gap,
//! and a deleted tail no longer reaches the sealed head. Publish the head elsewhere
//! (`GET /api/v1/audit/head`) to anchor it against someone who can rewrite all of Redis.

use crate::store::{ReviewStore, StoreError};
use redis::AsyncCommands;
use redis::streams::StreamRangeReply;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Seals audit entries: if the sealed head is still `expected`, stores each entry's chain hash
/// and moves the head. KEYS: seals hash, head hash. ARGV: expected head id ('' for none), new
/// head id, new head hash, then (entry id, hash) pairs. Returns 1, or 0 if another replica
/// sealed first.
static SEAL: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
local head = redis.call('HGET', KEYS[2], 'id') or ''
if head ~= ARGV[1] then return 0 end
-- Up to 500 entries per HSET (Lua's unpack has a stack limit).
for i = 4, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'hash', ARGV[3])
return 1
"#,
    )
});

/// One audit entry as read from the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The stream id.
    pub id: String,
    /// Fields in a fixed order: seq, subject, actor, at, action, before, after, cause.
    pub fields: Vec<(String, String)>,
}

/// The fields every entry has, in hashing order.
pub const FIELDS: [&str; 8] = [
    "seq", "subject", "actor", "at", "action", "before", "after", "cause",
];

impl AuditEntry {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v)
    }
}

/// The chain link after `prev` for `entry`: length-prefixed id and fields, so no two
/// different entries hash alike.
pub fn link(prev: &[u8; 32], entry: &AuditEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    let mut part = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    part(&entry.id);
    for (k, v) in &entry.fields {
        part(k);
        part(v);
    }
    h.finalize().into()
}

fn parse(reply: StreamRangeReply) -> Vec<AuditEntry> {
    reply
        .ids
        .into_iter()
        .map(|sid| {
            let mut fields: Vec<(String, String)> = sid
                .map
                .into_iter()
                .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap_or_default()))
                .collect();
            fields.sort_by_key(|(k, _)| FIELDS.iter().position(|f| f == k).unwrap_or(FIELDS.len()));
            AuditEntry { id: sid.id, fields }
        })
        .collect()
}

/// Reads up to `count` entries after `after` (exclusive; `None` = from the start).
pub async fn read(
    store: &ReviewStore,
    after: Option<&str>,
    count: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let start = after.map_or("-".to_string(), |id| format!("({id}"));
    let reply: StreamRangeReply = store
        .connection()
        .xrange_count(store.key("audit"), start, "+", count)
        .await?;
    Ok(parse(reply))
}

/// Reads up to `count` entries before `before` (exclusive; `None` = from the newest), newest
/// first: the audit browser's pages.
pub async fn read_back(
    store: &ReviewStore,
    before: Option<&str>,
    count: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let end = before.map_or("+".to_string(), |id| format!("({id}"));
    let reply: StreamRangeReply = store
        .connection()
        .xrevrange_count(store.key("audit"), end, "-", count)
        .await?;
    Ok(parse(reply))
}

/// The entries about one subject (a case, order or action), oldest first.
pub async fn for_subject(
    store: &ReviewStore,
    subject: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    for_subjects(store, &[subject.to_string()], limit).await
}

/// The entries about any of `subjects` (a case and its actions), oldest first. Scans the
/// whole trail: an audit tool, not a hot path.
pub async fn for_subjects(
    store: &ReviewStore,
    subjects: &[String],
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = read(store, after.as_deref(), 5000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        out.extend(
            page.into_iter()
                .filter(|e| subjects.iter().any(|s| s == e.field("subject"))),
        );
        if out.len() >= limit {
            out.truncate(limit);
            break;
        }
    }
    Ok(out)
}

/// The sealed head: the last sealed entry id and its chain hash (hex).
pub async fn head(store: &ReviewStore) -> Result<Option<(String, String)>, StoreError> {
    let (id, hash): (Option<String>, Option<String>) = redis::pipe()
        .hget(store.key("audit:head"), "id")
        .hget(store.key("audit:head"), "hash")
        .query_async(&mut store.connection())
        .await?;
    Ok(id.zip(hash))
}

/// Seals up to `limit` unsealed entries; returns how many. Safe to run on every replica: a
/// replica that loses the race seals nothing and tries again.
pub async fn seal(store: &ReviewStore, limit: usize) -> Result<usize, StoreError> {
    let head = head(store).await?;
    let mut prev = [0u8; 32];
    if let Some((_, hash)) = &head {
        hex::decode_to_slice(hash, &mut prev).map_err(|_| StoreError::State("corrupt head"))?;
    }
    let entries = read(store, head.as_ref().map(|(id, _)| id.as_str()), limit).await?;
    let Some(last) = entries.last() else {
        return Ok(0);
    };
    let script = &*SEAL;
    let mut inv = script.prepare_invoke();
    inv.key(store.key("audit:seals"))
        .key(store.key("audit:head"));
    let mut hashes = Vec::with_capacity(entries.len());
    for e in &entries {
        prev = link(&prev, e);
        hashes.push((e.id.clone(), hex::encode(prev)));
    }
    inv.arg(head.as_ref().map_or("", |(id, _)| id.as_str()))
        .arg(&last.id)
        .arg(hex::encode(prev));
    for (id, h) in &hashes {
        inv.arg(id).arg(h);
    }
    let ok: i64 = inv.invoke_async(&mut store.connection()).await?;
    Ok(if ok == 1 { entries.len() } else { 0 })
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: u64,
    /// Entries whose seal matched the recomputed chain.
    pub sealed_ok: u64,
    /// Entries after the sealed head (not yet sealed).
    pub unsealed: u64,
    /// Problems, each naming the entry; empty means intact.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether the trail is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Recomputes the whole chain and checks it against the seals, the sequence numbers and the
/// head.
pub async fn verify(store: &ReviewStore) -> Result<Verification, StoreError> {
    let mut conn = store.connection();
    let head = head(store).await?;
    let mut v = Verification::default();
    let mut prev = [0u8; 32];
    let mut after: Option<String> = None;
    let mut expected_seq = 1u64;
    let mut past_head = head.is_none();
    let mut head_seen = false;
    loop {
        let page = read(store, after.as_deref(), 5000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        let ids: Vec<&str> = page.iter().map(|e| e.id.as_str()).collect();
        let seals: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(store.key("audit:seals"))
            .arg(&ids)
            .query_async(&mut conn)
            .await?;
        for (e, seal) in page.iter().zip(seals) {
            v.entries += 1;
            prev = link(&prev, e);
            let seq: u64 = e.field("seq").parse().unwrap_or(0);
            if seq != expected_seq {
                v.problems.push(format!(
                    "{}: sequence {seq}, expected {expected_seq} (entries missing or inserted)",
                    e.id
                ));
            }
            expected_seq = seq + 1;
            if past_head {
                v.unsealed += 1;
                continue;
            }
            match seal {
                Some(s) if s == hex::encode(prev) => v.sealed_ok += 1,
                Some(_) => v.problems.push(format!(
                    "{}: chain hash differs from its seal (altered)",
                    e.id
                )),
                None => v
                    .problems
                    .push(format!("{}: sealed range entry has no seal", e.id)),
            }
            if head.as_ref().is_some_and(|(id, _)| *id == e.id) {
                head_seen = true;
                past_head = true;
                if head.as_ref().is_some_and(|(_, h)| *h != hex::encode(prev)) {
                    v.problems.push(format!("{}: head hash differs", e.id));
                }
            }
        }
    }
    if let Some((id, _)) = &head
        && !head_seen
    {
        v.problems
            .push(format!("sealed head {id} is missing (entries deleted)"));
    }
    let counter: Option<u64> = conn.get(store.key("audit:seq")).await?;
    if counter.unwrap_or(0) != expected_seq - 1 {
        v.problems.push(format!(
            "sequence counter {} but last entry {} (tail deleted)",
            counter.unwrap_or(0),
            expected_seq - 1
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, action: &str) -> AuditEntry {
        AuditEntry {
            id: id.into(),
            fields: vec![("seq".into(), "1".into()), ("action".into(), action.into())],
        }
    }

    #[test]
    fn links_depend_on_everything_before() {
        let a = link(&[0; 32], &entry("1-0", "x"));
        assert_ne!(a, link(&[1; 32], &entry("1-0", "x")));
        assert_ne!(a, link(&[0; 32], &entry("1-0", "y")));
        assert_ne!(a, link(&[0; 32], &entry("1-1", "x")));
        assert_eq!(a, link(&[0; 32], &entry("1-0", "x")));
    }
}
