//! Which offsets of each partition are safe to commit.
//!
//! Messages of a partition are processed concurrently and finish out of order, but Kafka commits
//! one offset per partition meaning "everything before this is done". The tracker keeps, per
//! partition, the offsets still in flight; the committable position is just below the oldest of
//! them (or the newest finished one when none is in flight). An offset is only ever reported
//! after every earlier offset of its partition has finished, so a crash never skips work.

use std::collections::{BTreeSet, HashMap};

/// A topic and partition.
pub type TopicPartition = (String, i32);

#[derive(Debug, Default)]
struct Partition {
    pending: BTreeSet<i64>,
    max_finished: Option<i64>,
    committed: Option<i64>,
}

/// Tracks in-flight offsets per partition.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<TopicPartition, Partition>,
}

impl OffsetTracker {
    /// Records that `offset` started processing.
    pub fn begin(&mut self, tp: &TopicPartition, offset: i64) {
        let p = self
            .partitions
            .entry(tp.clone())
            .or_insert_with(|| Partition {
                // Nothing before the first offset seen is ours to report.
                committed: Some(offset - 1),
                ..Partition::default()
            });
        p.pending.insert(offset);
    }

    /// Records that `offset` finished; returns the last offset that may now be stored
    /// (everything up to and including it is done), if that moved forward.
    pub fn finish(&mut self, tp: &TopicPartition, offset: i64) -> Option<i64> {
        let p = self.partitions.get_mut(tp)?;
        if !p.pending.remove(&offset) {
            return None;
        }
        p.max_finished = Some(p.max_finished.map_or(offset, |m| m.max(offset)));
        let safe = match p.pending.first() {
            Some(&oldest) => oldest - 1,
            None => p.max_finished?,
        };
        if p.committed.is_none_or(|c| safe > c) && safe >= 0 {
            p.committed = Some(safe);
            Some(safe)
        } else {
            None
        }
    }

    /// Number of offsets in flight on a partition.
    pub fn in_flight(&self, tp: &TopicPartition) -> usize {
        self.partitions.get(tp).map_or(0, |p| p.pending.len())
    }

    /// Number of offsets in flight on all partitions.
    pub fn total_in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.pending.len()).sum()
    }

    /// Forgets a partition (after it was revoked).
    pub fn forget(&mut self, tp: &TopicPartition) {
        self.partitions.remove(tp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tp() -> TopicPartition {
        ("posts".to_string(), 0)
    }

    #[test]
    fn out_of_order_finishes_commit_in_order() {
        let mut t = OffsetTracker::default();
        for o in 10..14 {
            t.begin(&tp(), o);
        }
        assert_eq!(t.finish(&tp(), 12), None, "10 and 11 still in flight");
        assert_eq!(t.finish(&tp(), 10), Some(10));
        assert_eq!(t.finish(&tp(), 13), None, "11 still in flight");
        assert_eq!(t.finish(&tp(), 11), Some(13));
        assert_eq!(t.in_flight(&tp()), 0);
    }

    #[test]
    fn unknown_offsets_are_ignored() {
        let mut t = OffsetTracker::default();
        assert_eq!(t.finish(&tp(), 5), None);
        t.begin(&tp(), 5);
        assert_eq!(t.finish(&tp(), 6), None);
        assert_eq!(t.finish(&tp(), 5), Some(5));
    }

    proptest! {
        /// Whatever the finishing order, a reported offset never passes an unfinished one,
        /// and once all are done the last offset is reported.
        #[test]
        fn never_passes_unfinished_work(order in Just((0i64..40).collect::<Vec<_>>()).prop_shuffle()) {
            let mut t = OffsetTracker::default();
            for o in 0..40 {
                t.begin(&tp(), o);
            }
            let mut done = std::collections::HashSet::new();
            let mut last = None;
            for o in order {
                done.insert(o);
                if let Some(safe) = t.finish(&tp(), o) {
                    prop_assert!((0..=safe).all(|x| done.contains(&x)));
                    last = Some(safe);
                }
            }
            prop_assert_eq!(last, Some(39));
        }
    }
}
