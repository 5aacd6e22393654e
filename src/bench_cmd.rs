//! `takedown bench match` and `takedown bench gen-hashes`: the PDQ index's performance, measured
//! the same way by anyone.
//!
//! `gen-hashes` writes a deterministic, realistic pair of files (list hashes and queries); `match`
//! builds the index from one file, runs the other's queries single-threaded, checks recall against
//! a brute-force scan on all cores, and prints a JSON report as its last line. The logic lives in
//! `takedown_matcher::index::bench`; this module reads and writes files.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use takedown_core::PdqHash;
use takedown_matcher::index::{bench, snapshot};

/// Arguments of `takedown bench match`.
#[derive(clap::Args, Debug)]
pub struct BenchMatchArgs {
    /// List hashes to index: one 64-hex PDQ hash per line.
    #[arg(long, value_name = "FILE")]
    pub index: PathBuf,
    /// Query hashes: one 64-hex PDQ hash per line. Every one is run, in every run.
    #[arg(long, value_name = "FILE")]
    pub queries: PathBuf,
    /// Each query's class (`hit`, `near_hit`, `miss`), one a line, as `gen-hashes` writes to
    /// `query-classes.txt`: the report then gives the rate of each class.
    #[arg(long, value_name = "FILE")]
    pub query_classes: Option<PathBuf>,
    /// Query radius (PDQ distance), 0..=256.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub radius: u32,
    /// Timed runs over all the queries; the report gives each and their median.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Also save the built index as a snapshot here and time loading it back, first with the
    /// file evicted from the page cache (cold), then again with it cached (warm).
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Exact lookups to time: an MD5 index of as many digests as `--index` has lines, looked up
    /// through the matching API with this many distinct keys (half listed). 0 skips it.
    #[arg(long, default_value_t = 1_000_000)]
    pub md5_lookups: usize,
}

/// Arguments of `takedown bench gen-hashes`.
#[derive(clap::Args, Debug)]
pub struct BenchGenArgs {
    /// Number of list hashes.
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: usize,
    /// Fraction of the list hashes in clusters of near-duplicates (0 = all uniform, 1 = all
    /// clustered); the rest are uniform.
    #[arg(long, default_value_t = 0.5)]
    pub clustered: f64,
    /// Number of queries (a third hits, a third near-hits, a third misses).
    #[arg(long, default_value_t = 10_000)]
    pub queries: usize,
    /// Seed; the same seed always gives the same files.
    #[arg(long, default_value_t = bench::DEFAULT_SEED)]
    pub seed: u64,
    /// Directory for `entries.txt`, `queries.txt` and `query-classes.txt` (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// The whole report of `takedown bench match`: the index, its snapshot, exact lookups.
#[derive(Debug, serde::Serialize)]
pub struct MatchBenchReport {
    /// The PDQ index.
    #[serde(flatten)]
    pub index: bench::BenchReport,
    /// Snapshot save and loads, when `--snapshot` was given.
    pub snapshot: Option<SnapshotReport>,
    /// Exact MD5 lookups, unless `--md5-lookups 0`.
    pub md5: Option<bench::Md5Report>,
}

/// Snapshot timings.
#[derive(Debug, serde::Serialize)]
pub struct SnapshotReport {
    /// File size.
    pub bytes: u64,
    /// Seconds to save (including `fsync`).
    pub save_s: f64,
    /// Seconds to load with the file evicted from the page cache first (`POSIX_FADV_DONTNEED`
    /// after `fsync`): what a restart after a reboot or under memory pressure pays.
    pub load_cold_s: f64,
    /// Seconds to load again right after, the file in the page cache.
    pub load_warm_s: f64,
}

/// Resident memory of this process, in bytes (`VmRSS`).
fn rss_bytes() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

/// Drops `path`'s pages from the page cache (written back first), so the next read comes from
/// the disk.
fn evict_from_page_cache(path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)?;
    file.sync_all()?;
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)
        .with_context(|| format!("cannot evict {} from the page cache", path.display()))?;
    Ok(())
}

/// Reads one PDQ hash per line (blank lines and `#` comments skipped).
fn read_hashes(path: &Path) -> anyhow::Result<Vec<PdqHash>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let hash = PdqHash::parse(text)
            .with_context(|| format!("{}:{}: not a PDQ hash", path.display(), i + 1))?;
        out.push(hash);
    }
    Ok(out)
}

