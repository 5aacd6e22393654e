//! Capture + preview of a 640×480 JPEG on one core: hash, encrypt, make and encrypt the
//! preview, write both to a local-directory store. Target: ≥ 200 per second per core.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::io::Cursor;
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
    group.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
