//! What a reviewer whose role may not see every queue is told about open work: counts,
//! the queue's head and lists of case ids with the cases of hidden queues taken out, so no
//! answer (the API's queue counts, a case's related cases) gives away that a hidden case
//! exists. The web queue does the same from its index; the API has no index, so this reads
//! the sorted sets and each case's queue field in pipelined chunks of [`CHUNK`].

use super::handle::{ReviewStore, StoreError};
use crate::model::Role;
use crate::routing::RoutingConfig;
use redis::AsyncCommands;

/// How many case ids are read (and checked in one pipeline) at a time.
pub const CHUNK: isize = 1000;

/// Open work as one role may see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VisibleCounts {
    /// Cases waiting in the main queue.
    pub queued: u64,
    /// Escalated cases waiting in the senior queue.
    pub senior_queued: u64,
    /// Claimed cases.
    pub claimed: u64,
    /// Pending deadline events (escalation points and breaches) of those cases.
    pub pending_deadlines: u64,
}

impl ReviewStore {
    /// Which of `ids` `role` may see (see [`ReviewStore::may_see_case`]), in order; one
    /// pipeline for all of them.
    pub async fn may_see_cases(&self, ids: &[String], role: Role) -> Result<Vec<bool>, StoreError> {
        let config = self.routing().await?;
        self.may_see_with(&config, ids, role).await
    }

    async fn may_see_with(
        &self,
        config: &RoutingConfig,
        ids: &[String],
        role: Role,
    ) -> Result<Vec<bool>, StoreError> {
        if ids.is_empty() || config.sees_all(role) {
            return Ok(vec![true; ids.len()]);
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET")
                .arg(self.case_key(id))
                .arg("route")
                .arg("queue");
        }
        let fields: Vec<(Option<String>, Option<String>)> =
            pipe.query_async(&mut self.conn.clone()).await?;
        let senior = self.queue_key(true);
        Ok(fields
            .into_iter()
            .map(|(route, sorted)| {
                config.may_see(route.as_deref(), role)
                    || (role == Role::SeniorModerator && sorted.as_deref() == Some(&senior))
            })
            .collect())
    }

    /// `ids` without the cases `role` may not see, order kept.
    pub async fn visible_only(
        &self,
        ids: &[String],
        role: Role,
    ) -> Result<Vec<String>, StoreError> {
        let seen = self.may_see_cases(ids, role).await?;
        Ok(ids
            .iter()
            .zip(seen)
            .filter(|(_, s)| *s)
            .map(|(id, _)| id.clone())
            .collect())
    }

    /// [`ReviewStore::counts`] as `role` may see them. A role that sees every queue gets the
    /// sorted sets' sizes; any other reads every open case's queue, [`CHUNK`] at a time.
    pub async fn counts_for(&self, role: Role) -> Result<VisibleCounts, StoreError> {
        let config = self.routing().await?;
        if config.sees_all(role) {
            let (queued, senior_queued, claimed, pending_deadlines) = self.counts().await?;
            return Ok(VisibleCounts {
                queued,
                senior_queued,
                claimed,
                pending_deadlines,
            });
        }
        let case = |m: &str| m.to_string();
        // Deadline members are `case|run|kind`: counted by their case.
        let of_deadline = |m: &str| m.split('|').next().unwrap_or_default().to_string();
        let queued = self
            .count_visible(&config, &self.queue_key(false), role, case)
            .await?;
        let senior_queued = self
            .count_visible(&config, &self.queue_key(true), role, case)
            .await?;
        let claimed = self
            .count_visible(&config, &self.key("leases"), role, case)
            .await?;
        let pending_deadlines = self
            .count_visible(&config, &self.key("deadlines"), role, of_deadline)
            .await?;
        Ok(VisibleCounts {
            queued,
            senior_queued,
            claimed,
            pending_deadlines,
        })
    }

    /// The first `n` case ids of the main queue that `role` may see.
    pub async fn queue_head_for(&self, n: usize, role: Role) -> Result<Vec<String>, StoreError> {
        let config = self.routing().await?;
        if config.sees_all(role) {
            return self.queue_head(n).await;
        }
        let key = self.queue_key(false);
        let mut out = Vec::new();
        let mut start = 0isize;
        while out.len() < n {
            let ids: Vec<String> = self
                .conn
                .clone()
                .zrange(&key, start, start + CHUNK - 1)
                .await?;
            if ids.is_empty() {
                break;
            }
            start += ids.len() as isize;
            let seen = self.may_see_with(&config, &ids, role).await?;
            out.extend(
                ids.into_iter()
                    .zip(seen)
                    .filter(|(_, s)| *s)
                    .map(|(id, _)| id),
            );
        }
        out.truncate(n);
        Ok(out)
    }

    /// How many members of sorted set `key` name (through `case_of`) a case `role` may see,
    /// read [`CHUNK`] at a time.
    async fn count_visible(
        &self,
        config: &RoutingConfig,
        key: &str,
        role: Role,
        case_of: impl Fn(&str) -> String,
    ) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = 0isize;
        loop {
            let members: Vec<String> = self
                .conn
                .clone()
                .zrange(key, start, start + CHUNK - 1)
                .await?;
            if members.is_empty() {
                return Ok(total);
            }
            start += members.len() as isize;
            let ids: Vec<String> = members.iter().map(|m| case_of(m)).collect();
            let seen = self.may_see_with(config, &ids, role).await?;
            total += seen.iter().filter(|s| **s).count() as u64;
        }
    }
}
