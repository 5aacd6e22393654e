//! The evidence of each case as Redis records: what was captured (or failed to be), the
//! capture queue with its backoff, which cases use each stored object, and when each case's
//! evidence is looked at again for purging.
//!
//! The bytes themselves live in the evidence store (`takedown-evidence`); Redis holds only
//! digests, types, sizes and errors. Keys (under the store's prefix):
//! - `evidence:<case>`: hash, item key (the URL, or `push:<sha256>`) → [`EvidenceItem`] JSON;
//! - `evidence:pending`: zset of `<case>\n<url>` scored by the next attempt (ms);
//! - `evidence:failed`: set of cases with a failed capture (the queue's filter);
//! - `evidence:refs:<sha256>`: set of cases using the object (it is deleted with the last);
//! - `evidence:retain`: zset of cases scored by their next retention check (ms).
//!
//! Every change is one Lua call that appends its audit entry, like every other change.

use super::handle::{ReviewStore, StoreError, ms, with_prelude};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use takedown_core::messages::PostText;
use time::OffsetDateTime;

/// Where an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemSource {
    /// Fetched by the review role from the case's URL.
    Fetch,
    /// Pushed by the platform (`PUT /api/v1/cases/{id}/media`).
    Push,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting for (another) capture attempt.
    Pending,
    /// Stored.
    Captured,
    /// The last attempt failed; `next_attempt_at` says whether another follows.
    Failed,
    /// Deleted by the retention rules.
    Purged,
}

/// One piece of evidence of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Fetched or pushed.
    pub source: ItemSource,
    /// The URL fetched (none for pushed media).
    pub url: Option<String>,
    /// Where it stands.
    pub status: ItemStatus,
    /// SHA-256 of the stored original (its address in the evidence store).
    pub sha256: Option<String>,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Whether a preview exists.
    pub has_preview: bool,
    /// For a video: the time of each tile of its preview strip, in ms (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyframes_ms: Vec<u64>,
    /// When it was stored.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub captured_at: Option<OffsetDateTime>,
    /// Capture attempts so far.
    pub attempts: u32,
    /// The last failure's stable code (`fetch_forbidden`, `fetch_failed`, `too_large`, …).
    pub error_code: Option<String>,
    /// The last failure's message.
    pub error: Option<String>,
    /// When the next attempt is due; `None` when no more follow.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_attempt_at: Option<OffsetDateTime>,
}

impl EvidenceItem {
    /// A fetch not yet attempted.
    pub fn pending(url: &str) -> Self {
        EvidenceItem {
            source: ItemSource::Fetch,
            url: Some(url.to_string()),
            status: ItemStatus::Pending,
            sha256: None,
            content_type: None,
            size: None,
            has_preview: false,
            keyframes_ms: Vec::new(),
            captured_at: None,
            attempts: 0,
            error_code: None,
            error: None,
            next_attempt_at: None,
        }
    }
}

/// What a recorded change does besides writing the item.
pub struct ItemChange<'a> {
    /// The item key (`url` or `push:<sha>`).
    pub key: &'a str,
    /// The item as it is now.
    pub item: &'a EvidenceItem,
    /// The audit action (`evidence.captured`, `evidence.capture_failed`, …).
    pub action: &'a str,
    /// The actor.
    pub actor: &'a str,
    /// The first retention check, set when the case has none yet.
    pub retain_at: Option<OffsetDateTime>,
}

/// Writes an item, its queue entry, failed-set membership, object reference and first retention
/// check, with its audit entry.
///
/// KEYS: audit, seq, items, pending, failed, retain, refs (a placeholder when there is no
/// object). ARGV: case, now, actor, action, item key, item JSON, audit JSON, next attempt ms or
/// '', sha or '', retain ms or ''. Returns the audit sequence number.
static RECORD: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
local member = ARGV[1] .. '\n' .. ARGV[5]
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[8], member)
else redis.call('ZREM', KEYS[4], member) end
if ARGV[9] ~= '' then redis.call('SADD', KEYS[7], ARGV[1]) end
if ARGV[10] ~= '' then redis.call('ZADD', KEYS[6], 'NX', ARGV[10], ARGV[1]) end
local failed = false
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
  if cjson.decode(v)['status'] == 'failed' then failed = true end
end
if failed then redis.call('SADD', KEYS[5], ARGV[1]) else redis.call('SREM', KEYS[5], ARGV[1]) end
return audit(ARGV[1], ARGV[3], ARGV[2], ARGV[4], '{}', ARGV[7], '')
"#,
    )
});

