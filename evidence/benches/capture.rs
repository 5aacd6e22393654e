//! Capture + preview of a 640×480 JPEG on one core: hash, encrypt, make and encrypt the
//! preview, write both to a local-directory store. Target: ≥ 200 per second per core.
//!
//! Each step is timed twice: by the wall clock (criterion's default), and by the CPU time of
//! the whole process (`*_cpu`: the store's file writes run on tokio's blocking threads, so
//! they are counted too). On a machine shared with other work the wall clock also counts the
//! time this process waited for a core; the CPU figure is the per-core cost.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::io::Cursor;
use std::time::Duration;
use takedown_evidence::{EvidenceStore, Keyring, Location};

fn photo(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        let v = (x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ seed.wrapping_mul(2654435761)) % 256;
        image::Rgb([v as u8, ((x + seed) % 256) as u8, ((y * 3) % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// CPU time used so far by every thread of this process.
fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A real photograph (the PDQ test set's bridge) as a 640×480 JPEG at quality 85: what a
/// platform's upload usually is. `photo` above is the worst case: noise compresses badly, so
/// decoding it costs more.
fn real_photo() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/pdq/images/bridge-mods/aaa-orig.jpg"
    );
    let img = image::open(path).expect("the PDQ test photo").to_rgb8();
    let img = image::imageops::resize(&img, 640, 480, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out.into_inner()
}

fn capture(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        EvidenceStore::open(&Location::Local(dir.path().into()), Keyring::random()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let images: Vec<Vec<u8>> = (0..16).map(photo).collect();
    let mut group = c.benchmark_group("evidence");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("capture_preview_640x480_jpeg", |b| {
        b.iter(|| {
            let bytes = &images[i % images.len()];
            i += 1;
            let prepared = store.prepare(bytes, None).unwrap();
            assert!(prepared.object.has_preview);
            rt.block_on(store.write(prepared)).unwrap()
        })
    });
    group.bench_function("prepare_only_640x480_jpeg", |b| {
        b.iter(|| store.prepare(&images[0], None).unwrap())
    });
    let photos: Vec<Vec<u8>> = vec![real_photo()];
    for (name, set) in [("jpeg", &images), ("photo", &photos)] {
        group.bench_function(format!("capture_preview_640x480_{name}_cpu"), |b| {
            b.iter_custom(|iters| {
                let start = process_cpu();
                for n in 0..iters {
                    let prepared = store.prepare(&set[n as usize % set.len()], None).unwrap();
                    rt.block_on(store.write(prepared)).unwrap();
                }
                process_cpu() - start
            })
        });
    }
    group.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
