//! The outbox of takedown actions: what is still to be published to Kafka, what the webhook
//! still has to deliver, and the write-once times (published, enforced) of each action.

use super::handle::{ReviewStore, SET_ONCE, StoreError, from_ms, ms, with_prelude};
use crate::model::TakedownAction;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::LazyLock;
use takedown_core::clock::Clock;
use time::OffsetDateTime;

/// Marks a takedown action published once Kafka acknowledged it: sets `published_at` once
/// (audited), takes it out of the Kafka outbox and, when a webhook is configured, puts it in
/// the webhook outbox, all in one step so a crash cannot lose the webhook delivery.
/// KEYS: audit, seq, action hash, outbox, webhook outbox. ARGV: action id, actor, now,
/// published time, webhook flag ('1' or '0'). Returns 1 if marked now, 0 if it was already.
static MARK_PUBLISHED: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HSETNX', KEYS[3], 'published_at', ARGV[4]) == 0 then return 0 end
if ARGV[5] == '1' then redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[1]) end
audit(ARGV[1], ARGV[2], ARGV[3], 'action.published_at', '{}',
  cjson.encode({published_at = ARGV[4]}), '')
return 1
"#,
    )
});

/// How far a platform's `enforced_at` may be ahead of our clock.
const ENFORCED_SKEW: time::Duration = time::Duration::minutes(5);

impl ReviewStore {
    /// Takedown actions not yet acknowledged by Kafka, oldest first.
    pub async fn pending_actions(&self, limit: usize) -> Result<Vec<TakedownAction>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrange(self.key("outbox"), 0, limit as isize - 1)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let json: Option<String> = conn.hget(self.key(&format!("action:{id}")), "json").await?;
            if let Some(json) = json {
                out.push(serde_json::from_str(&json)?);
            }
        }
        Ok(out)
    }

    /// Records a fact about an action once (`published_at`, `enforced_at`, `feedback_at`…),
    /// audited; returns whether it was new.
    pub async fn mark_action(
        &self,
        action_id: &str,
        field: &str,
        at: OffsetDateTime,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let [audit, seq] = self.audit_keys();
        let key = self.key(&format!("action:{action_id}"));
        let json: Option<String> = self.conn.clone().hget(&key, "json").await?;
        let Some(json) = json else {
            return Err(StoreError::NotFound(format!("action {action_id}")));
        };
        if field == "enforced_at" {
            // Write-once, so a wrong time could never be corrected: it must lie between the
            // decision (itself after receipt) and now, give or take the platform's clock skew.
            let action: TakedownAction = serde_json::from_str(&json)?;
            let now = self.clock.now();
            let problem = if at < action.decided_at {
                Some("before the decision that produced the action")
            } else if at > now + ENFORCED_SKEW {
                Some("in the future")
            } else {
                None
            };
            if let Some(reason) = problem {
                return Err(StoreError::InvalidField(crate::field::FieldError::new(
                    "enforced_at",
                    reason,
                )));
            }
        }
        let set: i64 = SET_ONCE
            .key(audit)
            .key(seq)
            .key(&key)
            .arg(action_id)
            .arg(actor)
            .arg(ms(self.clock.now()))
            .arg(field)
            .arg(ms(at))
            .arg(format!("action.{field}"))
            .invoke_async(&mut self.conn.clone())
            .await?;
        if field == "published_at" {
            let _: () = self
                .conn
                .clone()
                .zrem(self.key("outbox"), action_id)
                .await?;
        }
        Ok(set == 1)
    }

    /// The recorded times of an action (`published_at`, `enforced_at`), if any.
    pub async fn action_times(
        &self,
        action_id: &str,
    ) -> Result<HashMap<String, OffsetDateTime>, StoreError> {
        let fields: HashMap<String, String> = self
            .conn
            .clone()
            .hgetall(self.key(&format!("action:{action_id}")))
            .await?;
        Ok(fields
            .into_iter()
            .filter(|(k, _)| k.ends_with("_at"))
            .filter_map(|(k, v)| v.parse::<i64>().ok().map(|v| (k, from_ms(v))))
            .collect())
    }

    /// Marks an action acknowledged by Kafka: `published_at` set once, out of the outbox,
    /// and into the webhook outbox when `webhook` is on. Returns whether it was new.
    pub async fn mark_published(
        &self,
        action_id: &str,
        at: OffsetDateTime,
        webhook: bool,
    ) -> Result<bool, StoreError> {
        let [audit, seq] = self.audit_keys();
        let set: i64 = MARK_PUBLISHED
            .key(audit)
            .key(seq)
            .key(self.key(&format!("action:{action_id}")))
            .key(self.key("outbox"))
            .key(self.key("outbox:webhook"))
            .arg(action_id)
            .arg("publisher")
            .arg(ms(self.clock.now()))
            .arg(ms(at))
            .arg(if webhook { "1" } else { "0" })
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(set == 1)
    }

    /// Actions whose webhook delivery is due at the clock's now, oldest first, with the
    /// number of attempts made so far.
    pub async fn due_webhooks(
        &self,
        limit: usize,
    ) -> Result<Vec<(TakedownAction, u32)>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrangebyscore_limit(
                self.key("outbox:webhook"),
                "-inf",
                ms(self.clock.now()),
                0,
                limit as isize,
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (json, attempts): (Option<String>, Option<u32>) = redis::pipe()
                .hget(self.key(&format!("action:{id}")), "json")
                .hget(self.key(&format!("action:{id}")), "webhook_attempts")
                .query_async(&mut conn)
                .await?;
            match json {
                Some(json) => out.push((serde_json::from_str(&json)?, attempts.unwrap_or(0))),
                None => {
                    let _: () = conn.zrem(self.key("outbox:webhook"), &id).await?;
                }
            }
        }
        Ok(out)
    }

    /// Records a failed webhook attempt and when to try again.
    pub async fn webhook_failed(
        &self,
        action_id: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _: () = redis::pipe()
            .hincr(
                self.key(&format!("action:{action_id}")),
                "webhook_attempts",
                1,
            )
            .ignore()
            .cmd("ZADD")
            .arg(self.key("outbox:webhook"))
            .arg("XX")
            .arg(ms(retry_at))
            .arg(action_id)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Records the webhook's acknowledgement (`webhook_at`, once, audited) and takes the
    /// action out of the webhook outbox.
    pub async fn webhook_delivered(&self, action_id: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.mark_action(action_id, "webhook_at", now, "webhook")
            .await?;
        let _: () = self
            .conn
            .clone()
            .zrem(self.key("outbox:webhook"), action_id)
            .await?;
        Ok(())
    }
}
