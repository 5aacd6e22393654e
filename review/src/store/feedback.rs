//! Reviewer feedback to the hash lists: the jobs that tell a list a match was a true or false
//! positive, each sent once.

use super::handle::{ReviewStore, SET_ONCE, StoreError, ms};
use redis::AsyncCommands;
use takedown_core::clock::Clock;
use takedown_hashlists::store::Verdict;

impl ReviewStore {
    /// Reviewer feedback waiting to reach the hash lists: `(job, case id, verdict)`, oldest
    /// first. A job is queued by each final decision on a case with matches.
    pub async fn pending_feedback(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, String, Verdict)>, StoreError> {
        let jobs: Vec<String> = self
            .conn
            .clone()
            .zrange(self.key("feedback"), 0, limit as isize - 1)
            .await?;
        Ok(jobs
            .into_iter()
            .filter_map(|job| {
                let (case, rest) = job.split_once('|')?;
                let verdict = match rest.rsplit('|').next()? {
                    "tp" => Verdict::TruePositive,
                    "fp" => Verdict::FalsePositive,
                    _ => return None,
                };
                Some((job.clone(), case.to_string(), verdict))
            })
            .collect())
    }

    /// Marks one match of a feedback job as sent; returns false if it already was (a job
    /// resumed after a crash skips what it sent).
    pub async fn feedback_sent(&self, job: &str, match_id: &str) -> Result<bool, StoreError> {
        let new: i64 = self
            .conn
            .clone()
            .hset_nx(self.key(&format!("feedback:{job}")), match_id, 1)
            .await?;
        Ok(new == 1)
    }

    /// Whether one match of a feedback job was sent.
    pub async fn feedback_was_sent(&self, job: &str, match_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .clone()
            .hexists(self.key(&format!("feedback:{job}")), match_id)
            .await?)
    }

    /// Finishes a feedback job (audited against its case).
    pub async fn feedback_done(
        &self,
        job: &str,
        case_id: &str,
        sent: usize,
    ) -> Result<(), StoreError> {
        let [audit, seq] = self.audit_keys();
        let mut conn = self.conn.clone();
        let _: i64 = SET_ONCE
            .key(audit)
            .key(seq)
            .key(self.key(&format!("feedback:{job}")))
            .arg(case_id)
            .arg("feedback")
            .arg(ms(self.clock.now()))
            .arg("entries_sent")
            .arg(sent)
            .arg("feedback.sent")
            .invoke_async(&mut conn)
            .await?;
        let _: () = redis::pipe()
            .zrem(self.key("feedback"), job)
            .ignore()
            .expire(self.key(&format!("feedback:{job}")), 86_400)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
