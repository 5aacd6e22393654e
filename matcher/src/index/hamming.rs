//! The PDQ range index: every entry within Hamming distance `r` of a query, exactly.
//!
//! Layout (for `u` distinct hashes; see `docs/matcher.md` for why):
//! - the **primary table**: the distinct hashes sorted, so they are grouped by slice 0 (their top
//!   16 bits) and a 65,537-entry directory turns slice 0 into contiguous buckets whose hashes are
//!   verified in place;
//! - **15 secondary tables**, one per other slice `s`: postings grouped by the value of slice `s`
//!   (a directory again), each posting holding the partner slice `s ^ 1` inline (2 bytes) and the
//!   position of its hash (3 bytes while `u ≤ 2^24`, else 4). The inline partner gives the whole
//!   32-bit chunk's distance before the hash is fetched, which rejects ~99.7% of the postings a
//!   probe scans without touching the (random-access) hash array;
//! - the entry references, grouped by distinct hash (identical hashes on several lists are stored
//!   and verified once).
//!
//! A query follows a [`Plan`]: probe slices at small thresholds (for r = 31: every slice at
//! distance ≤ 1 with chunk limit 3), collect candidates, and verify each distinct one once.

use super::plan::{self, CHUNKS, Plan, SLICES, Step};
use super::{EntryRef, IndexError, Refs, vec_bytes};
use rayon::prelude::*;
use std::sync::OnceLock;
use takedown_core::PdqHash;

/// Largest radius whose plan is cached; larger radii are planned per query.
const CACHED_RADII: usize = 65;

/// Number of keys of a 16-bit slice.
const KEYS: usize = 1 << 16;

/// The 16-bit slice `s` (0..16) of a hash: slice 0 is the top 16 bits of `words[0]`.
#[inline(always)]
fn slice(w: &[u64; 4], s: usize) -> u16 {
    (w[s / 4] >> (48 - 16 * (s % 4))) as u16
}

/// All 16 slices of a hash.
#[inline]
pub(crate) fn slices(w: &[u64; 4]) -> [u16; SLICES] {
    std::array::from_fn(|s| slice(w, s))
}

/// Population count of 16 bits: the instruction when the build targets it, else two lookups in
/// a 256-byte table (the default x86-64 target has no `popcnt`, and the bit-twiddling fallback is
/// slower than a table in the scan loop).
#[inline(always)]
fn pop16(x: u16) -> u32 {
    #[cfg(target_feature = "popcnt")]
    {
        x.count_ones()
    }
    #[cfg(not(target_feature = "popcnt"))]
    {
        u32::from(POP8[(x & 0xff) as usize]) + u32::from(POP8[(x >> 8) as usize])
    }
}

#[cfg(not(target_feature = "popcnt"))]
static POP8: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).count_ones() as u8;
        i += 1;
    }
    t
};

/// Population count of 16 bits in 16-bit arithmetic only, so a loop of them vectorises.
#[inline(always)]
fn swar_pop16(x: u16) -> u16 {
    let x = x - ((x >> 1) & 0x5555);
    let x = (x & 0x3333) + ((x >> 2) & 0x3333);
    let x = (x + (x >> 4)) & 0x0f0f;
    (x + (x >> 8)) & 0x1f
}

/// Hamming distance of two hashes.
#[inline(always)]
pub(crate) fn distance(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// Hamming distance, or any value above `radius` as soon as the distance is known to exceed it
/// (most pairs of unrelated hashes are rejected after two words).
#[inline(always)]
pub(crate) fn distance_within(a: &[u64; 4], b: &[u64; 4], radius: u32) -> u32 {
    let d = (a[0] ^ b[0]).count_ones() + (a[1] ^ b[1]).count_ones();
    if d > radius {
        return d;
    }
    d + (a[2] ^ b[2]).count_ones() + (a[3] ^ b[3]).count_ones()
}

/// All 16-bit masks ordered by weight, and where each weight starts.
fn masks_by_weight() -> &'static (Vec<u16>, [usize; 18]) {
    static MASKS: OnceLock<(Vec<u16>, [usize; 18])> = OnceLock::new();
    MASKS.get_or_init(|| {
        let mut masks: Vec<u16> = (0..=u16::MAX).collect();
        masks.sort_by_key(|m| (m.count_ones(), *m));
        let mut start = [0usize; 18];
        for w in 0..=16 {
            start[w + 1] = start[w] + masks.iter().filter(|m| m.count_ones() == w as u32).count();
        }
        (masks, start)
    })
}

