//! The background work of each replica: firing deadlines, returning expired leases, sealing
//! the audit trail and purging content whose preservation ended.
//!
//! Every replica runs one sweeper. It sleeps until the next deadline (capped by `poll`, so
//! deadlines added by other replicas are seen soon); firing is atomic in Redis, so replicas
//! never fire a deadline twice. Firing comes first: while deadlines keep falling due (a burst
//! of thousands in one second), the upkeep (leases, audit seals, purge) waits, at most `poll`.

use crate::audit;
use crate::store::{ReviewStore, StoreError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Fires every deadline due now, 1,000 per Redis call; returns how many fired.
pub async fn fire_due(store: &ReviewStore) -> Result<usize, StoreError> {
    let mut fired = 0;
    loop {
        let (taken, f) = store.sweep(1000).await?;
        fired += f;
        if taken < 1000 {
            return Ok(fired);
        }
    }
}

/// Returns expired leases, seals the audit trail, purges content whose preservation ended.
pub async fn upkeep(store: &ReviewStore) -> Result<(), StoreError> {
    store.reap_leases().await?;
    while audit::seal(store, 10_000).await? == 10_000 {}
    store.purge_due(1000).await?;
    Ok(())
}

/// Sweeps until `stop` turns true, waking at the next deadline or after `poll`.
pub async fn run(
    store: ReviewStore,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let mut last_upkeep: Option<Instant> = None;
    while !*stop.borrow() {
        fire_due(&store).await?;
        let now = store.clock().now();
        let next = store.next_deadline().await?;
        let more_due = next.is_some_and(|due| due <= now);
        if !more_due || last_upkeep.is_none_or(|at| at.elapsed() >= poll) {
            upkeep(&store).await?;
            last_upkeep = Some(Instant::now());
        }
        if more_due {
            continue;
        }
        let now = store.clock().now();
        let wait = match store.next_deadline().await? {
            Some(due) if due > now => (due - now).try_into().unwrap_or(poll).min(poll),
            Some(_) => Duration::ZERO,
            None => poll,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    Ok(())
}
