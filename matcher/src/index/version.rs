//! One queryable state of every list: what a match is, decided in one place.
//!
//! A version bundles the lists' metadata (threshold, severity, labels, block or allow), the
//! built indexes (the *base*) and the changes since the base was built (the *delta*: added
//! entries, scanned linearly, and tombstones hiding deleted base entries). Versions are immutable
//! and share their parts through `Arc`s, so applying a change makes a new version in time
//! proportional to the delta, never to the lists, and queries on the old version are undisturbed.
//! When the delta grows, [`IndexVersion::compact`] folds it into a new base.
//!
//! Matching rules live here so every caller applies them alike: a PDQ query below the quality
//! floor is not matched; an entry matches when within its own list's threshold; and a query that
//! matches an allow-list entry (known-benign content) yields no matches at all. The allow-list is
//! part of the same index and the same search, so suppression cannot be forgotten downstream.

use super::hamming::distance;
use super::{EntryNo, EntryRef, ExactIndex, IndexError, ListNo, PdqIndex};
use std::collections::HashSet;
use std::sync::Arc;
use takedown_core::{Md5Digest, PdqConvention, PdqHash, Sha256Digest, Sha512Digest};

/// The PDQ threshold of a list that names none.
pub const DEFAULT_THRESHOLD: u32 = 31;

/// The PDQ quality below which a query hash is not matched, unless configured otherwise.
pub const DEFAULT_MIN_QUALITY: u8 = 50;

/// Added entries beyond which [`IndexVersion::compaction_due`] says to compact: the delta is
/// scanned linearly, and 16,384 PDQ hashes cost about 20 µs a query.
pub const MAX_DELTA_ADDS: usize = 16_384;

/// Whether a list's matches are reported or suppress other matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListKind {
    /// A list of content to find (terrorist content).
    #[default]
    Block,
    /// Known-benign content (blank images, stock photos): a query matching it matches nothing.
    Allow,
}

/// A list's metadata, as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInfo {
    /// Block or allow.
    pub kind: ListKind,
    /// Largest PDQ distance that counts as a match (exact signals match at distance 0).
    pub threshold: u32,
    /// Severity rank (higher is more severe), passed through to matches' consumers.
    pub severity: u8,
    /// Labels applied to every match on this list.
    pub labels: Vec<String>,
    /// The PDQ convention the list's hashes were made with: a PDQ query of a large image that
    /// names its convention is compared only with lists of the same one.
    pub pdq_convention: PdqConvention,
}

impl Default for ListInfo {
    fn default() -> Self {
        ListInfo {
            kind: ListKind::Block,
            threshold: DEFAULT_THRESHOLD,
            severity: 0,
            labels: Vec::new(),
            pdq_convention: PdqConvention::Reference,
        }
    }
}

impl ListInfo {
    /// A block list with the default threshold.
    pub fn block() -> Self {
        ListInfo::default()
    }

    /// An allow-list with the default threshold.
    pub fn allow() -> Self {
        ListInfo {
            kind: ListKind::Allow,
            ..ListInfo::default()
        }
    }

    /// The same list with another PDQ threshold.
    pub fn with_threshold(mut self, threshold: u32) -> Self {
        self.threshold = threshold;
        self
    }

    /// The same list with hashes of another PDQ convention.
    pub fn with_pdq_convention(mut self, convention: PdqConvention) -> Self {
        self.pdq_convention = convention;
        self
    }
}

/// A signal value an entry carries or a query asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// A PDQ hash, matched within the list's threshold.
    Pdq(PdqHash),
    /// An MD5 digest, matched by equality.
    Md5(Md5Digest),
    /// A SHA-256 digest, matched by equality.
    Sha256(Sha256Digest),
    /// A SHA-512 digest, matched by equality.
    Sha512(Sha512Digest),
}

/// Matching settings that are not per list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchOptions {
    /// PDQ query hashes with a quality below this are not matched.
    pub min_pdq_quality: u8,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            min_pdq_quality: DEFAULT_MIN_QUALITY,
        }
    }
}

/// One entry a query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    /// Hamming distance (0 for exact signals).
    pub distance: u32,
    /// The entry matched.
    pub entry: EntryRef,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The entries matched, closest first (possibly none).
    Matches(Vec<Match>),
    /// The query matched an allow-list entry (the closest is given), so nothing is reported.
    Allowed(Match),
    /// The PDQ hash's quality is below the floor, so it was not matched.
    LowQuality {
        /// The query's quality.
        quality: u8,
    },
}

