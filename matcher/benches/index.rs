//! Criterion benchmarks of the match indexes (`cargo bench -p takedown-matcher --bench index`).
//!
//! The PDQ data set is the realistic mix of `index::bench` (half uniform, half near-duplicate
//! clusters; queries a third hits, near-hits, misses). Its size is `TAKEDOWN_BENCH_ENTRIES`
//! (default 1,000,000; `docs/matcher.md` quotes 10,000,000). Exact lookups with fresh keys through
//! the matching API, and cold snapshot loads, are measured by `takedown bench match`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use takedown_matcher::index::bench;
use takedown_matcher::index::{IndexBuilder, IndexVersion, ListInfo, PdqIndex, snapshot};

fn entries_from_env() -> usize {
    std::env::var("TAKEDOWN_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn pdq(c: &mut Criterion) {
    let n = entries_from_env();
    let entries = bench::generate_entries(n, bench::DEFAULT_SEED);
    let queries = bench::generate_queries(&entries, 3000, bench::DEFAULT_SEED);
    let mut b = IndexBuilder::new();
    b.list(0, ListInfo::block()).add_pdq_list(0, &entries);
    let version = b.build().unwrap();

    let mut group = c.benchmark_group(format!("pdq_{n}"));
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.sample_size(10);
    for radius in [0u32, 31, 32, 64] {
        let index = version.pdq_base();
        group.bench_function(format!("range_r{radius}_3000_queries"), |bch| {
            bch.iter(|| {
                let mut found = 0usize;
                for q in &queries {
                    index.search(q, radius, |_, _| found += 1);
                }
                black_box(found)
            })
        });
    }
    group.bench_function("match_pdq_r31_3000_queries", |bch| {
        bch.iter(|| {
            let mut found = 0usize;
            for q in &queries {
                found += version.match_pdq(q, 100).matches().len();
            }
            black_box(found)
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("pdq_{n}_build"));
    group.sample_size(10);
    group.bench_function("build", |bch| {
        bch.iter_batched(
            || bench::refs_of(&entries),
            |items| PdqIndex::build(items).unwrap(),
            BatchSize::PerIteration,
        )
    });
    let dir = std::env::temp_dir().join(format!("takedown-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("index.snap");
    snapshot::save_file(&version, &path).unwrap();
    // Repeated loads read the file from the page cache: `takedown bench match --snapshot`
    // measures a cold load too.
    group.bench_function("snapshot_load_warm", |bch| {
        bch.iter(|| -> IndexVersion { snapshot::load_file(&path).unwrap() })
    });
    group.finish();
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, pdq);
criterion_main!(benches);