/// Positions of hashes in a secondary table: 3 bytes each while they fit, else 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ids {
    /// Little-endian 24-bit positions.
    U24(Vec<[u8; 3]>),
    /// 32-bit positions.
    U32(Vec<u32>),
}

impl Ids {
    #[inline(always)]
    fn get(&self, i: usize) -> usize {
        match self {
            Ids::U24(v) => {
                let [a, b, c] = v[i];
                usize::from(a) | usize::from(b) << 8 | usize::from(c) << 16
            }
            Ids::U32(v) => v[i] as usize,
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Ids::U24(v) => vec_bytes(v),
            Ids::U32(v) => vec_bytes(v),
        }
    }
}

/// One secondary table: postings of every distinct hash grouped by one slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// `dir[k]..dir[k + 1]` are the postings whose slice equals `k`.
    pub dir: Vec<u32>,
    /// Each posting's partner slice.
    pub partner: Vec<u16>,
    /// Each posting's hash position in the primary table.
    pub ids: Ids,
}

/// An immutable PDQ range index over a set of `(hash, entry)` pairs.
#[derive(Debug)]
pub struct PdqIndex {
    /// Distinct hashes, sorted (so grouped by slice 0).
    pub(crate) hashes: Vec<[u64; 4]>,
    /// `dir0[k]..dir0[k + 1]` are the hashes whose slice 0 equals `k`.
    pub(crate) dir0: Vec<u32>,
    /// Secondary tables for slices 1..16 (`tables[s - 1]`).
    pub(crate) tables: Vec<Table>,
    /// The entries of each distinct hash.
    pub(crate) refs: Refs,
    /// Plans for radii 0..65, made on first use.
    plans: Vec<OnceLock<Plan>>,
}

impl PdqIndex {
    /// Builds the index (on all cores); identical `(hash, entry)` pairs are kept once.
    pub fn build(mut items: Vec<(PdqHash, EntryRef)>) -> Result<PdqIndex, IndexError> {
        items.par_sort_unstable_by(|a, b| a.0.words.cmp(&b.0.words).then(a.1.cmp(&b.1)));
        items.dedup();
        let mut hashes = Vec::new();
        let refs = Refs::group(&items, |h: PdqHash| hashes.push(h.words))?;
        drop(items);
        Ok(Self::from_parts(hashes, refs))
    }

    /// Builds the tables over sorted distinct hashes and their grouped entries.
    pub(crate) fn from_parts(hashes: Vec<[u64; 4]>, refs: Refs) -> PdqIndex {
        let (dir0, tables) = rayon::join(
            || directory(&hashes, 0),
            || {
                (1..SLICES)
                    .into_par_iter()
                    .map(|s| table(&hashes, s))
                    .collect()
            },
        );
        Self::from_tables(hashes, dir0, tables, refs)
    }