impl Outcome {
    /// The matches, empty unless the outcome is [`Outcome::Matches`].
    pub fn matches(&self) -> &[Match] {
        match self {
            Outcome::Matches(m) => m,
            _ => &[],
        }
    }
}

/// A change to the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add an entry (replacing any entry with the same reference).
    Add(EntryRef, Signal),
    /// Delete an entry.
    Delete(EntryRef),
    /// Set (add or replace) a list's metadata.
    SetList(ListNo, ListInfo),
}

/// The built indexes of a version.
#[derive(Debug)]
pub(crate) struct Base {
    pub pdq: PdqIndex,
    pub md5: ExactIndex<16>,
    pub sha256: ExactIndex<32>,
    pub sha512: ExactIndex<64>,
}

impl Base {
    fn build(entries: Vec<(EntryRef, Signal)>) -> Result<Base, IndexError> {
        let (mut pdq, mut md5, mut sha256, mut sha512) = (vec![], vec![], vec![], vec![]);
        for (r, s) in entries {
            match s {
                Signal::Pdq(h) => pdq.push((h, r)),
                Signal::Md5(d) => md5.push((d.0, r)),
                Signal::Sha256(d) => sha256.push((d.0, r)),
                Signal::Sha512(d) => sha512.push((d.0, r)),
            }
        }
        Ok(Base {
            pdq: PdqIndex::build(pdq)?,
            md5: ExactIndex::build(md5)?,
            sha256: ExactIndex::build(sha256)?,
            sha512: ExactIndex::build(sha512)?,
        })
    }

    fn len(&self) -> usize {
        self.pdq.len() + self.md5.len() + self.sha256.len() + self.sha512.len()
    }

    fn iter(&self) -> impl Iterator<Item = (EntryRef, Signal)> + '_ {
        let pdq = self.pdq.iter().map(|(h, r)| (r, Signal::Pdq(h)));
        let md5 = self.md5.iter().map(|(k, r)| (r, Signal::Md5(Md5Digest(k))));
        let sha256 = self
            .sha256
            .iter()
            .map(|(k, r)| (r, Signal::Sha256(Sha256Digest(k))));
        let sha512 = self
            .sha512
            .iter()
            .map(|(k, r)| (r, Signal::Sha512(Sha512Digest(k))));
        pdq.chain(md5).chain(sha256).chain(sha512)
    }
}

/// Changes since the base was built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delta {
    /// Entries added since (not in the base's indexes).
    pub added: Vec<(EntryRef, Signal)>,
    /// Base entries that no longer count (deleted or replaced).
    pub tombstones: HashSet<EntryRef>,
}

/// One immutable, queryable state of every list.
#[derive(Debug, Clone)]
pub struct IndexVersion {
    /// List metadata by list number.
    pub(crate) lists: Arc<Vec<Option<ListInfo>>>,
    pub(crate) base: Arc<Base>,
    pub(crate) delta: Arc<Delta>,
    pub(crate) options: MatchOptions,
    /// Counts versions derived from one another, so callers can tell them apart.
    pub(crate) generation: u64,
}

/// Collects lists and entries and builds the first version.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    lists: Vec<Option<ListInfo>>,
    entries: Vec<(EntryRef, Signal)>,
    options: MatchOptions,
}

impl IndexBuilder {
    /// An empty builder with default options.
    pub fn new() -> Self {
        IndexBuilder::default()
    }

    /// Sets a list's metadata.
    pub fn list(&mut self, list: ListNo, info: ListInfo) -> &mut Self {
        set_list(&mut self.lists, list, info);
        self
    }

    /// Adds an entry.
    pub fn add(&mut self, entry: EntryRef, signal: Signal) -> &mut Self {
        self.entries.push((entry, signal));
        self
    }

    /// Adds entry numbers `0..` of list `list` for each PDQ hash, in order.
    pub fn add_pdq_list(&mut self, list: ListNo, hashes: &[PdqHash]) -> &mut Self {
        self.entries.extend(
            hashes
                .iter()
                .enumerate()
                .map(|(i, h)| (EntryRef::new(list, i as EntryNo), Signal::Pdq(*h))),
        );
        self
    }

    /// Sets the matching options.
    pub fn options(&mut self, options: MatchOptions) -> &mut Self {
        self.options = options;
        self
    }

    /// Builds the version (on all cores). Every entry's list must have metadata.
    pub fn build(self) -> Result<IndexVersion, IndexError> {
        for (r, _) in &self.entries {
            check_list(&self.lists, *r)?;
        }
        Ok(IndexVersion {
            lists: Arc::new(self.lists),
            base: Arc::new(Base::build(self.entries)?),
            delta: Arc::new(Delta::default()),
            options: self.options,
            generation: 0,
        })
    }
}

