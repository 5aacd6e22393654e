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
    /// Query hashes: one 64-hex PDQ hash per line.
    #[arg(long, value_name = "FILE")]
    pub queries: PathBuf,
    /// Query radius (PDQ distance), 0..=256.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub radius: u32,
    /// Also save the built index as a snapshot here and time loading it back.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
}

/// Arguments of `takedown bench gen-hashes`.
#[derive(clap::Args, Debug)]
pub struct BenchGenArgs {
    /// Number of list hashes (half uniform, half clusters of near-duplicates).
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: usize,
    /// Number of queries (a third hits, a third near-hits, a third misses).
    #[arg(long, default_value_t = 10_000)]
    pub queries: usize,
    /// Seed; the same seed always gives the same files.
    #[arg(long, default_value_t = bench::DEFAULT_SEED)]
    pub seed: u64,
    /// Directory for `entries.txt` and `queries.txt` (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
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

/// Runs `takedown bench match`; the last line printed is the JSON report.
pub fn run(args: &BenchMatchArgs) -> anyhow::Result<()> {
    let entries = read_hashes(&args.index)?;
    let queries = read_hashes(&args.queries)?;
    if entries.is_empty() {
        bail!("{} has no hashes", args.index.display());
    }
    eprintln!(
        "indexing {} hashes, running {} queries at radius {}, then checking them by brute force",
        entries.len(),
        queries.len(),
        args.radius
    );
    let run = bench::run(&entries, &queries, args.radius)?;
    eprintln!(
        "brute force: {:.1} s; false positives: {}",
        run.brute_force_s, run.false_positives
    );
    if let Some(path) = &args.snapshot {
        let start = Instant::now();
        snapshot::save_file(&run.version, path)?;
        let save_s = start.elapsed().as_secs_f64();
        drop(run.version);
        let start = Instant::now();
        let loaded = snapshot::load_file(path)?;
        let load_s = start.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(path)?.len();
        eprintln!(
            "snapshot: {bytes} bytes, saved in {save_s:.2} s, loaded in {load_s:.2} s ({} entries)",
            loaded.len()
        );
    }
    if run.false_positives > 0 {
        bail!(
            "the index reported {} matches brute force did not: {}",
            run.false_positives,
            serde_json::to_string(&run.report)?
        );
    }
    println!("{}", serde_json::to_string(&run.report)?);
    Ok(())
}

/// Runs `takedown bench gen-hashes`: writes `entries.txt` and `queries.txt` to the directory.
pub fn run_gen(args: &BenchGenArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let entries = bench::generate_entries(args.entries, args.seed);
    let queries = bench::generate_queries(&entries, args.queries, args.seed);
    write_hashes(&args.out_dir.join("entries.txt"), &entries)?;
    write_hashes(&args.out_dir.join("queries.txt"), &queries)?;
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

    #[test]
    fn generated_files_bench_with_full_recall() {
        let dir = tempfile::tempdir().unwrap();
        run_gen(&BenchGenArgs {
            entries: 3000,
            queries: 90,
            seed: 1,
            out_dir: dir.path().to_path_buf(),
        })
        .unwrap();
        let entries = read_hashes(&dir.path().join("entries.txt")).unwrap();
        assert_eq!(entries, bench::generate_entries(3000, 1));
        run(&BenchMatchArgs {
            index: dir.path().join("entries.txt"),
            queries: dir.path().join("queries.txt"),
            radius: 31,
            snapshot: Some(dir.path().join("index.snap")),
        })
        .unwrap();
    }
}
