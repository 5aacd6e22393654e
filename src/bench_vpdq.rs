//! `takedown bench vpdq`: how fast videos are hashed and matched, measured the same way by
//! anyone.
//!
//! Hashing: a 60 s 640×480 H.264 video (FFmpeg's `testsrc2`, generated once into a temp dir)
//! hashed at one hash a second with one decoder thread, timed as wall-clock and as CPU time of
//! this process and its children (the decoder), as shipped (unsampled non-reference pictures
//! left out) and decoding every frame as the reference does; with `TAKEDOWN_VPDQ_REFERENCE_PYTHON` (see
//! `scripts/vpdq-reference-venv`) the PyPI `vpdq` binding of Meta's C++ hashes the same file
//! in the same run. Matching: an index of `--videos` × `--frames` random frame hashes, queried
//! single-threaded with near-duplicates of listed videos and unrelated videos.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use takedown_core::VpdqFrame;
use takedown_matcher::index::EntryRef;
use takedown_matcher::index::bench::Rng;
use takedown_matcher::vpdq::{VpdqIndex, VpdqThresholds};
use takedown_video::VpdqOptions;

/// Arguments of `takedown bench vpdq`.
#[derive(clap::Args, Debug)]
pub struct BenchVpdqArgs {
    /// Listed videos in the match index.
    #[arg(long, default_value_t = 100_000)]
    pub videos: usize,
    /// Frames of each listed video (one hash a second: a minute).
    #[arg(long, default_value_t = 60)]
    pub frames: usize,
    /// Query videos matched (half near-duplicates of listed ones).
    #[arg(long, default_value_t = 2_000)]
    pub queries: usize,
    /// Timed hashing runs (the report gives each).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Skip the hashing part.
    #[arg(long)]
    pub skip_hash: bool,
}

/// CPU seconds of this process and of its waited-for children, from `/proc/self/stat`.
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(')').context("stat format")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14–17 of the line: 11–14 after the name.
    let ticks: f64 = fields[11..15]
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Ok(ticks / 100.0)
}

fn generate(path: &Path) -> anyhow::Result<()> {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x480:rate=30:duration=60",
        ])
        .args([
            "-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p",
        ])
        .arg(path)
        .status()
        .context("run ffmpeg")?;
    if !status.success() {
        bail!("ffmpeg could not generate the benchmark video");
    }
    Ok(())
}

const REFERENCE_SCRIPT: &str = r#"
import resource, sys, time, vpdq
path = sys.argv[1]
for _ in range(int(sys.argv[2])):
    r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
    hashes = vpdq.computeHash(path, seconds_per_hash=1, thread_count=1)
    t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"{t1 - t0:.3f} {cpu:.3f} {len(hashes)}")
"#;

fn bench_hash(args: &BenchVpdqArgs) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("bench-60s-640x480.mp4");
    generate(&video)?;
    let mut ours = Vec::new();
    let mut every_frame = Vec::new();
    for _ in 0..args.runs {
        for (decode_every_frame, runs) in [(false, &mut ours), (true, &mut every_frame)] {
            let options = VpdqOptions {
                decode_every_frame,
                ..VpdqOptions::default()
            };
            let (t0, c0) = (Instant::now(), cpu_seconds()?);
            let hash = takedown_video::hash_file(&video, &options)?;
            let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds()? - c0);
            let decoded = match hash.decoding {
                takedown_video::Decoding::Sparse { decoded, .. } => decoded,
                takedown_video::Decoding::Every => hash.info.frames.unwrap_or(0),
            };
            eprintln!(
                "takedown{}: {wall:.3} s wall, {cpu:.2} s CPU, {} frames hashed, {decoded} decoded",
                if decode_every_frame {
                    " (decoding every frame)"
                } else {
                    ""
                },
                hash.frames.len()
            );
            runs.push(serde_json::json!({"wall_s": wall, "cpu_s": cpu,
                                         "frames": hash.frames.len(), "decoded": decoded}));
        }
    }
    // Where the time goes: FFmpeg decoding every frame and nothing else (no filter, no
    // conversion, no output), on one thread.
    let mut decode_only = Vec::new();
    for _ in 0..args.runs {
        let (t0, c0) = (Instant::now(), cpu_seconds()?);
        let status = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-threads",
                "1",
                "-i",
            ])
            .arg(&video)
            .args(["-f", "null", "-"])
            .status()
            .context("run ffmpeg")?;
        if !status.success() {
            bail!("ffmpeg could not decode the benchmark video");
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds()? - c0);
        eprintln!("decode only (ffmpeg -f null): {wall:.3} s wall, {cpu:.2} s CPU");
        decode_only.push(serde_json::json!({"wall_s": wall, "cpu_s": cpu}));
    }
    let reference = match std::env::var_os("TAKEDOWN_VPDQ_REFERENCE_PYTHON") {
        None => {
            eprintln!("reference: skipped (set TAKEDOWN_VPDQ_REFERENCE_PYTHON)");
            serde_json::Value::Null
        }
        Some(python) => {
            let out = Command::new(python)
                .args(["-c", REFERENCE_SCRIPT])
                .arg(&video)
                .arg(args.runs.to_string())
                .output()
                .context("run the reference's python")?;
            if !out.status.success() {
                bail!("reference failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let runs: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| {
                    let v: Vec<f64> = l.split(' ').filter_map(|x| x.parse().ok()).collect();
                    (v.len() == 3).then(|| {
                        eprintln!(
                            "reference: {:.3} s wall, {:.2} s CPU, {} frames",
                            v[0], v[1], v[2]
                        );
                        serde_json::json!({"wall_s": v[0], "cpu_s": v[1], "frames": v[2]})
                    })
                })
                .collect();
            serde_json::Value::from(runs)
        }
    };
    Ok(
        serde_json::json!({"takedown": ours, "takedown_decoding_every_frame": every_frame,
                          "decode_only": decode_only,
                          "reference_pypi_vpdq": reference}),
    )
}