fn write_hashes(path: &Path, hashes: &[PdqHash]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    for h in hashes {
        writeln!(w, "{h}")?;
    }
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads one query class per line.
fn read_classes(path: &Path) -> anyhow::Result<Vec<bench::QueryClass>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            bench::QueryClass::parse(l.trim())
                .with_context(|| format!("{}:{}: not a query class: {l}", path.display(), i + 1))
        })
        .collect()
}

/// Runs `takedown bench match` and prints the JSON report as the last line. Fails (after
/// printing the report) when the index missed a match brute force found, reported one it did
/// not, or an exact lookup gave a wrong answer: a benchmark of a wrong index measures nothing.
pub fn run(args: &BenchMatchArgs) -> anyhow::Result<MatchBenchReport> {
    let entries = read_hashes(&args.index)?;
    let queries = read_hashes(&args.queries)?;
    if entries.is_empty() {
        bail!("{} has no hashes", args.index.display());
    }
    let classes = match &args.query_classes {
        Some(path) => {
            let c = read_classes(path)?;
            if c.len() != queries.len() {
                bail!(
                    "{} has {} classes for {} queries",
                    path.display(),
                    c.len(),
                    queries.len()
                );
            }
            Some(c)
        }
        None => None,
    };
    eprintln!(
        "indexing {} hashes, running {} queries {} times at radius {}, then checking them by brute force",
        entries.len(),
        queries.len(),
        args.runs,
        args.radius
    );
    let rss_before = rss_bytes();
    let (version, build_s) = bench::build(&entries, args.radius)?;
    let rss_growth = rss_before
        .zip(rss_bytes())
        .map(|(a, b)| b.saturating_sub(a));
    let run = bench::measure(
        version,
        build_s,
        &entries,
        &queries,
        args.radius,
        args.runs as usize,
        classes.as_deref(),
    );
    let mut index = run.report;
    index.rss_growth_bytes_per_entry = rss_growth.map(|g| g as f64 / entries.len() as f64);
    eprintln!(
        "brute force: {:.1} s; missed: {}; false positives: {}",
        run.brute_force_s, index.missed, index.false_positives
    );
    let snapshot = match &args.snapshot {
        Some(path) => {
            let start = Instant::now();
            snapshot::save_file(&run.version, path)?;
            std::fs::File::open(path)?.sync_all()?;
            let save_s = start.elapsed().as_secs_f64();
            drop(run.version);
            evict_from_page_cache(path)?;
            let start = Instant::now();
            let loaded = snapshot::load_file(path)?;
            let load_cold_s = start.elapsed().as_secs_f64();
            drop(loaded);
            let start = Instant::now();
            let loaded = snapshot::load_file(path)?;
            let load_warm_s = start.elapsed().as_secs_f64();
            let bytes = std::fs::metadata(path)?.len();
            eprintln!(
                "snapshot: {bytes} bytes, saved in {save_s:.2} s, loaded cold in {load_cold_s:.2} s, warm in {load_warm_s:.2} s ({} entries)",
                loaded.len()
            );
            Some(SnapshotReport {
                bytes,
                save_s,
                load_cold_s,
                load_warm_s,
            })
        }
        None => {
            drop(run.version);
            None
        }
    };
    let md5 = match args.md5_lookups {
        0 => None,
        n => Some(bench::md5_lookups(entries.len(), n, bench::DEFAULT_SEED)?),
    };
    let report = MatchBenchReport {
        index,
        snapshot,
        md5,
    };
    println!("{}", serde_json::to_string(&report)?);
    verdict(&report)?;
    Ok(report)
}

/// Whether a benchmark's answers were right: full recall, no false positive, exact lookups
/// finding exactly the listed keys.
fn verdict(report: &MatchBenchReport) -> anyhow::Result<()> {
    let index = &report.index;
    if index.missed > 0 || index.false_positives > 0 || index.recall < 1.0 {
        bail!(
            "the index is wrong: recall {}, {} matches missed, {} false positives",
            index.recall,
            index.missed,
            index.false_positives
        );
    }
    if let Some(m) = &report.md5
        && m.hits != (m.lookups / 2).min(m.entries)
    {
        bail!(
            "exact lookups are wrong: {} hits of {} listed keys",
            m.hits,
            (m.lookups / 2).min(m.entries)
        );
    }
    Ok(())
}