fn set_list(lists: &mut Vec<Option<ListInfo>>, list: ListNo, info: ListInfo) {
    let i = usize::from(list);
    if lists.len() <= i {
        lists.resize(i + 1, None);
    }
    lists[i] = Some(info);
}

fn check_list(lists: &[Option<ListInfo>], r: EntryRef) -> Result<(), IndexError> {
    match lists.get(usize::from(r.list)) {
        Some(Some(_)) => Ok(()),
        _ => Err(IndexError::UnknownList {
            list: r.list,
            entry: r.entry,
        }),
    }
}

/// Gathers one query's matches, applying thresholds, tombstones and allow-lists.
struct Collector<'a> {
    lists: &'a [Option<ListInfo>],
    tombstones: &'a HashSet<EntryRef>,
    /// Only lists of this PDQ convention count (`None`: every list).
    convention: Option<PdqConvention>,
    matches: Vec<Match>,
    allowed: Option<Match>,
}

impl Collector<'_> {
    #[inline]
    fn offer(&mut self, entry: EntryRef, distance: u32, in_base: bool) {
        if in_base && !self.tombstones.is_empty() && self.tombstones.contains(&entry) {
            return;
        }
        let Some(Some(list)) = self.lists.get(usize::from(entry.list)) else {
            return;
        };
        if distance > list.threshold || self.convention.is_some_and(|c| c != list.pdq_convention) {
            return;
        }
        let m = Match { distance, entry };
        match list.kind {
            ListKind::Block => self.matches.push(m),
            ListKind::Allow => {
                if self.allowed.is_none_or(|a| m < a) {
                    self.allowed = Some(m);
                }
            }
        }
    }

    fn finish(mut self) -> Outcome {
        if let Some(a) = self.allowed {
            return Outcome::Allowed(a);
        }
        self.matches.sort_unstable();
        Outcome::Matches(self.matches)
    }
}

impl IndexVersion {
    /// A version with no lists and no entries.
    pub fn empty() -> IndexVersion {
        IndexBuilder::new().build().expect("an empty index builds")
    }

    /// How many versions this one descends from.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The matching options.
    pub fn options(&self) -> MatchOptions {
        self.options
    }

    /// A list's metadata.
    pub fn list(&self, list: ListNo) -> Option<&ListInfo> {
        self.lists.get(usize::from(list)).and_then(Option::as_ref)
    }

    /// The built PDQ index (without the delta).
    pub fn pdq_base(&self) -> &PdqIndex {
        &self.base.pdq
    }

    /// Heap bytes this version has allocated (capacities): every table of the base (PDQ and
    /// the three exact indexes), the delta's additions and tombstones, and the list metadata.
    /// Shared parts are counted once per version, as if it were the only one.
    pub fn heap_bytes(&self) -> usize {
        let base = &self.base;
        let lists: usize = super::vec_bytes(&self.lists)
            + self
                .lists
                .iter()
                .flatten()
                .map(|l| {
                    super::vec_bytes(&l.labels)
                        + l.labels.iter().map(String::capacity).sum::<usize>()
                })
                .sum::<usize>();
        // A hash set's table holds its capacity in slots plus one control byte each.
        let tombstones = self.delta.tombstones.capacity() * (std::mem::size_of::<EntryRef>() + 1);
        base.pdq.heap_bytes()
            + base.md5.heap_bytes()
            + base.sha256.heap_bytes()
            + base.sha512.heap_bytes()
            + super::vec_bytes(&self.delta.added)
            + tombstones
            + lists
    }

    /// Number of live entries (base minus tombstones, plus additions; exact for a compacted
    /// version, an upper bound otherwise since tombstones may name entries that never existed).
    pub fn len(&self) -> usize {
        (self.base.len() + self.delta.added.len()).saturating_sub(self.delta.tombstones.len())
    }

    /// Whether the version has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Largest PDQ threshold of any list: the radius a PDQ query searches.
    fn radius(&self) -> u32 {
        self.lists
            .iter()
            .flatten()
            .map(|l| l.threshold)
            .max()
            .unwrap_or(0)
            .min(256)
    }

