//! PDQ speed: from decoded pixels (the reference tool's unit of work) and from encoded files.
//!
//! Run with `cargo bench -p takedown-matcher --bench pdq`. Meta's C++ reference takes about
//! 5.1 ms for a 512×512 luma buffer and 0.08 ms for 64×64 on one core of our 2-core machines.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use takedown_core::SignalType;
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
        let rgb: Vec<u8> = source
            .iter()
            .flat_map(|&v| [v as u8, (v as u8).wrapping_mul(3), 255 - v as u8])
            .collect();
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

criterion_group!(benches, pixels, files);
criterion_main!(benches);
