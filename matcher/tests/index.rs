//! Whole behaviours of the match indexes: exactness against brute force (random and clustered
//! data, edge radii), changes while queries run, and snapshots.

use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use takedown_core::{Md5Digest, PdqHash};
use takedown_matcher::index::bench::{self, Rng};
use takedown_matcher::index::plan::{self, Plan};
use takedown_matcher::index::{
    Change, EntryRef, IndexBuilder, IndexVersion, ListInfo, LiveIndex, Outcome, PdqIndex, Signal,
    snapshot,
};

/// Brute force: sorted (entry, distance) within `radius`.
fn brute(entries: &[PdqHash], q: &PdqHash, radius: u32) -> Vec<(EntryRef, u32)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let d = h.distance(q);
            (d <= radius).then_some((EntryRef::new(0, i as u32), d))
        })
        .collect()
}

/// Every way the index answers `radius` queries agrees with brute force: its own plan, the plan
/// it would use at 10M entries (probing, not scanning), and a linear scan.
fn check(entries: &[PdqHash], queries: &[PdqHash], radius: u32) -> Result<(), TestCaseError> {
    let index = PdqIndex::build(bench::refs_of(entries)).unwrap();
    let plans = [
        index.plan(radius),
        plan::plan(10_000_000, radius),
        plan::plan(1 << 20, radius),
        Plan::Linear,
    ];
    for q in queries {
        let expected = brute(entries, q, radius);
        prop_assert_eq!(
            &index.range(q, radius),
            &expected,
            "own plan, radius {}",
            radius
        );
        for p in &plans {
            let mut got = Vec::new();
            index.search_with(p, q, radius, |v, d| {
                got.extend(index.entries_of(v).map(|r| (r, d)));
            });
            got.sort_unstable();
            prop_assert_eq!(&got, &expected, "plan {:?}, radius {}", p, radius);
        }
    }
    Ok(())
}

/// Queries that hit, nearly hit and miss, plus the entries themselves.
fn queries_for(entries: &[PdqHash], seed: u64) -> Vec<PdqHash> {
    let mut qs = bench::generate_queries(entries, 30, seed);
    qs.extend(entries.iter().take(5));
    qs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_data_matches_brute_force(seed in any::<u64>(), n in 1usize..600) {
        let mut rng = Rng::new(seed);
        let entries: Vec<PdqHash> = (0..n).map(|_| rng.hash()).collect();
        let queries = queries_for(&entries, seed);
        for radius in [0, 31, 32, 64] {
            check(&entries, &queries, radius)?;
        }
    }

    #[test]
    fn clustered_data_matches_brute_force(seed in any::<u64>(), n in 50usize..1500) {
        let entries = bench::generate_entries(n, seed);
        let queries = queries_for(&entries, seed);
        for radius in [0, 31, 32, 64] {
            check(&entries, &queries, radius)?;
        }
    }

    #[test]
    fn any_radius_matches_brute_force(seed in any::<u64>(), radius in 0u32..=80) {
        let entries = bench::generate_entries(400, seed);
        check(&entries, &queries_for(&entries, seed), radius)?;
    }
}

/// Near-duplicates straddling slice and chunk boundaries: the pigeonhole bounds' edge cases.
#[test]
fn flips_at_chunk_boundaries_are_found() {
    let mut rng = Rng::new(9);
    let base = rng.hash();
    let mut entries = vec![base];
    // Spread exactly d flips evenly over chunks so every chunk is just over its limit.
    for d in [24u32, 31, 32, 33, 63, 64, 65] {
        let mut h = base;
        for i in 0..d {
            let bit = (i * 256 / d + (i % 3)) as usize % 256;
            h.words[bit / 64] ^= 1 << (bit % 64);
        }
        entries.push(h);
    }
    for radius in [0, 31, 32, 63, 64] {
        check(&entries, &entries, radius).unwrap();
    }
}

fn hash_of(rng: &mut Rng) -> PdqHash {
    rng.hash()
}

/// A version whose answer for `probe` identifies it completely: list 0 holds `1 + g % 7` copies
/// (entries 0..) of `probe`, so a reader can tell a whole version from a mixture.
fn version_for(g: u64, probe: &PdqHash, noise: &[PdqHash]) -> IndexVersion {
    let mut b = IndexBuilder::new();
    b.list(0, ListInfo::block());
    b.add_pdq_list(0, noise);
    for i in 0..=g % 7 {
        b.add(EntryRef::new(0, 1_000_000 + i as u32), Signal::Pdq(*probe));
    }
    b.build().unwrap()
}

fn consistent(outcome: &Outcome) -> bool {
    let ids: Vec<u32> = outcome
        .matches()
        .iter()
        .filter(|m| m.distance == 0)
        .map(|m| m.entry.entry - 1_000_000)
        .collect();
    !ids.is_empty() && ids.len() <= 7 && ids.iter().enumerate().all(|(i, e)| *e == i as u32)
}

