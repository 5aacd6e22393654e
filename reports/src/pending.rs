//! The statements-of-reasons outbox's pending count, published in Redis for the review role's
//! `takedown_sor_outbox_pending` gauge.
//!
//! The outbox lives in the report directory (files), which the review replicas need not
//! mount, and counting it means reading the whole ledger. So whoever has just counted it
//! (`takedown report sor submit` and `sor status`, the reports page) writes the count and the
//! time into the hash `<prefix>:sor:pending`, and each review replica reads that one hash when
//! it refreshes its gauges: cheap, the same value on every replica, and current as of the last
//! submission run (which is when it can change, apart from new decisions).

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