/// Marks every item of a case purged, deletes the post's text, drops its object references
/// and retention entry. KEYS: audit, seq, items, retain, failed, pending, post text. ARGV:
/// case, now, cause, refs key prefix. Returns the number of items purged, the text counting
/// as one.
static PURGE: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local items = redis.call('HGETALL', KEYS[3])
local n = 0
local shas = {}
for i = 1, #items, 2 do
  local item = cjson.decode(items[i + 1])
  if item['status'] ~= 'purged' then
    if type(item['sha256']) == 'string' then
      redis.call('SREM', ARGV[4] .. item['sha256'], ARGV[1])
      table.insert(shas, item['sha256'])
    end
    item['status'] = 'purged'
    item['next_attempt_at'] = cjson.null
    redis.call('HSET', KEYS[3], items[i], cjson.encode(item))
    redis.call('ZREM', KEYS[6], ARGV[1] .. '\n' .. items[i])
    n = n + 1
  end
end
local text = redis.call('DEL', KEYS[7])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
if n + text > 0 then
  audit(ARGV[1], 'system', ARGV[2], 'evidence.purged', '{}',
    cjson.encode({items = n, sha256 = shas, post_text = text == 1}), ARGV[3])
end
return n + text
"#,
    )
});

/// A capture waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCapture {
    /// The case.
    pub case_id: String,
    /// The URL to fetch (the item key).
    pub url: String,
}

/// How long a taken capture is its taker's: longer than a fetch (10 s) and a store write.
pub const CAPTURE_LEASE: time::Duration = time::Duration::minutes(2);

/// Takes due captures and leases them. KEYS: pending. ARGV: now, lease end, limit.
static TAKE_DUE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member)
end
return due
"#,
    )
});

impl ReviewStore {
    fn items_key(&self, case_id: &str) -> String {
        self.key(&format!("evidence:{case_id}"))
    }

    pub(crate) fn post_text_key(&self, case_id: &str) -> String {
        self.key(&format!("evidence:{case_id}:post-text"))
    }

    /// The post's text kept with the case (see [`ReviewStore::ingest_match`]), until its
    /// retention ends.
    pub async fn post_text(&self, case_id: &str) -> Result<Option<PostText>, StoreError> {
        let raw: Option<String> = self.connection().get(self.post_text_key(case_id)).await?;
        Ok(match raw {
            Some(raw) => Some(serde_json::from_str(&raw)?),
            None => None,
        })
    }

    /// Queues the capture of `url` for `case_id` (due now) unless the case already has it.
    pub async fn enqueue_capture(&self, case_id: &str, url: &str) -> Result<bool, StoreError> {
        let item = serde_json::to_string(&EvidenceItem::pending(url))?;
        let added: bool = self
            .connection()
            .hset_nx(self.items_key(case_id), url, item)
            .await?;
        if added {
            let _: () = self
                .connection()
                .zadd(
                    self.key("evidence:pending"),
                    format!("{case_id}\n{url}"),
                    ms(self.clock().now()),
                )
                .await?;
        }
        Ok(added)
    }

    /// Takes the captures due now, at most `limit`: each is leased to the caller for
    /// [`CAPTURE_LEASE`] (its due time moves past the lease in the same atomic step), so other
    /// replicas do not fetch it too; recording its outcome sets its next due time, and if the
    /// caller dies it is due again when the lease ends.
    pub async fn due_captures(&self, limit: usize) -> Result<Vec<DueCapture>, StoreError> {
        let now = ms(self.clock().now());
        let members: Vec<String> = TAKE_DUE
            .key(self.key("evidence:pending"))
            .arg(now)
            .arg(now + CAPTURE_LEASE.whole_milliseconds() as i64)
            .arg(limit)
            .invoke_async(&mut self.connection())
            .await?;
        Ok(members
            .into_iter()
            .filter_map(|m| {
                let (case_id, url) = m.split_once('\n')?;
                Some(DueCapture {
                    case_id: case_id.to_string(),
                    url: url.to_string(),
                })
            })
            .collect())
    }

    /// Takes a capture off the queue without recording anything (its item is gone, captured
    /// or purged).
    pub async fn drop_capture(&self, due: &DueCapture) -> Result<(), StoreError> {
        let _: () = self
            .connection()
            .zrem(
                self.key("evidence:pending"),
                format!("{}\n{}", due.case_id, due.url),
            )
            .await?;
        Ok(())
    }

