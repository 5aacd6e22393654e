//! The background work of each replica: firing deadlines, returning expired leases, sealing
//! the audit trail and purging content whose preservation ended.
//!
//! Every replica runs one sweeper. It sleeps until the next deadline (capped by `poll`, so
//! deadlines added by other replicas are seen soon); firing is atomic in Redis, so replicas
//! never fire a deadline twice. Firing comes first: while deadlines keep falling due (a burst
//! of thousands in one second), the upkeep (leases, purge) runs once per `poll` and audit
//! seals wait up to ten polls.

use crate::audit;
use crate::store::{ReviewStore, StoreError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Deadlines taken per sweep call (one Lua step of about 10 ms at most).
const BATCH: usize = 1000;

/// Fires every deadline due now; returns how many fired. Two sweep calls are in flight at
/// once, so during a burst Redis starts the next batch as soon as one ends instead of waiting
/// a round trip for it.
pub async fn fire_due(store: &ReviewStore) -> Result<usize, StoreError> {
    let mut fired = 0;
    loop {
        let ((taken_a, fired_a), (taken_b, fired_b)) =
            tokio::try_join!(store.sweep(BATCH), store.sweep(BATCH))?;
        fired += fired_a + fired_b;
        if taken_a < BATCH || taken_b < BATCH {
            return Ok(fired);
        }
    }
}

/// Returns expired leases, seals the audit trail (every entry, or none when `seal` is false),
/// purges content whose preservation ended.
pub async fn upkeep(store: &ReviewStore, seal: bool) -> Result<(), StoreError> {
    store.reap_leases().await?;
    while seal && audit::seal(store, 10_000).await? == 10_000 {}
    store.purge_due(1000).await?;
    Ok(())
}

/// How many polls sealing may wait while a burst goes on.
const SEAL_DEFERRAL: u32 = 10;

/// Sweeps until `stop` turns true, waking at the next deadline or after `poll`.
pub async fn run(
    store: ReviewStore,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let mut last_upkeep: Option<Instant> = None;
    let mut last_seal = Instant::now();
    while !*stop.borrow() {
        let fired = fire_due(&store).await?;
        let now = store.clock().now();
        let next = store.next_deadline().await?;
        let more_due = next.is_some_and(|due| due <= now);
        // A burst is under way while deadlines fire or stay due: the upkeep then runs once per
        // `poll` and seals only once per `SEAL_DEFERRAL` polls (sealing reads and hashes every
        // new audit entry); between bursts it runs on every pass and seals everything.
        let burst = fired > 0 || more_due;
        if !burst || last_upkeep.is_none_or(|at| at.elapsed() >= poll) {
            let seal = !burst || last_seal.elapsed() >= poll * SEAL_DEFERRAL;
            upkeep(&store, seal).await?;
            last_upkeep = Some(Instant::now());
            if seal {
                last_seal = Instant::now();
            }
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
