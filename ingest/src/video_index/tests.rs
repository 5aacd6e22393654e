//! The live video index against the pairwise definition, through adds, replacements,
//! removals, threshold changes and a fold of the delta into the base.

use super::*;
use takedown_core::PdqHash;
use takedown_matcher::vpdq::compare;

/// A video of `n` frames at one a second, each frame a hash drawn from `seed`.
fn video(seed: u64, n: usize, quality: u8) -> Arc<[VpdqFrame]> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| VpdqFrame {
            frame_number: i as u64 * 30,
            hash: PdqHash {
                words: [next(), next(), next(), next()],
            },
            quality,
            timestamp: i as f64,
        })
        .collect()
}

fn entry(list: ListNo, n: EntryNoT) -> EntryRef {
    EntryRef::new(list, n)
}

type EntryNoT = takedown_matcher::index::EntryNo;

fn found(live: &LiveVideos, query: &[VpdqFrame]) -> Vec<EntryRef> {
    live.search(query, 1.5)
        .into_iter()
        .map(|m| m.entry)
        .collect()
}

#[test]
fn added_replaced_and_removed_videos_are_found_exactly_while_listed() {
    let live = LiveVideos::default();
    assert!(found(&live, &video(1, 10, 100)).is_empty());
    live.apply(vec![
        VideoChange::Upsert(entry(0, 0), video(1, 10, 100)),
        VideoChange::Upsert(entry(0, 1), video(2, 10, 100)),
    ])
    .unwrap();
    assert_eq!(live.videos(), 2);
    assert_eq!(found(&live, &video(1, 10, 100)), [entry(0, 0)]);
    assert_eq!(found(&live, &video(2, 10, 100)), [entry(0, 1)]);
    assert!(found(&live, &video(3, 10, 100)).is_empty());

    // Entry 0 now holds video 3: the old frames no longer match it.
    live.apply(vec![VideoChange::Upsert(entry(0, 0), video(3, 10, 100))])
        .unwrap();
    assert_eq!(live.videos(), 2);
    assert!(found(&live, &video(1, 10, 100)).is_empty());
    assert_eq!(found(&live, &video(3, 10, 100)), [entry(0, 0)]);

    live.apply(vec![VideoChange::Remove(entry(0, 1))]).unwrap();
    assert_eq!(live.videos(), 1);
    assert!(found(&live, &video(2, 10, 100)).is_empty());
    // Removing what is not a video (an image entry) changes nothing.
    live.apply(vec![VideoChange::Remove(entry(0, 7))]).unwrap();
    assert_eq!(live.videos(), 1);
}

#[test]
fn a_video_without_usable_frames_is_not_indexed() {
    let live = LiveVideos::default();
    live.apply(vec![VideoChange::Upsert(entry(0, 0), video(1, 5, 49))])
        .unwrap();
    assert_eq!(live.videos(), 0);
    assert!(found(&live, &video(1, 5, 100)).is_empty());
}

#[test]
fn the_percentages_and_ranges_are_the_pairwise_ones_across_base_and_delta() {
    let live = LiveVideos::default();
    // 300 videos: more than MIN_DELTA_VIDEOS, so they are folded into the base.
    let listed: Vec<_> = (0..300).map(|i| video(100 + i, 8, 100)).collect();
    live.apply(
        listed
            .iter()
            .enumerate()
            .map(|(i, v)| VideoChange::Upsert(entry(1, i as EntryNoT), v.clone()))
            .collect(),
    )
    .unwrap();
    assert!(live.load().delta.videos() == 0 && live.load().base.videos() == 300);
    // One more, into the delta.
    live.apply(vec![VideoChange::Upsert(entry(1, 300), video(7, 8, 100))])
        .unwrap();
    assert_eq!(live.load().delta.videos(), 1);
    // A query made of 7 frames of video 5 (frames 1..8, seconds 1..7) and 3 of the delta's.
    let mut query: Vec<VpdqFrame> = listed[5][1..].to_vec();
    query.extend(video(7, 3, 100).iter().map(|f| VpdqFrame {
        timestamp: f.timestamp + 20.0,
        ..*f
    }));
    let thresholds = VpdqThresholds {
        query_match_percent: 20.0,
        ..VpdqThresholds::default()
    };
    live.apply(vec![VideoChange::Thresholds(1, thresholds)])
        .unwrap();
    let got = live.search(&query, 1.5);
    assert_eq!(
        got.iter().map(|m| m.entry).collect::<Vec<_>>(),
        [entry(1, 5), entry(1, 300)]
    );
    for m in &got {
        let listed = if m.entry.entry == 300 {
            video(7, 8, 100)
        } else {
            listed[5].clone()
        };
        let pairwise = compare(&query, &listed, &thresholds);
        assert_eq!(m.query_match_percent, pairwise.query_match_percent);
        assert_eq!(m.compared_match_percent, pairwise.compared_match_percent);
    }
    // By hand: 7 of 10 query frames and 7 of 8 listed ones; seconds 1 to 7.
    assert_eq!(got[0].query_match_percent, 70.0);
    assert_eq!(got[0].compared_match_percent, 87.5);
    assert_eq!(got[0].query_ranges.len(), 1);
    assert_eq!(
        (got[0].query_ranges[0].start, got[0].query_ranges[0].end),
        (1.0, 7.0)
    );
    assert_eq!(got[1].query_match_percent, 30.0);
    // The list's threshold back at pytx's 80 %: neither is a match.
    live.apply(vec![VideoChange::Thresholds(1, VpdqThresholds::default())])
        .unwrap();
    assert!(live.search(&query, 1.5).is_empty());
}
