//! Unit tests of video matching; expected percentages are worked out by hand in each test.

use super::*;
use crate::index::bench::Rng;
use takedown_core::PdqHash;

/// A hash with bits `start..start + n` set: hashes built from disjoint runs are far apart.
fn run(start: usize, n: usize) -> PdqHash {
    let mut h = PdqHash::ZERO;
    for k in start..start + n {
        h.set_bit(k);
    }
    h
}

fn frame(n: u64, hash: PdqHash, quality: u8) -> VpdqFrame {
    VpdqFrame {
        frame_number: n,
        hash,
        quality,
        timestamp: n as f64,
    }
}

/// Flips the first `k` bits of `h` that are zero in it (so the distance is exactly `k`).
fn flip_zeros(h: PdqHash, k: usize) -> PdqHash {
    let mut out = h;
    let mut flipped = 0;
    for bit in 0..256 {
        if flipped == k {
            break;
        }
        if !h.bit(bit) {
            out.set_bit(bit);
            flipped += 1;
        }
    }
    out
}

// Four far-apart frames: runs of 64 bits at 0, 64, 128, 192.
fn abcd() -> [PdqHash; 4] {
    [run(0, 64), run(64, 64), run(128, 64), run(192, 64)]
}

#[test]
fn compare_filters_quality_dedupes_and_counts_both_ways() {
    let [a, b, c, d] = abcd();
    let query = [
        frame(0, a, 100),
        frame(1, a, 100), // repeated: counted once
        frame(2, b, 90),
        frame(3, c, 50), // at the floor: kept
        frame(4, d, 49), // below: dropped
    ];
    let compared = [
        frame(0, flip_zeros(a, 31), 100), // within 31 of a
        frame(1, flip_zeros(b, 32), 100), // 32 from b: no match
        frame(2, d, 100),                 // matches only the dropped query frame
    ];
    let t = VpdqThresholds::default();
    let r = compare(&query, &compared, &t);
    // Query {a, b, c}: only a matches → 1/3. Compared {a', b', d}: only a' matches → 1/3.
    assert_eq!(r.query_match_percent, 100.0 / 3.0);
    assert_eq!(r.compared_match_percent, 100.0 / 3.0);
    assert!(!r.is_match);
    // A low-quality compared frame is dropped on that side too.
    let low = [frame(0, a, 49)];
    let r = compare(&query, &low, &t);
    assert_eq!(
        (r.query_match_percent, r.compared_match_percent),
        (0.0, 0.0)
    );
}

#[test]
fn thresholds_are_inclusive_on_both_sides() {
    let t = VpdqThresholds {
        query_match_percent: 50.0,
        compared_match_percent: 25.0,
        ..VpdqThresholds::default()
    };
    assert!(t.is_match(50.0, 25.0));
    assert!(!t.is_match(49.99, 100.0));
    assert!(!t.is_match(100.0, 24.99));
    let [a, b, c, d] = abcd();
    // Query {a, b}, compared {a, c, d, b'} with b' 40 bits off: q 50 %, c 25 % → a match.
    let query = [frame(0, a, 100), frame(1, b, 100)];
    let compared = [
        frame(0, a, 100),
        frame(1, c, 100),
        frame(2, d, 100),
        frame(3, flip_zeros(b, 40), 100),
    ];
    let r = compare(&query, &compared, &t);
    assert_eq!(
        (r.query_match_percent, r.compared_match_percent),
        (50.0, 25.0)
    );
    assert!(r.is_match);
    // The pytx defaults (80 %, 0 %) need 80 % of the query.
    assert!(!compare(&query, &compared, &VpdqThresholds::default()).is_match);
    assert!(compare(&query, &query, &VpdqThresholds::default()).is_match);
}

#[test]
fn an_empty_query_matches_nothing() {
    let [a, ..] = abcd();
    let t = VpdqThresholds {
        query_match_percent: 0.0,
        ..VpdqThresholds::default()
    };
    let r = compare(&[frame(0, a, 10)], &[frame(0, a, 100)], &t);
    assert!(!r.is_match);
}

#[test]
fn time_ranges_join_close_frames() {
    let ranges = time_ranges(vec![5.0, 0.0, 1.0, 2.0, 9.5, 4.0], 1.5);
    assert_eq!(
        ranges,
        vec![
            TimeRange {
                start: 0.0,
                end: 2.0
            },
            TimeRange {
                start: 4.0,
                end: 5.0
            },
            TimeRange {
                start: 9.5,
                end: 9.5
            },
        ]
    );
    assert!(time_ranges(vec![], 1.0).is_empty());
}