    fn collector(&self) -> Collector<'_> {
        Collector {
            lists: &self.lists,
            tombstones: &self.delta.tombstones,
            convention: None,
            matches: Vec::new(),
            allowed: None,
        }
    }

    /// Matches a PDQ hash of the given quality (0–100) against every list.
    pub fn match_pdq(&self, hash: &PdqHash, quality: u8) -> Outcome {
        self.match_pdq_of(hash, quality, None)
    }

    /// Matches a PDQ hash of the given quality made with `convention`: only lists of that
    /// convention are compared (`None`: every list, for an image both conventions hash alike).
    pub fn match_pdq_of(
        &self,
        hash: &PdqHash,
        quality: u8,
        convention: Option<PdqConvention>,
    ) -> Outcome {
        if quality < self.options.min_pdq_quality {
            return Outcome::LowQuality { quality };
        }
        let radius = self.radius();
        let mut c = self.collector();
        c.convention = convention;
        let pdq = &self.base.pdq;
        pdq.search(hash, radius, |v, d| {
            for r in pdq.entries_of(v) {
                c.offer(r, d, true);
            }
        });
        for (r, s) in &self.delta.added {
            if let Signal::Pdq(h) = s {
                c.offer(*r, distance(&h.words, &hash.words), false);
            }
        }
        c.finish()
    }

    /// Matches an exact signal (a PDQ signal is matched as [`match_pdq`](Self::match_pdq) with
    /// full quality).
    pub fn match_signal(&self, signal: &Signal) -> Outcome {
        let mut c = self.collector();
        match signal {
            Signal::Pdq(h) => return self.match_pdq(h, 100),
            Signal::Md5(d) => self.base.md5.get(&d.0).for_each(|r| c.offer(r, 0, true)),
            Signal::Sha256(d) => self.base.sha256.get(&d.0).for_each(|r| c.offer(r, 0, true)),
            Signal::Sha512(d) => self.base.sha512.get(&d.0).for_each(|r| c.offer(r, 0, true)),
        }
        for (r, s) in &self.delta.added {
            if s == signal {
                c.offer(*r, 0, false);
            }
        }
        c.finish()
    }

    /// The entry references an exact signal is stored under (in the base, ignoring lists,
    /// thresholds and tombstones): the raw lookup the benchmarks time.
    pub fn exact_entries(&self, signal: &Signal) -> usize {
        match signal {
            Signal::Pdq(_) => 0,
            Signal::Md5(d) => self.base.md5.get(&d.0).count(),
            Signal::Sha256(d) => self.base.sha256.get(&d.0).count(),
            Signal::Sha512(d) => self.base.sha512.get(&d.0).count(),
        }
    }

    /// A new version with `changes` applied, sharing the base (cost proportional to the delta).
    pub fn apply(&self, changes: impl IntoIterator<Item = Change>) -> Result<Self, IndexError> {
        let mut lists: Option<Vec<Option<ListInfo>>> = None;
        let mut delta = (*self.delta).clone();
        for change in changes {
            match change {
                Change::SetList(no, info) => {
                    set_list(lists.get_or_insert_with(|| (*self.lists).clone()), no, info)
                }
                // Every added entry is also a tombstone (it hides the base's old value), so
                // only an entry already tombstoned can have an earlier addition to drop: the
                // scan of the additions is skipped for the first change of each entry, and a
                // full load of a list stays linear.
                Change::Add(r, s) => {
                    check_list(lists.as_deref().unwrap_or(&self.lists), r)?;
                    if !delta.tombstones.insert(r) {
                        delta.added.retain(|(a, _)| *a != r);
                    }
                    delta.added.push((r, s));
                }
                Change::Delete(r) => {
                    if !delta.tombstones.insert(r) {
                        delta.added.retain(|(a, _)| *a != r);
                    }
                }
            }
        }
        Ok(IndexVersion {
            lists: lists.map(Arc::new).unwrap_or_else(|| self.lists.clone()),
            base: self.base.clone(),
            delta: Arc::new(delta),
            options: self.options,
            generation: self.generation + 1,
        })
    }

    /// Whether the delta has grown enough that [`compact`](Self::compact) should run.
    pub fn compaction_due(&self) -> bool {
        self.delta.added.len() > MAX_DELTA_ADDS
            || self.delta.tombstones.len() > (self.base.len() / 16).max(MAX_DELTA_ADDS)
    }

    /// A version with the delta folded into a newly built base (no tombstones, no additions).
    pub fn compact(&self) -> Result<Self, IndexError> {
        let tomb = &self.delta.tombstones;
        let mut entries: Vec<(EntryRef, Signal)> = self
            .base
            .iter()
            .filter(|(r, _)| !tomb.contains(r))
            .collect();
        entries.extend(self.delta.added.iter().copied());
        Ok(IndexVersion {
            lists: self.lists.clone(),
            base: Arc::new(Base::build(entries)?),
            delta: Arc::new(Delta::default()),
            options: self.options,
            generation: self.generation + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdq(seed: u64) -> PdqHash {
        let mut x = seed;
        PdqHash {
            words: std::array::from_fn(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                x ^ (x >> 29)
            }),
        }
    }

    fn flip(h: PdqHash, bits: usize) -> PdqHash {
        let mut out = h;
        for k in 0..bits {
            out.words[k % 4] ^= 1 << (k * 7 % 64);
        }
        out
    }

    fn version() -> IndexVersion {
        let mut b = IndexBuilder::new();
        b.list(0, ListInfo::block())
            .list(1, ListInfo::block().with_threshold(10))
            .list(2, ListInfo::allow().with_threshold(4));
        b.add(EntryRef::new(0, 0), Signal::Pdq(pdq(1)));
        b.add(EntryRef::new(1, 0), Signal::Pdq(pdq(1)));
        b.add(EntryRef::new(0, 1), Signal::Pdq(pdq(2)));
        b.add(EntryRef::new(2, 0), Signal::Pdq(pdq(3)));
        b.add(EntryRef::new(0, 2), Signal::Pdq(pdq(3)));
        b.add(EntryRef::new(0, 3), Signal::Md5(Md5Digest([9; 16])));
        b.build().unwrap()
    }

    #[test]
    fn per_list_thresholds_decide() {
        let v = version();
        let near = flip(pdq(1), 20);
        assert_eq!(
            v.match_pdq(&near, 90).matches(),
            &[Match {
                distance: 20,
                entry: EntryRef::new(0, 0)
            }]
        );
        assert_eq!(v.match_pdq(&flip(pdq(1), 5), 90).matches().len(), 2);
    }

    #[test]
    fn low_quality_is_not_matched() {
        let v = version();
        assert_eq!(
            v.match_pdq(&pdq(1), 49),
            Outcome::LowQuality { quality: 49 }
        );
        assert_eq!(v.match_pdq(&pdq(1), 50).matches().len(), 2);
    }

    #[test]
    fn allow_list_suppresses_within_its_threshold() {
        let v = version();
        let by = EntryRef::new(2, 0);
        assert_eq!(
            v.match_pdq(&flip(pdq(3), 3), 100),
            Outcome::Allowed(Match {
                distance: 3,
                entry: by
            })
        );
        // Beyond the allow-list's threshold the block list matches again.
        assert_eq!(
            v.match_pdq(&flip(pdq(3), 6), 100).matches()[0].entry,
            EntryRef::new(0, 2)
        );
    }

    #[test]
    fn changes_apply_without_rebuild_and_compact_to_the_same_answers() {
        let v = version();
        let v2 = v
            .apply([
                Change::Delete(EntryRef::new(0, 1)),
                Change::Add(EntryRef::new(0, 9), Signal::Pdq(pdq(7))),
                Change::Add(EntryRef::new(0, 3), Signal::Md5(Md5Digest([8; 16]))),
            ])
            .unwrap();
        assert!(Arc::ptr_eq(&v.base, &v2.base));
        assert_eq!(v2.generation(), 1);
        let check = |v: &IndexVersion| {
            assert!(v.match_pdq(&pdq(2), 100).matches().is_empty());
            assert_eq!(
                v.match_pdq(&pdq(7), 100).matches()[0].entry,
                EntryRef::new(0, 9)
            );
            assert!(
                v.match_signal(&Signal::Md5(Md5Digest([9; 16])))
                    .matches()
                    .is_empty()
            );
            assert_eq!(
                v.match_signal(&Signal::Md5(Md5Digest([8; 16]))).matches()[0].entry,
                EntryRef::new(0, 3)
            );
        };
        check(&v2);
        let v3 = v2.compact().unwrap();
        assert!(v3.delta.added.is_empty() && v3.delta.tombstones.is_empty());
        check(&v3);
        // The old version is untouched.
        assert_eq!(v.match_pdq(&pdq(2), 100).matches().len(), 1);
    }

    #[test]
    fn entries_need_list_metadata() {
        let mut b = IndexBuilder::new();
        b.add(EntryRef::new(4, 1), Signal::Pdq(pdq(1)));
        assert_eq!(
            b.build().unwrap_err(),
            IndexError::UnknownList { list: 4, entry: 1 }
        );
    }
}
