//! Reproducible measurements of the PDQ index: realistic data sets and `takedown bench match`.
//!
//! Performance claims need data anyone can regenerate and a measurement anyone can rerun. The
//! generator is deterministic (own PRNG, fixed seed) and mimics hash lists: half unrelated hashes,
//! half clusters of near-duplicates (re-encodes, crops, watermarks of the same image, including
//! exact duplicates and a few very large clusters that skew buckets). Queries mix hits, near-hits
//! around the threshold and misses. The runner builds the index, times single-threaded queries
//! through the public matching API, and checks recall against a parallel brute-force scan outside
//! the timing.

use super::hamming::distance_within;
use super::{EntryNo, EntryRef, IndexBuilder, IndexError, IndexVersion, ListInfo};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;
use takedown_core::PdqHash;

/// The seed of the standard data sets.
pub const DEFAULT_SEED: u64 = 0x7a6b_656e_646f_776e;

/// SplitMix64: a small, fast, well-mixed deterministic generator (no dependency, stable output
/// across versions, which a benchmark's data must be).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A uniformly random PDQ hash.
    pub fn hash(&mut self) -> PdqHash {
        PdqHash {
            words: std::array::from_fn(|_| self.next_u64()),
        }
    }

    /// `h` with exactly `k` distinct bits flipped (`k` ≤ 256).
    pub fn flip(&mut self, h: &PdqHash, k: u32) -> PdqHash {
        let mut out = *h;
        if k <= 64 {
            // Few bits: draw positions, skipping any already flipped.
            let mut flipped = 0;
            while flipped < k {
                let bit = (self.next_u64() % 256) as usize;
                if (out.words[bit / 64] ^ h.words[bit / 64]) >> (bit % 64) & 1 == 0 {
                    out.words[bit / 64] ^= 1 << (bit % 64);
                    flipped += 1;
                }
            }
            return out;
        }
        // Many bits: a partial Fisher–Yates shuffle of the positions picks `k` distinct ones.
        let mut bits: [u8; 256] = std::array::from_fn(|i| i as u8);
        for i in 0..(k.min(256) as usize) {
            let j = self.range(i as u64, 255) as usize;
            bits.swap(i, j);
            let bit = usize::from(bits[i]);
            out.words[bit / 64] ^= 1 << (bit % 64);
        }
        out
    }
}

/// Distance of a near-duplicate from its cluster's original: 10% exact copies, 60% close
/// (1–12 bits), 30% further (13–28 bits).
fn member_distance(rng: &mut Rng) -> u32 {
    match rng.range(0, 9) {
        0 => 0,
        1..=6 => rng.range(1, 12) as u32,
        _ => rng.range(13, 28) as u32,
    }
}

/// `n` list hashes: the first half uniform, the second half clusters of near-duplicates
/// (98% of clusters have 2–32 members, 2% have 100–1000), shuffled together.
pub fn generate_entries(n: usize, seed: u64) -> Vec<PdqHash> {
    generate_entries_mix(n, 0.5, seed)
}

/// Like [`generate_entries`] with a fraction `clustered` (0.0–1.0) of near-duplicates instead
/// of one half, to measure uniform and clustered data apart.
pub fn generate_entries_mix(n: usize, clustered: f64, seed: u64) -> Vec<PdqHash> {
    let mut rng = Rng::new(seed);
    let uniform = n - (n as f64 * clustered.clamp(0.0, 1.0)) as usize;
    let mut out: Vec<PdqHash> = (0..uniform).map(|_| rng.hash()).collect();
    while out.len() < n {
        let size = if rng.chance(0.02) {
            rng.range(100, 1000)
        } else {
            rng.range(2, 32)
        } as usize;
        let base = rng.hash();
        for _ in 0..size.min(n - out.len()) {
            let k = member_distance(&mut rng);
            out.push(rng.flip(&base, k));
        }
    }
    // Fisher–Yates, so list order says nothing about clusters.
    for i in (1..out.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        out.swap(i, j);
    }
    out
}

/// `q` queries against `entries`: a third hits (an entry with 0–8 bits flipped), a third
/// near-hits (24–40 bits flipped, around the default threshold of 31), a third misses (uniform).
pub fn generate_queries(entries: &[PdqHash], q: usize, seed: u64) -> Vec<PdqHash> {
    let mut rng = Rng::new(seed ^ 0x5155_4552_5945_5321);
    (0..q)
        .map(|i| {
            if entries.is_empty() || i % 3 == 2 {
                return rng.hash();
            }
            let e = entries[rng.range(0, entries.len() as u64 - 1) as usize];
            let k = if i % 3 == 0 {
                rng.range(0, 8)
            } else {
                rng.range(24, 40)
            };
            rng.flip(&e, k as u32)
        })
        .collect()
}