fn frames(hashes: impl Iterator<Item = takedown_core::PdqHash>) -> Vec<VpdqFrame> {
    hashes
        .enumerate()
        .map(|(i, hash)| VpdqFrame {
            frame_number: i as u64 * 30,
            hash,
            quality: 100,
            timestamp: i as f64,
        })
        .collect()
}

fn bench_match(args: &BenchVpdqArgs) -> anyhow::Result<serde_json::Value> {
    let mut rng = Rng::new(15);
    let listed: Vec<Vec<VpdqFrame>> = (0..args.videos)
        .map(|_| frames((0..args.frames).map(|_| rng.hash())))
        .collect();
    let t0 = Instant::now();
    let index = VpdqIndex::build(
        listed
            .iter()
            .enumerate()
            .map(|(i, v)| (EntryRef::new(0, i as u32), &v[..])),
        HashMap::new(),
        VpdqThresholds::default(),
    )?;
    let build_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "index: {} videos, {} frames, built in {build_s:.1} s",
        index.videos(),
        index.frames()
    );
    let queries: Vec<Vec<VpdqFrame>> = (0..args.queries)
        .map(|q| {
            if q % 2 == 0 {
                // A re-encode of a listed video: every frame a few bits off.
                let source = &listed[rng.range(0, listed.len() as u64 - 1) as usize];
                let bits = rng.range(0, 20) as u32;
                frames(source.iter().map(|f| rng.flip(&f.hash, bits)))
            } else {
                frames((0..args.frames).map(|_| rng.hash()))
            }
        })
        .collect();
    let t0 = Instant::now();
    let mut matched = 0usize;
    for q in &queries {
        matched += usize::from(!index.search(q, 1.5).is_empty());
    }
    let secs = t0.elapsed().as_secs_f64();
    let rate = queries.len() as f64 / secs;
    eprintln!(
        "match: {} query videos in {secs:.2} s = {rate:.0} videos/s, {matched} matched",
        queries.len()
    );
    if matched != queries.len().div_ceil(2) {
        bail!("expected every near-duplicate and no unrelated video to match, got {matched}");
    }
    Ok(serde_json::json!({
        "videos": index.videos(), "frames": index.frames(), "build_s": build_s,
        "queries": queries.len(), "videos_per_s": rate, "matched": matched,
    }))
}

/// Runs `takedown bench vpdq`; the JSON report is the last line on stdout.
pub fn run(args: &BenchVpdqArgs) -> anyhow::Result<()> {
    let hash = if args.skip_hash {
        serde_json::Value::Null
    } else {
        bench_hash(args)?
    };
    let matching = bench_match(args)?;
    println!(
        "{}",
        serde_json::json!({"nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                           "hash": hash, "match": matching})
    );
    Ok(())
}