/// Runs `takedown bench gen-hashes`: writes `entries.txt` and `queries.txt` to the directory.
pub fn run_gen(args: &BenchGenArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    if !(0.0..=1.0).contains(&args.clustered) {
        bail!("--clustered must be between 0 and 1");
    }
    let entries = bench::generate_entries_mix(args.entries, args.clustered, args.seed);
    let queries = bench::generate_queries(&entries, args.queries, args.seed);
    write_hashes(&args.out_dir.join("entries.txt"), &entries)?;
    write_hashes(&args.out_dir.join("queries.txt"), &queries)?;
    let classes: String = (0..queries.len())
        .map(|i| format!("{}\n", bench::query_class(i, entries.is_empty()).as_str()))
        .collect();
    std::fs::write(args.out_dir.join("query-classes.txt"), classes)
        .with_context(|| format!("cannot write {}", args.out_dir.display()))?;
    eprintln!(
        "wrote {} entries and {} queries to {}",
        entries.len(),
        queries.len(),
        args.out_dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> BenchMatchArgs {
        BenchMatchArgs {
            index: dir.join("entries.txt"),
            queries: dir.join("queries.txt"),
            query_classes: Some(dir.join("query-classes.txt")),
            radius: 31,
            runs: 2,
            snapshot: Some(dir.join("index.snap")),
            md5_lookups: 2000,
        }
    }

    #[test]
    fn generated_files_bench_with_full_recall() {
        let dir = tempfile::tempdir().unwrap();
        run_gen(&BenchGenArgs {
            entries: 3000,
            clustered: 0.5,
            queries: 90,
            seed: 1,
            out_dir: dir.path().to_path_buf(),
        })
        .unwrap();
        let entries = read_hashes(&dir.path().join("entries.txt")).unwrap();
        assert_eq!(entries, bench::generate_entries(3000, 1));
        let report = run(&args(dir.path())).unwrap();
        let index = &report.index;
        assert_eq!(index.recall, 1.0, "{index:?}");
        assert_eq!((index.missed, index.false_positives), (0, 0), "{index:?}");
        assert!(index.matches > 30, "hits and clusters match: {index:?}");
        assert_eq!(index.qps_runs.len(), 2);
        let classes: Vec<_> = index.classes.iter().map(|c| (c.class, c.queries)).collect();
        assert_eq!(
            classes,
            [
                (bench::QueryClass::Hit, 30),
                (bench::QueryClass::NearHit, 30),
                (bench::QueryClass::Miss, 30)
            ]
        );
        assert!(
            index.bytes_per_entry > 100.0,
            "every table counted: {index:?}"
        );
        let snap = report.snapshot.as_ref().unwrap();
        assert!(snap.bytes > 0 && snap.load_cold_s > 0.0 && snap.load_warm_s > 0.0);
        let md5 = report.md5.as_ref().unwrap();
        assert_eq!((md5.lookups, md5.hits), (2000, 1000));
    }

    /// A benchmark whose index missed a match, or reported one brute force did not, fails.
    #[test]
    fn wrong_answers_fail_the_command() {
        let dir = tempfile::tempdir().unwrap();
        run_gen(&BenchGenArgs {
            entries: 500,
            clustered: 0.5,
            queries: 30,
            seed: 2,
            out_dir: dir.path().to_path_buf(),
        })
        .unwrap();
        let mut a = args(dir.path());
        a.snapshot = None;
        let good = run(&a).unwrap();
        assert!(verdict(&good).is_ok());
        let mut missed = run(&a).unwrap();
        missed.index.missed = 1;
        missed.index.recall = 0.99;
        assert!(verdict(&missed).is_err());
        let mut extra = run(&a).unwrap();
        extra.index.false_positives = 1;
        assert!(verdict(&extra).is_err());
        let mut md5 = run(&a).unwrap();
        md5.md5.as_mut().unwrap().hits -= 1;
        assert!(verdict(&md5).is_err());
    }
}
