//! PDQ speed: from decoded pixels (the reference tool's unit of work) and from encoded files.
//!
//! Run with `cargo bench -p takedown-matcher --bench pdq`. With
//! `TAKEDOWN_PDQ_REFERENCE_PYTHON="$(scripts/pdq-reference-venv)"` it then times Meta's C++
//! reference (the PyPI `pdqhash` binding of it) on the very RGB buffers of `rgb_512x512` and
//! `rgb_64x64`, beside our hash of them in the same run; without it the comparison is skipped
//! and says so.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group};
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use takedown_core::{PdqHash, SignalType};
use takedown_matcher::pdq::{PdqHasher, PixelsRef, PreResize};
use takedown_matcher::{DecodeLimits, SignalComputer};

/// A deterministic textured luma image (values 0..=255).
fn luma(side: usize) -> Vec<f32> {
    (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            ((x * 7 + y * 13 + (x * y) % 31) % 256) as f32
        })
        .collect()
}

/// The RGB buffer of `rgb_{side}x{side}` (also what the C++ reference is timed on).
fn rgb(side: usize) -> Vec<u8> {
    luma(side)
        .iter()
        .flat_map(|&v| [v as u8, (v as u8).wrapping_mul(3), 255 - v as u8])
        .collect()
}

fn pixels(c: &mut Criterion) {
    let mut group = c.benchmark_group("pdq_from_pixels");
    for side in [512usize, 64] {
        let source = luma(side);
        let mut work = source.clone();
        let mut hasher = PdqHasher::new();
        group.bench_function(format!("luma_{side}x{side}"), |b| {
            b.iter(|| {
                work.copy_from_slice(&source);
                black_box(hasher.hash_luma(&mut work, side, side))
            })
        });
        let rgb = rgb(side);
        group.bench_function(format!("rgb_{side}x{side}"), |b| {
            b.iter(|| {
                black_box(hasher.hash_pixels(
                    PixelsRef::Rgb(&rgb),
                    side,
                    side,
                    PreResize::Reference,
                ))
            })
        });
    }
    // The pipeline's case: a 640×480 picture, resized to 512×512 first as the reference does.
    let (w, h) = (640usize, 480usize);
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let v = ((x * 7 + y * 13 + (x * y) % 31) % 256) as u8;
            [v, v.wrapping_mul(3), 255 - v]
        })
        .collect();
    let mut hasher = PdqHasher::new();
    group.bench_function("rgb_640x480_reference_resize", |b| {
        b.iter(|| black_box(hasher.hash_pixels(PixelsRef::Rgb(&rgb), w, h, PreResize::Reference)))
    });
    group.finish();
}

fn files(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pdq/images");
    let mut group = c.benchmark_group("decode_and_hash");
    for name in [
        "bridge-mods/aaa-orig.jpg",
        "reg-test-input/labelme-subset/q0122.jpg",
        "misc-images/c.png",
    ] {
        let bytes = std::fs::read(dir.join(name)).expect("test image");
        let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
        let label = name.rsplit('/').next().unwrap_or(name);
        group.bench_function(format!("pdq_{label}"), |b| {
            b.iter(|| black_box(computer.compute(&bytes, &[SignalType::Pdq]).unwrap()))
        });
        group.bench_function(format!("pdq_md5_sha256_{label}"), |b| {
            b.iter(|| {
                black_box(
                    computer
                        .compute(
                            &bytes,
                            &[SignalType::Pdq, SignalType::Md5, SignalType::Sha256],
                        )
                        .unwrap(),
                )
            })
        });
    }
    group.finish();
}

/// Median seconds of `f` over 7 batches, each grown to take at least 0.2 s (the Python side
/// measures the same way).
fn median_seconds(mut f: impl FnMut()) -> f64 {
    let mut n = 1u32;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        if start.elapsed().as_secs_f64() >= 0.2 {
            break;
        }
        n *= 2;
    }
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() / f64::from(n)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[3]
}

/// Meta's C++ PDQ beside ours, on the same buffers, in this run.
fn compare_with_reference(benchmarking: bool) {
    let Some(python) = std::env::var_os("TAKEDOWN_PDQ_REFERENCE_PYTHON") else {
        println!(
            "C++ reference comparison SKIPPED: set TAKEDOWN_PDQ_REFERENCE_PYTHON=\"$(scripts/pdq-reference-venv)\" to time Meta's C++ PDQ beside ours"
        );
        return;
    };
    if !benchmarking {
        println!("C++ reference comparison SKIPPED in test mode (run with cargo bench)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pdq_reference_bench.py");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "{:<12} {:>14} {:>16} {:>16} {:>9} {:>9}",
        "buffer", "takedown", "C++ (pdqhash)", "pdqhash.compute", "speed-up", "distance"
    );
    for side in [512usize, 64] {
        let rgb = rgb(side);
        let path = dir.path().join(format!("rgb_{side}.raw"));
        std::fs::write(&path, &rgb).expect("write buffer");
        let out = Command::new(&python)
            .arg(&script)
            .arg(&path)
            .arg(side.to_string())
            .output()
            .expect("run the C++ reference's Python binding");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the script's JSON");
        let mut hasher = PdqHasher::new();
        let ours = hasher.hash_pixels(PixelsRef::Rgb(&rgb), side, side, PreResize::Reference);
        let ours_s = median_seconds(|| {
            black_box(hasher.hash_pixels(PixelsRef::Rgb(&rgb), side, side, PreResize::Reference));
        });
        let their_hash =
            PdqHash::parse(reference["hash"].as_str().expect("hash")).expect("a PDQ hash");
        let cpp_s = reference["cpp_s"].as_f64().expect("cpp_s");
        println!(
            "{:<12} {:>11.1} µs {:>13.1} µs {:>13.1} µs {:>8.1}× {:>9}",
            format!("rgb_{side}x{side}"),
            ours_s * 1e6,
            cpp_s * 1e6,
            reference["compute_s"].as_f64().expect("compute_s") * 1e6,
            cpp_s / ours_s,
            ours.hash.distance(&their_hash),
        );
    }
    println!(
        "(C++ = pdqhash.compute minus its Python side, numpy luma and bit conversion, timed alone; distance: our hash vs pdqhash's, whose luma is computed in float64 by numpy)"
    );
}

criterion_group!(benches, pixels, files);

fn main() {
    // Criterion benchmarks when run by `cargo bench` (`--bench`), one quick pass otherwise.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    benches();
    Criterion::default().configure_from_args().final_summary();
    compare_with_reference(benchmarking);
}