/// The result of `takedown bench match`, printed as its last line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Entries indexed.
    pub entries: usize,
    /// Queries run.
    pub queries: usize,
    /// Query radius.
    pub radius: u32,
    /// Queries a second, single-threaded, through [`IndexVersion::match_pdq`].
    pub qps: f64,
    /// Fraction of the brute-force matches the index found (1.0 = all).
    pub recall: f64,
    /// Total (query, entry) matches found by the index.
    pub matches: u64,
    /// Seconds to build the index (all cores).
    pub build_s: f64,
    /// Heap bytes of the PDQ index, entry references included, per entry.
    pub bytes_per_entry: f64,
}

/// A benchmark's outcome beyond the report: what a caller may want to print or keep.
#[derive(Debug)]
pub struct BenchRun {
    /// The report.
    pub report: BenchReport,
    /// Matches the index reported that brute force did not (must be 0).
    pub false_positives: u64,
    /// Seconds the brute-force check took (all cores).
    pub brute_force_s: f64,
    /// The built index (for further measurements, e.g. snapshots).
    pub version: IndexVersion,
}

/// Builds an index of `entries` (list 0, entry numbers in order, threshold `radius`), runs every
/// query single-threaded, and checks the answers against brute force.
pub fn run(entries: &[PdqHash], queries: &[PdqHash], radius: u32) -> Result<BenchRun, IndexError> {
    let start = Instant::now();
    let mut builder = IndexBuilder::new();
    builder
        .list(0, ListInfo::block().with_threshold(radius))
        .add_pdq_list(0, entries);
    let version = builder.build()?;
    let build_s = start.elapsed().as_secs_f64();

    let mut found: Vec<Vec<EntryNo>> = Vec::with_capacity(queries.len());
    let start = Instant::now();
    for q in queries {
        let outcome = version.match_pdq(q, 100);
        found.push(outcome.matches().iter().map(|m| m.entry.entry).collect());
    }
    let query_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let truth = brute_force(entries, queries, radius);
    let brute_force_s = start.elapsed().as_secs_f64();

    let (mut hit, mut expected, mut false_positives, mut matches) = (0u64, 0u64, 0u64, 0u64);
    for (mut f, t) in found.into_iter().zip(truth) {
        f.sort_unstable();
        matches += f.len() as u64;
        expected += t.len() as u64;
        let common = t.iter().filter(|e| f.binary_search(e).is_ok()).count() as u64;
        hit += common;
        false_positives += f.len() as u64 - common;
    }
    let pdq = version.pdq_base();
    let report = BenchReport {
        entries: entries.len(),
        queries: queries.len(),
        radius,
        qps: queries.len() as f64 / query_s.max(1e-9),
        recall: if expected == 0 {
            1.0
        } else {
            hit as f64 / expected as f64
        },
        matches,
        build_s,
        bytes_per_entry: pdq.heap_bytes() as f64 / entries.len().max(1) as f64,
    };
    Ok(BenchRun {
        report,
        false_positives,
        brute_force_s,
        version,
    })
}

/// For each query, the (sorted) entry numbers within `radius`, by comparing with every entry on
/// all cores: blocks of entries small enough to stay in cache meet every query.
pub fn brute_force(entries: &[PdqHash], queries: &[PdqHash], radius: u32) -> Vec<Vec<EntryNo>> {
    const BLOCK: usize = 8192;
    let pairs: Vec<(u32, EntryNo)> = entries
        .par_chunks(BLOCK)
        .enumerate()
        .flat_map_iter(|(b, block)| {
            let mut out = Vec::new();
            for (qi, q) in queries.iter().enumerate() {
                for (i, e) in block.iter().enumerate() {
                    if distance_within(&e.words, &q.words, radius) <= radius {
                        out.push((qi as u32, (b * BLOCK + i) as EntryNo));
                    }
                }
            }
            out
        })
        .collect();
    let mut out = vec![Vec::new(); queries.len()];
    for (q, e) in pairs {
        out[q as usize].push(e);
    }
    for v in &mut out {
        v.sort_unstable();
    }
    out
}

/// The entry references of list 0 a benchmark index assigns to `entries`, for tests.
pub fn refs_of(entries: &[PdqHash]) -> Vec<(PdqHash, EntryRef)> {
    entries
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, EntryRef::new(0, i as EntryNo)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sets_are_deterministic_and_mixed() {
        let a = generate_entries(2000, 7);
        assert_eq!(a, generate_entries(2000, 7));
        assert_ne!(a, generate_entries(2000, 8));
        let q = generate_queries(&a, 300, 7);
        assert_eq!(q.len(), 300);
        let run = run(&a, &q, 31).unwrap();
        assert_eq!(run.report.recall, 1.0);
        assert_eq!(run.false_positives, 0);
        // Hits and clusters produce plenty of matches; misses almost none.
        assert!(run.report.matches > 100, "{:?}", run.report);
    }

    #[test]
    fn flip_flips_exactly() {
        let mut rng = Rng::new(1);
        let h = rng.hash();
        for k in [0, 1, 31, 64, 200] {
            assert_eq!(rng.flip(&h, k).distance(&h), k);
        }
    }
}