    /// Assembles an index from its stored parts (a snapshot).
    pub(crate) fn from_tables(
        hashes: Vec<[u64; 4]>,
        dir0: Vec<u32>,
        tables: Vec<Table>,
        refs: Refs,
    ) -> PdqIndex {
        PdqIndex {
            hashes,
            dir0,
            tables,
            refs,
            plans: (0..CACHED_RADII).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Number of entries (pairs of hash and entry).
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.refs.len() == 0
    }

    /// Number of distinct hashes.
    pub fn distinct(&self) -> usize {
        self.hashes.len()
    }

    /// Heap bytes the index has allocated (capacities, not lengths): the primary table, its
    /// directory, all 15 secondary tables, entry references and cached plans.
    pub fn heap_bytes(&self) -> usize {
        let tables: usize = self
            .tables
            .iter()
            .map(|t| vec_bytes(&t.dir) + vec_bytes(&t.partner) + t.ids.heap_bytes())
            .sum();
        let plans: usize = self
            .plans
            .iter()
            .filter_map(|p| match p.get() {
                Some(Plan::Probe(steps)) => Some(vec_bytes(steps)),
                _ => None,
            })
            .sum();
        vec_bytes(&self.hashes)
            + vec_bytes(&self.dir0)
            + vec_bytes(&self.tables)
            + tables
            + self.refs.heap_bytes()
            + vec_bytes(&self.plans)
            + plans
    }

    /// The `v`-th distinct hash.
    pub fn hash(&self, v: usize) -> PdqHash {
        PdqHash {
            words: self.hashes[v],
        }
    }

    /// The entries whose hash is the `v`-th distinct hash.
    pub fn entries_of(&self, v: usize) -> impl Iterator<Item = EntryRef> + '_ {
        self.refs.of(v)
    }

