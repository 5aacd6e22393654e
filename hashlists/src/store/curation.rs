//! Curation and feedback: disabling an entry (it stays listed but stops matching), re-enabling
//! lapsed disablements, and counting reviewers' verdicts per entry.

use super::handle::{Store, StoreError, now_ms};
use crate::model::{Change, Disabled, ListId, parse_entry_key};
use redis::AsyncCommands;
use serde::Serialize;

/// A reviewer's verdict on a match, fed back to the list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The match was terrorist content.
    TruePositive,
    /// The match was not.
    FalsePositive,
}

/// Feedback counts of one entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// Confirmed matches.
    pub true_positives: u64,
    /// Rejected matches.
    pub false_positives: u64,
}

impl Store {
    /// Disables an entry (it stays listed but stops matching), until `until_ms` if given.
    pub async fn disable(
        &self,
        list: &ListId,
        key: &str,
        reason: &str,
        actor: &str,
        until_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut writer = self.writer(list, actor).await?;
        let result: Result<u64, StoreError> = async {
            let mut entry =
                self.entry(list, key)
                    .await?
                    .ok_or_else(|| StoreError::NoSuchEntry {
                        list: list.clone(),
                        key: key.to_string(),
                    })?;
            entry.disabled = Some(Disabled {
                reason: reason.to_string(),
                actor: actor.to_string(),
                at_ms: now_ms(),
                until_ms,
            });
            writer.stage(vec![Change::Disabled { entry }]).await?;
            writer.commit(None).await.map(|v| v.unwrap_or(0))
        }
        .await;
        if result.is_err() {
            writer.abort().await?;
        }
        result
    }

    /// Re-enables entries whose disablement has lapsed at `now_ms`; returns the new version.
    pub async fn expire_disables(
        &self,
        list: &ListId,
        now_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let due: Vec<String> = conn
            .zrangebyscore(&keys.disabled_until, "-inf", now_ms)
            .await?;
        if due.is_empty() {
            return Ok(None);
        }
        let mut writer = self.writer(list, "expiry").await?;
        let mut changes = Vec::new();
        for key in due {
            if let Some(mut entry) = self.entry(list, &key).await?
                && entry.disabled.is_some()
                && !entry.is_disabled_at(now_ms)
            {
                entry.disabled = None;
                changes.push(Change::Enabled { entry });
            }
        }
        writer.stage(changes).await?;
        writer.commit(None).await
    }

    /// Records a reviewer's verdict on a match against an entry.
    pub async fn record_feedback(
        &self,
        list: &ListId,
        key: &str,
        verdict: Verdict,
    ) -> Result<Feedback, StoreError> {
        parse_entry_key(key).map_err(|e| StoreError::InvalidValue(e.0))?;
        let keys = self.keys(list);
        let field = match verdict {
            Verdict::TruePositive => format!("{key}|tp"),
            Verdict::FalsePositive => format!("{key}|fp"),
        };
        let mut conn = self.conn.clone();
        conn.hincr::<_, _, _, i64>(&keys.feedback, field, 1).await?;
        self.feedback(list, key).await
    }

    /// The feedback counts of an entry.
    pub async fn feedback(&self, list: &ListId, key: &str) -> Result<Feedback, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let (tp, fp): (Option<u64>, Option<u64>) = redis::pipe()
            .hget(&keys.feedback, format!("{key}|tp"))
            .hget(&keys.feedback, format!("{key}|fp"))
            .query_async(&mut conn)
            .await?;
        Ok(Feedback {
            true_positives: tp.unwrap_or(0),
            false_positives: fp.unwrap_or(0),
        })
    }
}