#[test]
fn index_uses_each_lists_thresholds_and_reports_ranges() {
    let [a, b, c, d] = abcd();
    let listed_1 = [frame(0, a, 100), frame(1, b, 100)];
    let listed_2 = [frame(0, a, 100), frame(1, c, 100), frame(2, d, 100)];
    let strict = VpdqThresholds {
        compared_match_percent: 100.0,
        query_match_percent: 0.0,
        ..VpdqThresholds::default()
    };
    let index = VpdqIndex::build(
        [
            (EntryRef::new(1, 7), &listed_1[..]),
            (EntryRef::new(2, 3), &listed_2[..]),
        ],
        HashMap::from([(2, strict)]),
        VpdqThresholds {
            query_match_percent: 50.0,
            ..VpdqThresholds::default()
        },
    )
    .unwrap();
    assert_eq!(index.videos(), 2);
    assert_eq!(index.frames(), 5);
    // Query frames at 0 s (a, 3 bits off), 1 s (b), 3 s (unrelated run): list 1 gets 2/3 of
    // the query (≥ 50 %); list 2 has only a matched (1/3 of its frames, below its 100 %).
    let query = [
        frame(0, flip_zeros(a, 3), 100),
        frame(1, b, 100),
        frame(3, run(32, 64), 100),
    ];
    let matches = index.search(&query, 1.5);
    assert_eq!(matches.len(), 1);
    let m = &matches[0];
    assert_eq!(m.entry, EntryRef::new(1, 7));
    assert_eq!(m.query_match_percent, 200.0 / 3.0);
    assert_eq!(m.compared_match_percent, 100.0);
    assert_eq!(
        m.query_ranges,
        vec![TimeRange {
            start: 0.0,
            end: 1.0
        }]
    );
}

#[test]
fn index_refuses_a_video_without_usable_frames() {
    let [a, ..] = abcd();
    let low = [frame(0, a, 10)];
    let err = VpdqIndex::build(
        [(EntryRef::new(4, 9), &low[..])],
        HashMap::new(),
        VpdqThresholds::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "list 4 entry 9: no frame of quality >= 50");
}

#[test]
fn index_agrees_with_pairwise_compare() {
    // Random videos made of near-duplicates of a few scene hashes, so partial overlaps occur.
    let mut rng = Rng::new(15);
    let scenes: Vec<PdqHash> = (0..12).map(|_| rng.hash()).collect();
    let video = |rng: &mut Rng| -> Vec<VpdqFrame> {
        (0..rng.range(1, 12))
            .map(|i| {
                let s = scenes[rng.range(0, scenes.len() as u64 - 1) as usize];
                let bits = rng.range(0, 40) as u32;
                frame(i, rng.flip(&s, bits), rng.range(30, 100) as u8)
            })
            .collect()
    };
    let listed: Vec<Vec<VpdqFrame>> = (0..40).map(|_| video(&mut rng)).collect();
    let t = VpdqThresholds {
        query_match_percent: 30.0,
        compared_match_percent: 10.0,
        ..VpdqThresholds::default()
    };
    let usable: Vec<(EntryRef, &[VpdqFrame])> = listed
        .iter()
        .enumerate()
        .filter(|(_, v)| !prepare(v, t.quality).is_empty())
        .map(|(i, v)| (EntryRef::new(0, i as u32), &v[..]))
        .collect();
    let index = VpdqIndex::build(usable.clone(), HashMap::new(), t).unwrap();
    let mut matched = 0;
    for _ in 0..40 {
        let query = video(&mut rng);
        let expected: Vec<(EntryRef, f64, f64)> = usable
            .iter()
            .map(|(e, v)| (*e, compare(&query, v, &t)))
            .filter(|(_, r)| r.is_match)
            .map(|(e, r)| (e, r.query_match_percent, r.compared_match_percent))
            .collect();
        let got: Vec<(EntryRef, f64, f64)> = index
            .search(&query, 1.5)
            .into_iter()
            .map(|m| (m.entry, m.query_match_percent, m.compared_match_percent))
            .collect();
        assert_eq!(got, expected);
        matched += got.len();
    }
    assert!(
        matched > 10,
        "the data set should produce matches ({matched})"
    );
}

/// `n` frames of distinct random hashes, all of quality `quality`.
fn random_video(rng: &mut Rng, n: u64, quality: u8) -> Vec<VpdqFrame> {
    (0..n).map(|i| frame(i, rng.hash(), quality)).collect()
}

