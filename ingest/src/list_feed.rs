//! Keeping in-memory views of the hash lists current.
//!
//! Two consumers hold lists in memory: the match stage (its index and catalog) and the ingest
//! stage (its text rules). Both need the same thing from the list store: every list once at
//! start, then the changes of each new version as it is committed, without a rebuild. This
//! module runs that loop once for any [`ListSink`].

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

/// Follows the store until it fails: loads every list into `sink`, calls `ready`, then applies
/// each new version as it is published (or found by polling every `poll_every`).
pub async fn follow<S: ListSink>(
    sink: S,
    store: Store,
    poll_every: Duration,
    ready: impl FnOnce() + Send,
) -> Result<(), StoreError> {
    let mut follower = Follower::new(store.clone());
    for update in follower.poll().await? {
        apply_with_meta(&sink, &store, &update).await;
    }
    ready();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(
        Follower::resume(store.clone(), follower.versions().clone())
            .run(poll_every, move |u| tx.send(u).is_ok()),
    );
    while let Some(update) = rx.recv().await {
        apply_with_meta(&sink, &store, &update).await;
    }
    run.await
        .map_err(|e| StoreError::InvalidValue(format!("follower task: {e}")))?
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
) -> Result<tokio::task::JoinHandle<Result<(), StoreError>>, StoreError> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(follow(sink, store, poll_every, move || {
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
