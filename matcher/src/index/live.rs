//! The live index: the one handle that queries read and list updates replace.
//!
//! Queries take the current version (an `Arc` clone under a read lock held for nanoseconds) and
//! work on it undisturbed; writers build a new version off to the side and publish it with one
//! pointer swap. So no query ever sees a half-built index or waits for a build, and a version is
//! freed when its last query finishes. Writers are serialised among themselves so that two
//! updates never race to replace the same version.

use super::{Change, IndexError, IndexVersion};
use std::sync::{Arc, Mutex, RwLock};

/// The current version of the indexes, swapped atomically.
#[derive(Debug)]
pub struct LiveIndex {
    /// The published version; the lock only guards the pointer, never a build.
    current: RwLock<Arc<IndexVersion>>,
    /// Held by whoever is deriving the next version (apply, compact), so updates are not lost.
    writer: Mutex<()>,
}

impl LiveIndex {
    /// A live index publishing `version`.
    pub fn new(version: IndexVersion) -> Self {
        LiveIndex {
            current: RwLock::new(Arc::new(version)),
            writer: Mutex::new(()),
        }
    }

    /// The current version; hold it for the duration of a query (or a batch of queries).
    pub fn load(&self) -> Arc<IndexVersion> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Publishes `version` (built elsewhere, e.g. loaded from a snapshot), returning the old one.
    pub fn swap(&self, version: IndexVersion) -> Arc<IndexVersion> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.publish(Arc::new(version))
    }

    fn publish(&self, version: Arc<IndexVersion>) -> Arc<IndexVersion> {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *current, version)
    }

    /// Applies changes to the current version and publishes the result, compacting first when
    /// the delta has grown too large. Returns the published version.
    pub fn apply(
        &self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<Arc<IndexVersion>, IndexError> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.load().apply(changes)?;
        if next.compaction_due() {
            next = next.compact()?;
        }
        let next = Arc::new(next);
        self.publish(next.clone());
        Ok(next)
    }

    /// Folds the delta into a new base and publishes it. Updates wait meanwhile; queries do not.
    pub fn compact(&self) -> Result<Arc<IndexVersion>, IndexError> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let next = Arc::new(self.load().compact()?);
        self.publish(next.clone());
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{EntryRef, IndexBuilder, ListInfo, Signal};
    use takedown_core::Md5Digest;

    #[test]
    fn apply_publishes_and_old_versions_stay_valid() {
        let mut b = IndexBuilder::new();
        b.list(0, ListInfo::block());
        let live = LiveIndex::new(b.build().unwrap());
        let before = live.load();
        let sig = Signal::Md5(Md5Digest([1; 16]));
        live.apply([Change::Add(EntryRef::new(0, 0), sig)]).unwrap();
        assert_eq!(live.load().match_signal(&sig).matches().len(), 1);
        assert!(before.match_signal(&sig).matches().is_empty());
        assert!(live.apply([Change::Add(EntryRef::new(3, 0), sig)]).is_err());
        assert_eq!(live.load().generation(), 1);
    }
}