#[test]
fn only_enough_frames_are_searched_to_rule_out_videos_they_miss() {
    let mut rng = Rng::new(7);
    let listed = random_video(&mut rng, 5, 100);
    let build = |thresholds: HashMap<ListNo, VpdqThresholds>, lists: &[ListNo]| {
        let videos: Vec<(EntryRef, &[VpdqFrame])> = lists
            .iter()
            .map(|&l| (EntryRef::new(l, 1), &listed[..]))
            .collect();
        VpdqIndex::build(videos, thresholds, VpdqThresholds::default()).unwrap()
    };
    let sixty = random_video(&mut rng, 60, 100);
    // 80 % of 60 is 48 hits: a video missing the first 13 frames has at most 47.
    let pytx = build(HashMap::new(), &[0]);
    assert_eq!(pytx.frames_to_search(&sixty), 13);
    // 81 % needs 49 (48 is 80 %): 12 frames rule a video out.
    let at = |q: f64| VpdqThresholds {
        query_match_percent: q,
        ..VpdqThresholds::default()
    };
    assert_eq!(
        build(HashMap::from([(0, at(81.0))]), &[0]).frames_to_search(&sixty),
        12
    );
    // Frames below a list's quality floor do not count for it: with the first 30 of quality
    // 60 and a list whose floor is 70, its 30 frames need 24 hits, so 7 of them (up to 37).
    let mut mixed = sixty.clone();
    for f in &mut mixed[..30] {
        f.quality = 60;
    }
    let floor70 = VpdqThresholds {
        quality: 70,
        ..VpdqThresholds::default()
    };
    assert_eq!(
        build(HashMap::from([(0, floor70)]), &[0]).frames_to_search(&mixed),
        37
    );
    // Any hit matches at 0 %: every frame; the strictest of several lists is not enough.
    assert_eq!(
        build(HashMap::from([(1, at(0.0))]), &[0, 1]).frames_to_search(&sixty),
        60
    );
    // 100 % needs every frame: missing the first rules a video out.
    assert_eq!(
        build(HashMap::from([(0, at(100.0))]), &[0]).frames_to_search(&sixty),
        1
    );
    // A threshold nothing reaches searches nothing, and matches nothing.
    let never = build(HashMap::from([(0, at(101.0))]), &[0]);
    assert_eq!(never.frames_to_search(&sixty), 0);
    assert!(never.search(&listed, 1.5).is_empty());
    assert_eq!(pytx.frames_to_search(&[]), 0);
}

#[test]
fn the_pruned_search_agrees_with_pairwise_compare_at_pytx_thresholds() {
    // 60-frame videos; queries are listed videos with a random share of their frames replaced
    // and every frame perturbed, so some land just above and some just below 80 %.
    let mut rng = Rng::new(99);
    let listed: Vec<Vec<VpdqFrame>> = (0..30).map(|_| random_video(&mut rng, 60, 90)).collect();
    let strict = VpdqThresholds {
        quality: 70,
        distance: 20,
        query_match_percent: 50.0,
        compared_match_percent: 40.0,
    };
    let thresholds = HashMap::from([(1, strict)]);
    let entries: Vec<(EntryRef, &[VpdqFrame])> = listed
        .iter()
        .enumerate()
        .map(|(i, v)| (EntryRef::new((i % 2) as ListNo, i as u32), &v[..]))
        .collect();
    let index = VpdqIndex::build(
        entries.clone(),
        thresholds.clone(),
        VpdqThresholds::default(),
    )
    .unwrap();
    let mut matched = 0;
    for k in 0..60 {
        let source = &listed[k % listed.len()];
        let replaced = rng.range(0, 40);
        let query: Vec<VpdqFrame> = source
            .iter()
            .map(|f| {
                let hash = if rng.range(0, 99) < replaced {
                    rng.hash()
                } else {
                    let bits = rng.range(0, 30) as u32;
                    rng.flip(&f.hash, bits)
                };
                frame(f.frame_number, hash, rng.range(60, 100) as u8)
            })
            .collect();
        let expected: Vec<(EntryRef, f64, f64)> = entries
            .iter()
            .map(|(e, v)| {
                let t = thresholds.get(&e.list).copied().unwrap_or_default();
                (*e, compare(&query, v, &t))
            })
            .filter(|(_, r)| r.is_match)
            .map(|(e, r)| (e, r.query_match_percent, r.compared_match_percent))
            .collect();
        let got: Vec<(EntryRef, f64, f64)> = index
            .search(&query, 1.5)
            .into_iter()
            .map(|m| (m.entry, m.query_match_percent, m.compared_match_percent))
            .collect();
        assert_eq!(got, expected, "query {k}");
        matched += got.len();
    }
    assert!(
        (10..60).contains(&matched),
        "both outcomes should occur ({matched})"
    );
}
