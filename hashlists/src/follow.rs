//! How a matcher keeps up with lists: a cold load, then incremental changes.
//!
//! The store publishes every committed version on a pub/sub channel. A [`Follower`] remembers
//! the version it has of each list; on an event (or a periodic poll, since pub/sub drops
//! messages while disconnected) it fetches the change log between its version and the committed
//! one, and hands the changes to the matcher, which applies them without a rebuild. A list it
//! has never seen, or whose log no longer reaches back far enough, comes as a full snapshot.

use crate::model::{Change, Entry, ListId};
use crate::store::{Store, StoreError, VersionEvent};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// An update for one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListUpdate {
    /// Every entry of the list at `version` (first load).
    Full {
        /// The list.
        list: ListId,
        /// The version loaded.
        version: u64,
        /// All entries.
        entries: Vec<Entry>,
    },
    /// The changes from the follower's version up to `to`.
    Changes {
        /// The list.
        list: ListId,
        /// The version the follower had.
        from: u64,
        /// The version after these changes.
        to: u64,
        /// The changes, in order.
        changes: Vec<Change>,
    },
}

/// Follows every list in a store.
pub struct Follower {
    store: Store,
    known: HashMap<ListId, u64>,
}

impl Follower {
    /// A follower that has nothing yet; the first [`Follower::poll`] loads every list.
    pub fn new(store: Store) -> Self {
        Follower {
            store,
            known: HashMap::new(),
        }
    }

    /// A follower that already has `known` versions (e.g. from an index snapshot file).
    pub fn resume(store: Store, known: HashMap<ListId, u64>) -> Self {
        Follower { store, known }
    }

    /// The versions the follower has.
    pub fn versions(&self) -> &HashMap<ListId, u64> {
        &self.known
    }

    /// Brings every list up to its committed version; returns what changed.
    pub async fn poll(&mut self) -> Result<Vec<ListUpdate>, StoreError> {
        let mut out = Vec::new();
        for list in self.store.list_ids().await? {
            if let Some(update) = self.poll_list(&list).await? {
                out.push(update);
            }
        }
        Ok(out)
    }

    async fn poll_list(&mut self, list: &ListId) -> Result<Option<ListUpdate>, StoreError> {
        let version = self.store.version(list).await?;
        let update = match self.known.get(list).copied() {
            Some(have) if have >= version => return Ok(None),
            Some(have) => {
                let batches = self.store.changes(list, have, version).await?;
                let complete = batches.first().is_some_and(|(v, _)| *v == have + 1)
                    && batches.last().is_some_and(|(v, _)| *v == version);
                if complete {
                    ListUpdate::Changes {
                        list: list.clone(),
                        from: have,
                        to: version,
                        changes: batches.into_iter().flat_map(|(_, c)| c).collect(),
                    }
                } else {
                    self.full(list).await?
                }
            }
            None => self.full(list).await?,
        };
        let to = match &update {
            ListUpdate::Full { version, .. } => *version,
            ListUpdate::Changes { to, .. } => *to,
        };
        self.known.insert(list.clone(), to);
        Ok(Some(update))
    }

    async fn full(&self, list: &ListId) -> Result<ListUpdate, StoreError> {
        let (version, entries) = self.store.snapshot(list).await?;
        Ok(ListUpdate::Full {
            list: list.clone(),
            version,
            entries,
        })
    }

    /// Runs until `on_update` returns false: polls once, then on every version event and every
    /// `poll_every` in case an event was missed.
    pub async fn run<F>(self, poll_every: Duration, on_update: F) -> Result<(), StoreError>
    where
        F: FnMut(ListUpdate) -> bool,
    {
        self.run_reporting(poll_every, on_update, || {}).await
    }

    /// [`Follower::run`], calling `on_synced` after each poll that brought every list up to
    /// its committed version (so a caller can tell how current its view is).
    pub async fn run_reporting<F, S>(
        mut self,
        poll_every: Duration,
        mut on_update: F,
        mut on_synced: S,
    ) -> Result<(), StoreError>
    where
        F: FnMut(ListUpdate) -> bool,
        S: FnMut(),
    {
        let mut pubsub = self.store.client().get_async_pubsub().await?;
        pubsub.subscribe(self.store.channel()).await?;
        let mut messages = pubsub.into_on_message();
        loop {
            for update in self.poll().await? {
                if !on_update(update) {
                    return Ok(());
                }
            }
            on_synced();
            tokio::select! {
                msg = messages.next() => {
                    let Some(msg) = msg else { return Ok(()) };
                    // The payload only says which list moved; poll() reads the truth.
                    let _event: Option<VersionEvent> = msg
                        .get_payload::<String>()
                        .ok()
                        .and_then(|p| serde_json::from_str(&p).ok());
                }
                _ = tokio::time::sleep(poll_every) => {}
            }
        }
    }
}
