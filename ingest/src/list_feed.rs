//! Keeping in-memory views of the hash lists current.
//!
//! Two consumers hold lists in memory: the match stage (its index and catalog) and the ingest
//! stage (its text rules). Both need the same thing from the list store: every list once at
//! start, then the changes of each new version as it is committed, without a rebuild. This
//! module runs that loop once for any [`ListSink`], survives the store's outages, and says in
//! the stage's metrics how current the view is.

use crate::metrics::StageMetrics;
use std::sync::Arc;
use std::time::Duration;
use takedown_hashlists::follow::{Follower, ListUpdate};
use takedown_hashlists::model::{ListId, ListMeta};
use takedown_hashlists::store::{Store, StoreError};

/// An in-memory view of the lists that applies updates as they come.
pub trait ListSink: Clone + Send + Sync + 'static {
    /// Applies one update of one list. Errors are the sink's to log: one bad update must not
    /// stop the others from arriving.
    fn apply(&self, update: &ListUpdate, meta: &ListMeta);
}

/// Two sinks fed by one follower (the ingest stage's text rules and PDQ conventions).
impl<A: ListSink, B: ListSink> ListSink for (A, B) {
    fn apply(&self, update: &ListUpdate, meta: &ListMeta) {
        self.0.apply(update, meta);
        self.1.apply(update, meta);
    }
}

/// The list an update belongs to.
pub fn update_list(update: &ListUpdate) -> &ListId {
    match update {
        ListUpdate::Full { list, .. } | ListUpdate::Changes { list, .. } => list,
    }
}

/// How long following waits before resuming after the store failed (doubling up to
/// [`MAX_RETRY`]).
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Follows the store: loads every list into `sink`, calls `ready`, then applies each new
/// version as it is published (or found by polling every `poll_every`). Loading fails with
/// the store's error; after that a failure of the store is logged, counted
/// (`list_follow_failures`) and followed by a resume, on a new connection, from the versions
/// already applied, so
/// one Redis outage does not leave the lists frozen for the process's life. Each poll that
/// finds every list current sets `lists_synced` to the time, which alerts watch.
pub async fn follow<S: ListSink>(
    sink: S,
    mut store: Store,
    poll_every: Duration,
    metrics: Arc<StageMetrics>,
    ready: impl FnOnce() + Send,
) -> Result<(), StoreError> {
    let mut follower = Follower::new(store.clone());
    for update in follower.poll().await? {
        apply_with_meta(&sink, &store, &update).await;
    }
    let mut versions = follower.versions().clone();
    mark_synced(&metrics);
    ready();
    let mut retry = FIRST_RETRY;
    loop {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let synced = metrics.clone();
        let run = tokio::spawn(
            Follower::resume(store.clone(), versions.clone()).run_reporting(
                poll_every,
                move |u| tx.send(u).is_ok(),
                move || mark_synced(&synced),
            ),
        );
        while let Some(update) = rx.recv().await {
            apply_with_meta(&sink, &store, &update).await;
            let (list, version) = match &update {
                ListUpdate::Full { list, version, .. } => (list, *version),
                ListUpdate::Changes { list, to, .. } => (list, *to),
            };
            versions.insert(list.clone(), version);
            retry = FIRST_RETRY;
        }
        // It never ends by itself but when the store's connection closes (its notifications
        // end) or fails.
        let error = match run.await {
            Ok(Ok(())) => "the list store's notification connection closed".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("follower task: {e}"),
        };
        metrics.list_follow_failures.inc();
        tracing::error!(error = %error, retry_in_ms = retry.as_millis() as u64,
            "Following the list store failed; resuming from the versions applied.");
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
        // A connection that saw Redis go away stays broken: resume on a new one.
        match store.reconnect().await {
            Ok(fresh) => store = fresh,
            Err(e) => tracing::warn!(error = %e, "Reconnecting to the list store failed."),
        }
    }
}

fn mark_synced(metrics: &StageMetrics) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    metrics.lists_synced.set(now);
}

async fn apply_with_meta<S: ListSink>(sink: &S, store: &Store, update: &ListUpdate) {
    let list = update_list(update);
    match store.meta(list).await {
        Ok(meta) => sink.apply(update, &meta),
        Err(e) => tracing::error!(list = %list, error = %e, "Reading list metadata failed."),
    }
}

/// Starts following in the background and returns once every list is loaded, so a stage
/// never processes a message against lists it has not read yet.
pub async fn follow_until_loaded<S: ListSink>(
    sink: S,
    store: Store,
    poll_every: Duration,
    metrics: Arc<StageMetrics>,
) -> Result<tokio::task::JoinHandle<Result<(), StoreError>>, StoreError> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(follow(sink, store, poll_every, metrics, move || {
        let _ = ready_tx.send(());
    }));
    if ready_rx.await.is_err() {
        return Err(match task.await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => StoreError::InvalidValue("the list follower stopped".into()),
            Err(e) => StoreError::InvalidValue(format!("follower task: {e}")),
        });
    }
    Ok(task)
}