    /// The evidence items of a case, by item key.
    pub async fn evidence_items(
        &self,
        case_id: &str,
    ) -> Result<Vec<(String, EvidenceItem)>, StoreError> {
        let all: Vec<(String, String)> = self.connection().hgetall(self.items_key(case_id)).await?;
        let mut items = all
            .into_iter()
            .map(|(k, v)| Ok((k, serde_json::from_str(&v)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(items)
    }

    /// One item of a case.
    pub async fn evidence_item(
        &self,
        case_id: &str,
        key: &str,
    ) -> Result<Option<EvidenceItem>, StoreError> {
        let v: Option<String> = self.connection().hget(self.items_key(case_id), key).await?;
        Ok(v.map(|v| serde_json::from_str(&v)).transpose()?)
    }

    /// Records a change of an item (captured, failed, pushed) with its audit entry.
    pub async fn record_evidence(
        &self,
        case_id: &str,
        change: ItemChange<'_>,
    ) -> Result<(), StoreError> {
        let [audit, seq] = self.audit_keys();
        let item = change.item;
        let sha = item.sha256.as_deref().unwrap_or("");
        let after = serde_json::json!({
            "key": change.key,
            "sha256": item.sha256,
            "content_type": item.content_type,
            "size": item.size,
            "attempt": item.attempts,
            "error_code": item.error_code,
        });
        let _: i64 = RECORD
            .key(audit)
            .key(seq)
            .key(self.items_key(case_id))
            .key(self.key("evidence:pending"))
            .key(self.key("evidence:failed"))
            .key(self.key("evidence:retain"))
            .key(self.key(&format!("evidence:refs:{sha}")))
            .arg(case_id)
            .arg(ms(self.clock().now()))
            .arg(change.actor)
            .arg(change.action)
            .arg(change.key)
            .arg(serde_json::to_string(item)?)
            .arg(after.to_string())
            .arg(
                item.next_attempt_at
                    .map(|t| ms(t).to_string())
                    .unwrap_or_default(),
            )
            .arg(sha)
            .arg(
                change
                    .retain_at
                    .map(|t| ms(t).to_string())
                    .unwrap_or_default(),
            )
            .invoke_async(&mut self.connection())
            .await?;
        Ok(())
    }

    /// Cases with a failed capture (the queue filter).
    pub async fn cases_with_failed_captures(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self
            .connection()
            .smembers(self.key("evidence:failed"))
            .await?;
        ids.sort();
        Ok(ids)
    }

    /// Cases whose evidence is due for a retention check, at most `limit`.
    pub async fn due_retention(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .connection()
            .zrangebyscore_limit(
                self.key("evidence:retain"),
                "-inf",
                ms(self.clock().now()),
                0,
                limit as isize,
            )
            .await?)
    }

    /// Looks at a case's evidence again at `at`.
    pub async fn retain_until(&self, case_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _: () = self
            .connection()
            .zadd(self.key("evidence:retain"), case_id, ms(at))
            .await?;
        Ok(())
    }

    /// The cases using stored object `sha`.
    pub async fn evidence_refs(&self, sha: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .connection()
            .smembers(self.key(&format!("evidence:refs:{sha}")))
            .await?)
    }

    /// Marks a case's evidence purged (after its bytes were deleted) and deletes the post's
    /// text, audited with `cause`. Returns how many items were purged (the text as one).
    pub async fn purge_evidence_records(
        &self,
        case_id: &str,
        cause: &str,
    ) -> Result<usize, StoreError> {
        let [audit, seq] = self.audit_keys();
        let n: i64 = PURGE
            .key(audit)
            .key(seq)
            .key(self.items_key(case_id))
            .key(self.key("evidence:retain"))
            .key(self.key("evidence:failed"))
            .key(self.key("evidence:pending"))
            .key(self.post_text_key(case_id))
            .arg(case_id)
            .arg(ms(self.clock().now()))
            .arg(cause)
            .arg(self.key("evidence:refs:"))
            .invoke_async(&mut self.connection())
            .await?;
        Ok(n as usize)
    }

    /// Appends an audit entry about a case's evidence that changes no state (a reveal, a
    /// read of an original, an export).
    pub async fn audit_evidence(
        &self,
        case_id: &str,
        actor: &str,
        action: &str,
        after: &serde_json::Value,
        cause: &str,
    ) -> Result<(), StoreError> {
        let [audit, seq] = self.audit_keys();
        let _: i64 = AUDIT_ONLY
            .key(audit)
            .key(seq)
            .arg(case_id)
            .arg(actor)
            .arg(ms(self.clock().now()))
            .arg(action)
            .arg(after.to_string())
            .arg(cause)
            .invoke_async(&mut self.connection())
            .await?;
        Ok(())
    }
}

/// KEYS: audit, seq. ARGV: subject, actor, now, action, after, cause.
static AUDIT_ONLY: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude("return audit(ARGV[1], ARGV[2], ARGV[3], ARGV[4], '{}', ARGV[5], ARGV[6])")
});