    /// Every `(hash, entry)` pair, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (PdqHash, EntryRef)> + '_ {
        (0..self.hashes.len()).flat_map(move |v| self.refs.of(v).map(move |r| (self.hash(v), r)))
    }

    /// The plan a query of radius `radius` follows.
    pub fn plan(&self, radius: u32) -> Plan {
        match self.plans.get(radius as usize) {
            Some(cell) => cell
                .get_or_init(|| plan::plan(self.hashes.len(), radius))
                .clone(),
            None => plan::plan(self.hashes.len(), radius),
        }
    }

    /// Calls `hit(v, distance)` once for every distinct hash `v` within `radius` of `query`
    /// (in no particular order).
    pub fn search(&self, query: &PdqHash, radius: u32, hit: impl FnMut(usize, u32)) {
        let cached;
        let owned;
        let plan = match self.plans.get(radius as usize) {
            Some(cell) => {
                cached = cell.get_or_init(|| plan::plan(self.hashes.len(), radius));
                cached
            }
            None => {
                owned = plan::plan(self.hashes.len(), radius);
                &owned
            }
        };
        self.search_with(plan, query, radius, hit);
    }

    /// [`search`](Self::search) following a given plan instead of the index's own choice: every
    /// plan from [`plan::plan`] is exact for its radius whatever the index size, so tests use
    /// this to exercise large-index plans on small data.
    pub fn search_with(
        &self,
        plan: &Plan,
        query: &PdqHash,
        radius: u32,
        hit: impl FnMut(usize, u32),
    ) {
        match plan {
            Plan::Linear => self.scan(query, radius, hit),
            Plan::Probe(steps) => self.probe(steps, query, radius, hit),
        }
    }

    /// The entries within `radius` of `query`, with their distances, sorted by entry.
    pub fn range(&self, query: &PdqHash, radius: u32) -> Vec<(EntryRef, u32)> {
        let mut out = Vec::new();
        self.search(query, radius, |v, d| {
            out.extend(self.refs.of(v).map(|r| (r, d)));
        });
        out.sort_unstable();
        out
    }

    /// Compares the query with every hash.
    fn scan(&self, query: &PdqHash, radius: u32, mut hit: impl FnMut(usize, u32)) {
        for (v, h) in self.hashes.iter().enumerate() {
            let d = distance_within(h, &query.words, radius);
            if d <= radius {
                hit(v, d);
            }
        }
    }

    /// Runs a probe plan in phases so that cache misses overlap instead of queueing: the plan's
    /// buckets are a few hundred random places in a large index, and touching them one after
    /// another would wait for memory a few hundred times in a row. So: find every bucket, touch
    /// every cache line of them, scan them for candidates, touch the candidates' hashes, then
    /// verify (in plan order, which the report-once rule needs).
    fn probe(&self, steps: &[Step], query: &PdqHash, radius: u32, mut hit: impl FnMut(usize, u32)) {
        let (masks, start) = masks_by_weight();
        let q = &query.words;
        let qs = slices(q);

        // Buckets: (step, chunk limit left for the partner slice, range).
        let mut buckets: Vec<(u8, u8, u32, u32)> = Vec::with_capacity(320);
        for (k, st) in steps.iter().enumerate() {
            let s = usize::from(st.slice);
            let dir = if s == 0 {
                &self.dir0
            } else {
                &self.tables[s - 1].dir
            };
            for e in 0..=usize::from(st.t) {
                for &m in &masks[start[e]..start[e + 1]] {
                    let key = usize::from(qs[s] ^ m);
                    let (a, b) = (dir[key], dir[key + 1]);
                    if a < b {
                        buckets.push((k as u8, st.limit - e as u8, a, b));
                    }
                }
            }
        }

        // Touch every cache line of every bucket; the loads are independent, so they overlap.
        let mut sink = 0u64;
        for &(k, _, a, b) in &buckets {
            let s = usize::from(steps[usize::from(k)].slice);
            if s == 0 {
                for h in self.hashes[a as usize..b as usize].iter().step_by(2) {
                    sink ^= h[0];
                }
            } else {
                let partner = &self.tables[s - 1].partner[a as usize..b as usize];
                for p in partner.iter().step_by(32) {
                    sink ^= u64::from(*p);
                }
            }
        }
        std::hint::black_box(sink);

        // Scan: postings whose whole chunk is within the step's limit become candidates.
        let mut candidates: Vec<(u8, u32)> = Vec::with_capacity(256);
        for &(k, limit, a, b) in &buckets {
            let s = usize::from(steps[usize::from(k)].slice);
            let limit = u32::from(limit);
            if s == 0 {
                let q_partner = qs[1];
                for (i, h) in self.hashes[a as usize..b as usize].iter().enumerate() {
                    if pop16(slice(h, 1) ^ q_partner) <= limit {
                        candidates.push((k, a + i as u32));
                    }
                }
            } else {
                let table = &self.tables[s - 1];
                let q_partner = qs[s ^ 1];
                let limit = limit as u16;
                let partner = &table.partner[a as usize..b as usize];
                // Blocks of 16 postings give the compiler a fixed-width loop it vectorises
                // (bit-parallel popcount on 16-bit lanes); the rare hits are picked out of a mask.
                let mut blocks = partner.chunks_exact(16);
                let mut base = a as usize;
                for block in &mut blocks {
                    let mut mask = 0u32;
                    for (j, &p) in block.iter().enumerate() {
                        mask |= u32::from(swar_pop16(p ^ q_partner) <= limit) << j;
                    }
                    while mask != 0 {
                        let j = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        candidates.push((k, table.ids.get(base + j) as u32));
                    }
                    base += 16;
                }
                for (j, &p) in blocks.remainder().iter().enumerate() {
                    if swar_pop16(p ^ q_partner) <= limit {
                        candidates.push((k, table.ids.get(base + j) as u32));
                    }
                }
            }
        }

        // A hash can be a candidate of several steps (near-duplicates share most slices):
        // verify each once, in hash order. Touch the hashes first so their misses overlap.
        candidates.sort_unstable_by_key(|&(_, v)| v);
        candidates.dedup_by_key(|&mut (_, v)| v);
        let mut sink = 0u64;
        for &(_, v) in &candidates {
            sink ^= self.hashes[v as usize][0];
        }
        std::hint::black_box(sink);
        for &(_, v) in &candidates {
            let d = distance_within(&self.hashes[v as usize], q, radius);
            if d <= radius {
                hit(v as usize, d);
            }
        }
    }
}