#[test]
fn queries_during_swaps_and_updates_see_whole_versions() {
    let mut rng = Rng::new(3);
    let probe = hash_of(&mut rng);
    let noise: Vec<PdqHash> = (0..5000).map(|_| rng.hash()).collect();
    let live = Arc::new(LiveIndex::new(version_for(0, &probe, &noise)));
    let stop = Arc::new(AtomicBool::new(false));
    let queries = Arc::new(AtomicU64::new(0));
    // The writer starts once every reader is querying, so the readers run through the swaps.
    let started = Arc::new(std::sync::Barrier::new(4));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (live, stop, queries) = (live.clone(), stop.clone(), queries.clone());
            let started = started.clone();
            std::thread::spawn(move || {
                // Versions told apart by their answer (1 + g % 7 copies of the probe), and
                // queries during which another version was published.
                let mut versions = std::collections::HashSet::new();
                let mut overlapped = 0u64;
                let mut first = true;
                while !stop.load(Ordering::Relaxed) {
                    let v = live.load();
                    let outcome = v.match_pdq(&probe, 100);
                    assert!(consistent(&outcome), "inconsistent answer {outcome:?}");
                    versions.insert(outcome.matches().len());
                    // `v` is still held, so a different pointer is a different version.
                    if !Arc::ptr_eq(&v, &live.load()) {
                        overlapped += 1;
                    }
                    queries.fetch_add(1, Ordering::Relaxed);
                    if first {
                        started.wait();
                        first = false;
                    }
                }
                (versions.len(), overlapped)
            })
        })
        .collect();
    started.wait();
    for g in 1..60u64 {
        // Whole new versions built off to the side and swapped in.
        live.swap(version_for(g, &probe, &noise));
        // Incremental changes on top: delete the last copy, add it back, under a new number.
        let last = 1_000_000 + (g % 7) as u32;
        if g % 7 > 0 {
            live.apply([Change::Delete(EntryRef::new(0, last))])
                .unwrap();
            live.apply([Change::Add(EntryRef::new(0, last), Signal::Pdq(probe))])
                .unwrap();
        }
        if g % 10 == 0 {
            live.compact().unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut overlapped = 0;
    for r in readers {
        let (versions, o) = r.join().expect("a reader failed");
        assert!(
            versions >= 2,
            "a reader saw {versions} version(s): its queries did not run across the swaps"
        );
        overlapped += o;
    }
    println!(
        "{} queries, {overlapped} of them overlapped a swap",
        queries.load(Ordering::Relaxed)
    );
    assert!(
        overlapped > 0,
        "no query was running while a version was published"
    );
}

/// Lists, allow-lists, deletions, compaction and snapshots give the same answers throughout.
#[test]
fn lifecycle_keeps_answers() {
    let entries = bench::generate_entries(3000, 11);
    let mut b = IndexBuilder::new();
    b.list(0, ListInfo::block())
        .list(1, ListInfo::block().with_threshold(10))
        .list(7, ListInfo::allow().with_threshold(2));
    b.add_pdq_list(0, &entries);
    b.add_pdq_list(1, &entries[..100]);
    b.add(EntryRef::new(7, 0), Signal::Pdq(entries[5]));
    b.add(EntryRef::new(0, 90_000), Signal::Md5(Md5Digest([4; 16])));
    let live = LiveIndex::new(b.build().unwrap());

    // Allow-listed content matches nothing, on any list.
    assert!(matches!(
        live.load().match_pdq(&entries[5], 100),
        Outcome::Allowed(m) if m.entry == EntryRef::new(7, 0)
    ));
    // Per-list thresholds.
    let mut rng = Rng::new(1);
    let q = rng.flip(&entries[6], 20);
    let lists: Vec<u16> = live
        .load()
        .match_pdq(&q, 100)
        .matches()
        .iter()
        .filter(|m| m.entry.entry == 6)
        .map(|m| m.entry.list)
        .collect();
    assert_eq!(lists, vec![0]);

    live.apply([
        Change::Delete(EntryRef::new(0, 6)),
        Change::Delete(EntryRef::new(7, 0)),
        Change::Add(EntryRef::new(0, 80_000), Signal::Pdq(q)),
    ])
    .unwrap();
    let answers = |v: &IndexVersion| {
        let queries = bench::generate_queries(&entries, 60, 5);
        let mut out: Vec<Outcome> = queries.iter().map(|q| v.match_pdq(q, 100)).collect();
        out.push(v.match_pdq(&q, 100));
        out.push(v.match_pdq(&entries[5], 100));
        out.push(v.match_signal(&Signal::Md5(Md5Digest([4; 16]))));
        out.push(v.match_pdq(&q, 10));
        out
    };
    let before = answers(&live.load());
    assert!(matches!(
        before[before.len() - 1],
        Outcome::LowQuality { .. }
    ));
    assert!(!before[before.len() - 3].matches().is_empty());
    assert!(
        before[before.len() - 4]
            .matches()
            .iter()
            .all(|m| m.entry != EntryRef::new(0, 6))
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.snap");
    snapshot::save_file(&live.load(), &path).unwrap();
    let loaded = snapshot::load_file(&path).unwrap();
    assert_eq!(answers(&loaded), before);
    live.compact().unwrap();
    assert_eq!(answers(&live.load()), before);
    snapshot::save_file(&live.load(), &path).unwrap();
    assert_eq!(answers(&snapshot::load_file(&path).unwrap()), before);
}
