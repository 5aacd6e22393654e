//! The background work of each replica: firing deadlines, returning expired leases, sealing
//! the audit trail and purging content whose preservation ended.
//!
//! Every replica runs one sweeper. It sleeps until the next deadline (capped by `poll`, so
//! deadlines added by other replicas are seen soon); firing is atomic in Redis, so replicas
//! never fire a deadline twice.

use crate::audit;
use crate::store::{ReviewStore, StoreError};
use std::time::Duration;
use tokio::sync::watch;

/// Runs one pass: fires everything due, reaps leases, seals the audit trail, purges.
/// Returns the number of deadlines fired.
pub async fn pass(store: &ReviewStore) -> Result<usize, StoreError> {
    let mut fired = 0;
    loop {
        let (taken, f) = store.sweep(1000).await?;
        fired += f;
        if taken < 1000 {
            break;
        }
    }
    store.reap_leases().await?;
    while audit::seal(store, 10_000).await? == 10_000 {}
    store.purge_due(1000).await?;
    Ok(fired)
}

/// Sweeps until `stop` turns true, waking at the next deadline or after `poll`.
pub async fn run(
    store: ReviewStore,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    while !*stop.borrow() {
        pass(&store).await?;
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