/// The bucket directory of slice `s` over `hashes` (which, for slice 0, are sorted by it).
fn directory(hashes: &[[u64; 4]], s: usize) -> Vec<u32> {
    let mut dir = vec![0u32; KEYS + 1];
    for h in hashes {
        dir[usize::from(slice(h, s)) + 1] += 1;
    }
    for k in 0..KEYS {
        dir[k + 1] += dir[k];
    }
    dir
}

/// Builds the secondary table of slice `s` with a counting sort (postings in hash order within
/// each bucket, so verification walks the hash array forwards).
fn table(hashes: &[[u64; 4]], s: usize) -> Table {
    let dir = directory(hashes, s);
    let mut cursor: Vec<u32> = dir[..KEYS].to_vec();
    let mut partner = vec![0u16; hashes.len()];
    let wide = hashes.len() > 1 << 24;
    let mut ids24 = if wide {
        Vec::new()
    } else {
        vec![[0u8; 3]; hashes.len()]
    };
    let mut ids32 = if wide {
        vec![0u32; hashes.len()]
    } else {
        Vec::new()
    };
    for (v, h) in hashes.iter().enumerate() {
        let key = usize::from(slice(h, s));
        let pos = cursor[key] as usize;
        cursor[key] += 1;
        partner[pos] = slice(h, s ^ 1);
        if wide {
            ids32[pos] = v as u32;
        } else {
            let b = (v as u32).to_le_bytes();
            ids24[pos] = [b[0], b[1], b[2]];
        }
    }
    Table {
        dir,
        partner,
        ids: if wide {
            Ids::U32(ids32)
        } else {
            Ids::U24(ids24)
        },
    }
}

/// Checks that chunk arithmetic agrees with slice numbering (chunk `c` = slices `2c`, `2c + 1`).
const _: () = assert!(CHUNKS * 2 == SLICES);

#[cfg(test)]
mod tests {
    use super::*;

    fn h(words: [u64; 4]) -> PdqHash {
        PdqHash { words }
    }

    #[test]
    fn slices_follow_word_order() {
        let w = [
            0x0001_0002_0003_0004,
            0x0005_0006_0007_0008,
            0x0009_000a_000b_000c,
            0x000d_000e_000f_0010,
        ];
        let s = slices(&w);
        assert_eq!(s.to_vec(), (1..=16).collect::<Vec<u16>>());
    }

    #[test]
    fn pop16_counts_bits() {
        for x in 0..=u16::MAX {
            assert_eq!(pop16(x), x.count_ones());
            assert_eq!(u32::from(swar_pop16(x)), x.count_ones());
        }
    }

    #[test]
    fn masks_cover_every_key_once_by_weight() {
        let (masks, start) = masks_by_weight();
        assert_eq!(masks.len(), 65536);
        assert_eq!(start[1] - start[0], 1);
        assert_eq!(start[2] - start[1], 16);
        assert_eq!(start[17], 65536);
    }

    #[test]
    fn duplicates_are_stored_once_and_reported_for_every_entry() {
        let a = h([1, 2, 3, 4]);
        let mut near = a;
        near.words[3] ^= 0b111;
        let items = vec![
            (a, EntryRef::new(1, 10)),
            (a, EntryRef::new(2, 20)),
            (a, EntryRef::new(1, 10)),
            (near, EntryRef::new(1, 11)),
        ];
        let index = PdqIndex::build(items).unwrap();
        assert_eq!((index.len(), index.distinct()), (3, 2));
        assert_eq!(
            index.range(&a, 31),
            vec![
                (EntryRef::new(1, 10), 0),
                (EntryRef::new(1, 11), 3),
                (EntryRef::new(2, 20), 0)
            ]
        );
        assert_eq!(index.range(&a, 2).len(), 2);
    }
}
