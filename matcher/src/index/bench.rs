//! Reproducible measurements of the PDQ index: realistic data sets and `takedown bench match`.
//!
//! Performance claims need data anyone can regenerate and a measurement anyone can rerun. The
//! generator is deterministic (own PRNG, fixed seed) and mimics hash lists: half unrelated hashes,
//! half clusters of near-duplicates (re-encodes, crops, watermarks of the same image, including
//! exact duplicates and a few very large clusters that skew buckets). Queries mix hits, near-hits
//! around the threshold and misses. The runner builds the index, times single-threaded queries
//! through the public matching API, and checks recall against a parallel brute-force scan outside
//! the timing.

use super::{EntryNo, EntryRef, IndexBuilder, IndexError, IndexVersion, ListInfo, Signal};
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

/// What a generated query was made to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryClass {
    /// An entry with 0–8 bits flipped.
    Hit,
    /// An entry with 24–40 bits flipped (around the default threshold of 31).
    NearHit,
    /// A uniform random hash.
    Miss,
}

impl QueryClass {
    /// The class's name in `query-classes.txt`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryClass::Hit => "hit",
            QueryClass::NearHit => "near_hit",
            QueryClass::Miss => "miss",
        }
    }

    /// Parses a name written by [`QueryClass::as_str`].
    pub fn parse(s: &str) -> Option<QueryClass> {
        [QueryClass::Hit, QueryClass::NearHit, QueryClass::Miss]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// The class of query `i` of [`generate_queries`].
pub fn query_class(i: usize, entries_empty: bool) -> QueryClass {
    match i % 3 {
        _ if entries_empty => QueryClass::Miss,
        0 => QueryClass::Hit,
        1 => QueryClass::NearHit,
        _ => QueryClass::Miss,
    }
}

/// `q` queries against `entries`: a third hits (an entry with 0–8 bits flipped), a third
/// near-hits (24–40 bits flipped, around the default threshold of 31), a third misses (uniform).
/// Query `i`'s class is [`query_class`]`(i, entries.is_empty())`.
pub fn generate_queries(entries: &[PdqHash], q: usize, seed: u64) -> Vec<PdqHash> {
    let mut rng = Rng::new(seed ^ 0x5155_4552_5945_5321);
    (0..q)
        .map(|i| match query_class(i, entries.is_empty()) {
            QueryClass::Miss => rng.hash(),
            class => {
                let e = entries[rng.range(0, entries.len() as u64 - 1) as usize];
                let k = if class == QueryClass::Hit {
                    rng.range(0, 8)
                } else {
                    rng.range(24, 40)
                };
                rng.flip(&e, k as u32)
            }
        })
        .collect()
}

/// Query rate of one class of queries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    /// The class.
    pub class: QueryClass,
    /// Queries of this class.
    pub queries: usize,
    /// Median over the runs of (queries of the class / time spent in them).
    pub qps: f64,
    /// Matches found for the class's queries.
    pub matches: u64,
}

/// The result of `takedown bench match`, printed as its last line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Entries indexed.
    pub entries: usize,
    /// Distinct hashes among them.
    pub distinct: usize,
    /// Queries run (every one of them, in every run).
    pub queries: usize,
    /// Query radius.
    pub radius: u32,
    /// Median of `qps_runs`.
    pub qps: f64,
    /// Queries a second of each run over all the queries, single-threaded, through
    /// [`IndexVersion::match_pdq`].
    pub qps_runs: Vec<f64>,
    /// Per query class, when the classes are known (empty otherwise).
    pub classes: Vec<ClassReport>,
    /// Fraction of the brute-force matches the index found (1.0 = all).
    pub recall: f64,
    /// Brute-force matches the index did not report (must be 0).
    pub missed: u64,
    /// Matches the index reported that brute force did not (must be 0).
    pub false_positives: u64,
    /// Total (query, entry) matches found by the index (first run).
    pub matches: u64,
    /// Seconds to build the index (all cores).
    pub build_s: f64,
    /// Heap bytes the whole version has allocated (capacities of every table: PDQ primary and
    /// secondary tables, directories, entry references, exact indexes, delta), per entry.
    pub bytes_per_entry: f64,
    /// Growth of the process's resident memory over the build, per entry, when the caller
    /// measured it.
    pub rss_growth_bytes_per_entry: Option<f64>,
}

