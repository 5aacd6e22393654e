//! Match indexes: finding a post's signals in millions of list entries, fast and exactly.
//!
//! Matching is the hot loop of the pipeline: every image of every post is looked up against every
//! list. This module keeps that lookup exact (recall 1.0 against a brute-force scan, always) and
//! cheap, and lets lists change while queries run:
//! - [`hamming`]: the PDQ range index ("every entry within distance r"), multi-index hashing on
//!   sixteen 16-bit slices with an inline partner slice for filtering, planned per radius by the
//!   generalised pigeonhole principle ([`plan`]);
//! - [`exact`]: equality lookup for MD5, SHA-256 and SHA-512 digests;
//! - [`version`]: one immutable, queryable state of all lists (lists' thresholds, severities and
//!   labels, allow-lists, the low-quality gate), plus added entries and tombstones since the last
//!   compaction;
//! - [`live`]: the handle queries and list updates share: atomic swaps of versions;
//! - [`snapshot`]: save and load a version in one sequential read;
//! - [`bench`]: reproducible data sets and the `takedown bench match` measurement.
//!
//! `docs/matcher.md` explains the design and its measurements.

pub mod bench;
pub mod exact;
pub mod hamming;
pub mod live;
pub mod plan;
pub mod snapshot;
pub mod version;

pub use exact::ExactIndex;
pub use hamming::PdqIndex;
pub use live::LiveIndex;
pub use snapshot::SnapshotError;
pub use version::{
    Change, IndexBuilder, IndexVersion, ListInfo, ListKind, Match, MatchOptions, Outcome, Signal,
};

/// The compact number of a list inside an index (the ingest stage maps list names to numbers).
pub type ListNo = u16;

/// The compact number of an entry within its list.
pub type EntryNo = u32;

/// Which entry of which list a hash came from: what a match reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryRef {
    /// The list.
    pub list: ListNo,
    /// The entry within the list.
    pub entry: EntryNo,
}

impl EntryRef {
    /// A reference to entry `entry` of list `list`.
    pub fn new(list: ListNo, entry: EntryNo) -> Self {
        EntryRef { list, entry }
    }
}

/// The entry references of an index, stored once per entry in two flat arrays (6 bytes an entry,
/// where a `Vec<EntryRef>` would pad to 8), grouped by the distinct value they belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Refs {
    /// List number of each entry.
    pub lists: Vec<ListNo>,
    /// Entry number of each entry.
    pub entries: Vec<EntryNo>,
    /// `first[v]..first[v + 1]` are the entries of distinct value `v`; empty when every value has
    /// exactly one entry (then value `v` owns entry `v`), which saves 4 bytes a value.
    pub first: Vec<u32>,
}

impl Refs {
    /// Builds the groups from `(value, ref)` pairs sorted by value; calls `keep` on the first
    /// pair of each distinct value (in order) so the caller can store the value.
    pub fn group<V: PartialEq + Copy>(
        sorted: &[(V, EntryRef)],
        mut keep: impl FnMut(V),
    ) -> Result<Refs, IndexError> {
        if sorted.len() > u32::MAX as usize {
            return Err(IndexError::TooManyEntries(sorted.len()));
        }
        let mut refs = Refs {
            lists: Vec::with_capacity(sorted.len()),
            entries: Vec::with_capacity(sorted.len()),
            first: Vec::new(),
        };
        let mut first = Vec::new();
        let mut distinct = 0usize;
        for (i, (v, r)) in sorted.iter().enumerate() {
            if i == 0 || sorted[i - 1].0 != *v {
                keep(*v);
                first.push(i as u32);
                distinct += 1;
            }
            refs.lists.push(r.list);
            refs.entries.push(r.entry);
        }
        if distinct != sorted.len() {
            first.push(sorted.len() as u32);
            refs.first = first;
        }
        Ok(refs)
    }

    /// The entries of distinct value `v`.
    #[inline]
    pub fn of(&self, v: usize) -> impl Iterator<Item = EntryRef> + '_ {
        let range = if self.first.is_empty() {
            v..v + 1
        } else {
            self.first[v] as usize..self.first[v + 1] as usize
        };
        range.map(|i| EntryRef::new(self.lists[i], self.entries[i]))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Heap bytes allocated (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        vec_bytes(&self.lists) + vec_bytes(&self.entries) + vec_bytes(&self.first)
    }
}

/// Bytes a vector has allocated: its capacity, which is what the process pays for.
pub(crate) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// Why an index could not be built or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// More entries than the index's 32-bit positions address.
    #[error("{0} entries is more than an index holds (4,294,967,295)")]
    TooManyEntries(usize),
    /// An entry names a list the index has no metadata for.
    #[error("entry {entry} names list {list}, which has no metadata")]
    UnknownList {
        /// The list number.
        list: ListNo,
        /// The entry number.
        entry: EntryNo,
    },
}
