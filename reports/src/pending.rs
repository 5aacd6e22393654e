//! The statements-of-reasons outbox's pending count, published in Redis for the review role's
//! `takedown_sor_outbox_pending` gauge.
//!
//! The outbox lives in the report directory (files), which the review replicas need not
//! mount, and counting it means reading the whole ledger. So whoever has just counted it
//! (`takedown report sor submit` and `sor status`, the reports page) writes the count and the
//! time into the hash `<prefix>:sor:pending`, and each review replica reads that one hash when
//! it refreshes its gauges: cheap, the same value on every replica, and current as of the last
//! submission run (which is when it can change, apart from new decisions).
//!
//! It also holds the statements a person queued again from the reports page (the set
//! `<prefix>:sor:retry`): the page may only read the report directory (on Kubernetes it is
//! mounted read-only), so the next `sor submit` or `sor status` run, the outbox's one writer,
//! moves them into the outbox ([`apply_retries`]).

use crate::outbox::{Outbox, OutboxError, Outcome, Status};
use std::collections::BTreeSet;

/// The hash holding the count (`pending`) and when it was taken (`at`, Unix ms).
pub fn pending_key(prefix: &str) -> String {
    format!("{prefix}:sor:pending")
}

/// Records that `pending` statements wait for the database, counted at `at_ms` (Unix ms).
/// An older count never replaces a newer one (two runs may finish out of order).
pub async fn publish(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    pending: u64,
    at_ms: i64,
) -> redis::RedisResult<()> {
    redis::Script::new(
        "local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1') \
         if tonumber(ARGV[2]) >= at then redis.call('HSET', KEYS[1], 'pending', ARGV[1], 'at', ARGV[2]) end \
         return 1",
    )
    .key(pending_key(prefix))
    .arg(pending)
    .arg(at_ms)
    .invoke_async::<i64>(conn)
    .await?;
    Ok(())
}

/// The last published count and its time, `None` before any count was published.
pub async fn read(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> redis::RedisResult<Option<(u64, i64)>> {
    let (pending, at): (Option<u64>, Option<i64>) = redis::cmd("HMGET")
        .arg(pending_key(prefix))
        .arg("pending")
        .arg("at")
        .query_async(conn)
        .await?;
    Ok(pending.zip(at))
}

/// The set of puids queued again from the reports page.
pub fn retry_key(prefix: &str) -> String {
    format!("{prefix}:sor:retry")
}

/// Queues a refused statement again for the next submission run; `false` when it already was.
pub async fn queue_retry(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    puid: &str,
) -> redis::RedisResult<bool> {
    let added: u64 = redis::cmd("SADD")
        .arg(retry_key(prefix))
        .arg(puid)
        .query_async(conn)
        .await?;
    Ok(added == 1)
}

/// The puids queued again and not yet moved into the outbox.
pub async fn queued_retries(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> redis::RedisResult<BTreeSet<String>> {
    redis::cmd("SMEMBERS")
        .arg(retry_key(prefix))
        .query_async(conn)
        .await
}

/// Writes a retry line into `outbox` for each queued puid that is still refused, then takes
/// them off the queue (a crash in between queues them again: a second retry line is
/// harmless); returns how many were queued again.
pub async fn apply_retries(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    outbox: &Outbox,
) -> Result<u64, OutboxError> {
    let queued = queued_retries(conn, prefix).await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let outcomes = outbox.outcomes()?;
    let again: Vec<(String, Outcome)> = queued
        .iter()
        .filter(|p| matches!(outcomes.get(*p), Some(Outcome::Refused { .. })))
        .map(|p| (p.clone(), Outcome::Retry))
        .collect();
    outbox.record(&again)?;
    let _: u64 = redis::cmd("SREM")
        .arg(retry_key(prefix))
        .arg(queued.iter().collect::<Vec<_>>())
        .query_async(conn)
        .await?;
    Ok(again.len() as u64)
}

/// The outbox's state as it will be once the queued retries are applied: each queued refused
/// statement counts as pending again.
pub fn with_queued(mut status: Status, queued: &BTreeSet<String>) -> Status {
    let before = status.refused.len();
    status.refused.retain(|(puid, _, _)| !queued.contains(puid));
    status.pending += (before - status.refused.len()) as u64;
    status
}