/// A benchmark's outcome beyond the report: what a caller may want to print or keep.
#[derive(Debug)]
pub struct BenchRun {
    /// The report.
    pub report: BenchReport,
    /// Seconds the brute-force check took (all cores).
    pub brute_force_s: f64,
    /// The built index (for further measurements, e.g. snapshots).
    pub version: IndexVersion,
}

/// Builds the benchmark's index of `entries` (list 0, entry numbers in order, threshold
/// `radius`); returns it with the seconds the build took.
pub fn build(entries: &[PdqHash], radius: u32) -> Result<(IndexVersion, f64), IndexError> {
    let start = Instant::now();
    let mut builder = IndexBuilder::new();
    builder
        .list(0, ListInfo::block().with_threshold(radius))
        .add_pdq_list(0, entries);
    let version = builder.build()?;
    Ok((version, start.elapsed().as_secs_f64()))
}

/// Builds an index of `entries` and measures it with [`measure`].
pub fn run(
    entries: &[PdqHash],
    queries: &[PdqHash],
    radius: u32,
    runs: usize,
    classes: Option<&[QueryClass]>,
) -> Result<BenchRun, IndexError> {
    let (version, build_s) = build(entries, radius)?;
    Ok(measure(
        version, build_s, entries, queries, radius, runs, classes,
    ))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs every query single-threaded `runs` times (each query timed alone as well, for the
/// per-class rates when `classes` gives each query's class), then checks the first run's
/// answers against brute force.
pub fn measure(
    version: IndexVersion,
    build_s: f64,
    entries: &[PdqHash],
    queries: &[PdqHash],
    radius: u32,
    runs: usize,
    classes: Option<&[QueryClass]>,
) -> BenchRun {
    let runs = runs.max(1);
    if let Some(c) = classes {
        assert_eq!(c.len(), queries.len(), "one class per query");
    }
    let mut found: Vec<Vec<EntryNo>> = Vec::with_capacity(queries.len());
    let mut qps_runs = Vec::with_capacity(runs);
    let mut class_time: Vec<Vec<f64>> = Vec::with_capacity(runs);
    for run in 0..runs {
        let mut per_query = vec![0f64; queries.len()];
        let start = Instant::now();
        for (i, q) in queries.iter().enumerate() {
            let t = Instant::now();
            let outcome = version.match_pdq(q, 100);
            if run == 0 {
                found.push(outcome.matches().iter().map(|m| m.entry.entry).collect());
            } else {
                std::hint::black_box(outcome);
            }
            per_query[i] = t.elapsed().as_secs_f64();
        }
        qps_runs.push(queries.len() as f64 / start.elapsed().as_secs_f64().max(1e-9));
        class_time.push(per_query);
    }

    let start = Instant::now();
    let truth = brute_force(entries, queries, radius);
    let brute_force_s = start.elapsed().as_secs_f64();

    let (mut hit, mut expected, mut false_positives, mut matches) = (0u64, 0u64, 0u64, 0u64);
    for (f, t) in found.iter_mut().zip(&truth) {
        f.sort_unstable();
        matches += f.len() as u64;
        expected += t.len() as u64;
        let common = t.iter().filter(|e| f.binary_search(e).is_ok()).count() as u64;
        hit += common;
        false_positives += f.len() as u64 - common;
    }
    let mut class_reports = Vec::new();
    if let Some(classes) = classes {
        for class in [QueryClass::Hit, QueryClass::NearHit, QueryClass::Miss] {
            let members: Vec<usize> = (0..queries.len())
                .filter(|&i| classes[i] == class)
                .collect();
            if members.is_empty() {
                continue;
            }
            let rates: Vec<f64> = class_time
                .iter()
                .map(|t| {
                    members.len() as f64 / members.iter().map(|&i| t[i]).sum::<f64>().max(1e-9)
                })
                .collect();
            class_reports.push(ClassReport {
                class,
                queries: members.len(),
                qps: median(&rates),
                matches: members.iter().map(|&i| found[i].len() as u64).sum(),
            });
        }
    }
    let report = BenchReport {
        entries: entries.len(),
        distinct: version.pdq_base().distinct(),
        queries: queries.len(),
        radius,
        qps: median(&qps_runs),
        qps_runs,
        classes: class_reports,
        recall: if expected == 0 {
            1.0
        } else {
            hit as f64 / expected as f64
        },
        missed: expected - hit,
        false_positives,
        matches,
        build_s,
        bytes_per_entry: version.heap_bytes() as f64 / entries.len().max(1) as f64,
        rss_growth_bytes_per_entry: None,
    };
    BenchRun {
        report,
        brute_force_s,
        version,
    }
}

/// For each query, the (sorted) entry numbers within `radius`, by comparing with every entry on
/// all cores with [`PdqHash::distance`] (the plain definition, not the index's own kernel):
/// blocks of entries small enough to stay in cache meet every query.
pub fn brute_force(entries: &[PdqHash], queries: &[PdqHash], radius: u32) -> Vec<Vec<EntryNo>> {
    const BLOCK: usize = 8192;
    let pairs: Vec<(u32, EntryNo)> = entries
        .par_chunks(BLOCK)
        .enumerate()
        .flat_map_iter(|(b, block)| {
            let mut out = Vec::new();
            for (qi, q) in queries.iter().enumerate() {
                for (i, e) in block.iter().enumerate() {
                    if e.distance(q) <= radius {
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

/// Exact MD5 lookups through the matching API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Md5Report {
    /// MD5 entries indexed.
    pub entries: usize,
    /// Lookups, each of a different key (half listed, half not), in random order.
    pub lookups: usize,
    /// Lookups that matched (must be the listed half).
    pub hits: usize,
    /// Lookups a second, single-threaded, through [`IndexVersion::match_signal`].
    pub lookups_per_s: f64,
}

/// Indexes `n` random MD5 digests and looks up `lookups` keys, each once: half of them listed
/// (distinct entries, none looked up twice), half fresh random digests, shuffled, each through
/// [`IndexVersion::match_signal`].
pub fn md5_lookups(n: usize, lookups: usize, seed: u64) -> Result<Md5Report, IndexError> {
    let mut rng = Rng::new(seed ^ 0x4d44_3500);
    let key = |rng: &mut Rng| {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        k[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
        k
    };
    let keys: Vec<[u8; 16]> = (0..n).map(|_| key(&mut rng)).collect();
    let mut builder = IndexBuilder::new();
    builder.list(0, ListInfo::block());
    for (i, k) in keys.iter().enumerate() {
        builder.add(
            EntryRef::new(0, i as EntryNo),
            Signal::Md5(takedown_core::Md5Digest(*k)),
        );
    }
    let version = builder.build()?;
    let listed = (lookups / 2).min(n);
    // Distinct listed keys: a random subset of the entries (partial Fisher–Yates).
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..listed {
        let j = rng.range(i as u64, n as u64 - 1) as usize;
        order.swap(i, j);
    }
    let mut probe: Vec<[u8; 16]> = order[..listed].iter().map(|&i| keys[i]).collect();
    drop(order);
    probe.extend((listed..lookups).map(|_| key(&mut rng)));
    for i in (1..probe.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        probe.swap(i, j);
    }
    let start = Instant::now();
    let mut hits = 0usize;
    for k in &probe {
        let outcome = version.match_signal(&Signal::Md5(takedown_core::Md5Digest(*k)));
        hits += usize::from(!outcome.matches().is_empty());
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(Md5Report {
        entries: n,
        lookups: probe.len(),
        hits,
        lookups_per_s: probe.len() as f64 / elapsed.max(1e-9),
    })
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
        let run = run(&a, &q, 31, 1, None).unwrap();
        assert_eq!(run.report.recall, 1.0);
        assert_eq!(run.report.false_positives, 0);
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
