//! vPDQ video matching as python-threatexchange and HMA do it, brute force and indexed.
//!
//! A video is a set of frame hashes. Frames below the quality floor (50) are dropped, repeated
//! hashes kept once; then the *query-match percentage* is the share of the query's frames with a
//! frame of the other video within the distance threshold (31, inclusive), and the
//! *compared-match percentage* the same the other way round. A pair matches when both reach their
//! thresholds (pytx: 80 % and 0 %; both are per list here).
//!
//! [`compare`] is the pairwise definition. [`VpdqIndex`] gets the same answer for one query
//! against many videos: every distinct frame hash of every listed video goes into the PDQ range
//! index once, a query's frames are searched there, and the hits are counted per video, so the
//! cost grows with the frames that hit, not with the number of listed videos.
//!
//! A query need not search all its frames in the index: a video matches only if enough of the
//! query's frames hit it (80 % by default), so once so many frames have been searched that a
//! video hit by none of them could no longer reach any list's threshold, the videos hit so far
//! are the only candidates, and the query's remaining frames are compared with just those
//! videos' frames. With 60 frames and pytx's thresholds that is 13 index searches instead of
//! 60, and the same percentages as searching them all.

use crate::index::hamming::PdqIndex;
use crate::index::{EntryNo, EntryRef, ListNo};
use std::collections::HashMap;
use takedown_core::VpdqFrame;

/// Thresholds of one list's video matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqThresholds {
    /// Frames of lower PDQ quality are ignored on both sides.
    pub quality: u8,
    /// Two frames match when their distance is at most this.
    pub distance: u32,
    /// Minimum share (percent) of the query's frames that must match.
    pub query_match_percent: f64,
    /// Minimum share (percent) of the listed video's frames that must match.
    pub compared_match_percent: f64,
}

impl Default for VpdqThresholds {
    /// python-threatexchange's defaults, which HMA uses.
    fn default() -> Self {
        VpdqThresholds {
            quality: 50,
            distance: 31,
            query_match_percent: 80.0,
            compared_match_percent: 0.0,
        }
    }
}

impl VpdqThresholds {
    /// Whether two percentages make a match under these thresholds.
    pub fn is_match(&self, query_match_percent: f64, compared_match_percent: f64) -> bool {
        query_match_percent >= self.query_match_percent
            && compared_match_percent >= self.compared_match_percent
    }
}

/// The frames that take part in matching: quality at least `quality`, each hash once, in the
/// order of first appearance (the frame kept is the first with that hash).
pub fn prepare(frames: &[VpdqFrame], quality: u8) -> Vec<VpdqFrame> {
    let mut seen = std::collections::HashSet::new();
    frames
        .iter()
        .filter(|f| f.quality >= quality && seen.insert(f.hash))
        .copied()
        .collect()
}

/// How two videos compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqComparison {
    /// Percent of the query's prepared frames with a match in the other video.
    pub query_match_percent: f64,
    /// Percent of the other video's prepared frames with a match in the query.
    pub compared_match_percent: f64,
    /// Whether the percentages reach the thresholds.
    pub is_match: bool,
}

fn share(matched: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        matched as f64 * 100.0 / total as f64
    }
}

fn count_in(a: &[VpdqFrame], b: &[VpdqFrame], distance: u32) -> usize {
    a.iter()
        .filter(|x| b.iter().any(|y| x.hash.distance(&y.hash) <= distance))
        .count()
}

/// Compares a query video with another, pairwise (pytx's brute-force matcher). A side with no
/// frame left after filtering matches nothing (0 %).
pub fn compare(
    query: &[VpdqFrame],
    compared: &[VpdqFrame],
    thresholds: &VpdqThresholds,
) -> VpdqComparison {
    let q = prepare(query, thresholds.quality);
    let c = prepare(compared, thresholds.quality);
    let query_match_percent = share(count_in(&q, &c, thresholds.distance), q.len());
    let compared_match_percent = share(count_in(&c, &q, thresholds.distance), c.len());
    VpdqComparison {
        query_match_percent,
        compared_match_percent,
        is_match: !q.is_empty() && thresholds.is_match(query_match_percent, compared_match_percent),
    }
}

/// A stretch of a video, in seconds from its start (both ends are frame timestamps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    /// First matched frame's timestamp.
    pub start: f64,
    /// Last matched frame's timestamp.
    pub end: f64,
}

/// Merges timestamps into ranges: sorted, and consecutive ones at most `max_gap` seconds apart
/// joined (use about 1.5 × the seconds per hash so one unmatched frame splits a range).
pub fn time_ranges(mut timestamps: Vec<f64>, max_gap: f64) -> Vec<TimeRange> {
    timestamps.sort_by(f64::total_cmp);
    let mut out: Vec<TimeRange> = Vec::new();
    for t in timestamps {
        match out.last_mut() {
            Some(r) if t - r.end <= max_gap => r.end = t,
            _ => out.push(TimeRange { start: t, end: t }),
        }
    }
    out
}

/// A listed video the query matched.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoMatch {
    /// The listed video (its list and entry).
    pub entry: EntryRef,
    /// Percent of the query's frames that matched this video.
    pub query_match_percent: f64,
    /// Percent of this video's frames that matched the query.
    pub compared_match_percent: f64,
    /// The stretches of the query video whose frames matched.
    pub query_ranges: Vec<TimeRange>,
}

/// Why a video index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VpdqIndexError {
    /// A list's video has no frame left after the quality filter (pytx refuses these too).
    #[error("list {list} entry {entry}: no frame of quality >= {quality}")]
    EmptyVideo {
        /// The list.
        list: ListNo,
        /// The entry.
        entry: EntryNo,
        /// The quality floor.
        quality: u8,
    },
    /// The frame index refused the entries (too many).
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}

/// Per entry: the query frames that matched it, and the distinct indexed hashes they hit.
type Hits = HashMap<EntryRef, (Vec<usize>, Vec<usize>)>;

/// Many listed videos, their distinct frames in one PDQ range index, with per-list thresholds.
#[derive(Debug)]
pub struct VpdqIndex {
    frames: PdqIndex,
    /// Distinct prepared frames of each video, by entry.
    frame_counts: HashMap<EntryRef, u32>,
    /// The indexed distinct hashes (their numbers in `frames`) of each video.
    hashes_of: HashMap<EntryRef, Vec<u32>>,
    /// The lists that have videos here.
    lists: Vec<ListNo>,
    thresholds: HashMap<ListNo, VpdqThresholds>,
    default: VpdqThresholds,
}

impl VpdqIndex {
    /// Builds an index over `(entry, frames)`; `thresholds` per list, `default` for the others.
    /// Each video is filtered with its own list's quality floor.
    pub fn build<'a>(
        videos: impl IntoIterator<Item = (EntryRef, &'a [VpdqFrame])>,
        thresholds: HashMap<ListNo, VpdqThresholds>,
        default: VpdqThresholds,
    ) -> Result<VpdqIndex, VpdqIndexError> {
        let mut items = Vec::new();
        let mut frame_counts = HashMap::new();
        for (entry, frames) in videos {
            let quality = thresholds.get(&entry.list).unwrap_or(&default).quality;
            let prepared = prepare(frames, quality);
            if prepared.is_empty() {
                return Err(VpdqIndexError::EmptyVideo {
                    list: entry.list,
                    entry: entry.entry,
                    quality,
                });
            }
            *frame_counts.entry(entry).or_insert(0) += prepared.len() as u32;
            items.extend(prepared.iter().map(|f| (f.hash, entry)));
        }
        let frames = PdqIndex::build(items)?;
        let mut hashes_of: HashMap<EntryRef, Vec<u32>> = HashMap::new();
        for v in 0..frames.distinct() {
            for entry in frames.entries_of(v) {
                hashes_of.entry(entry).or_default().push(v as u32);
            }
        }
        let mut lists: Vec<ListNo> = frame_counts.keys().map(|e| e.list).collect();
        lists.sort_unstable();
        lists.dedup();
        Ok(VpdqIndex {
            frames,
            frame_counts,
            hashes_of,
            lists,
            thresholds,
            default,
        })
    }

    /// Number of videos.
    pub fn videos(&self) -> usize {
        self.frame_counts.len()
    }

    /// Number of (distinct frame, video) pairs indexed.
    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    fn thresholds_of(&self, list: ListNo) -> &VpdqThresholds {
        self.thresholds.get(&list).unwrap_or(&self.default)
    }

    /// Counts a hit of query frame `qi` on indexed hash `v` of `entry` at distance `d`, if
    /// the entry's list accepts it.
    fn record(
        &self,
        hits: &mut Hits,
        entry: EntryRef,
        qi: usize,
        frame: &VpdqFrame,
        v: usize,
        d: u32,
    ) {
        let t = self.thresholds_of(entry.list);
        if d <= t.distance && frame.quality >= t.quality {
            let (qs, vs) = hits.entry(entry).or_default();
            if qs.last() != Some(&qi) {
                qs.push(qi);
            }
            vs.push(v);
        }
    }

    /// How many of the `prepared` query frames (in order) must be searched in the index so
    /// that a video hit by none of them matches under no list's thresholds.
    fn frames_to_search(&self, prepared: &[VpdqFrame]) -> usize {
        let mut needed = 0;
        for &list in &self.lists {
            let t = self.thresholds_of(list);
            let eligible: Vec<usize> = (0..prepared.len())
                .filter(|&i| prepared[i].quality >= t.quality)
                .collect();
            let n = eligible.len();
            // The fewest hits that reach the threshold (a video with none is never reported).
            let need = (1..=n)
                .find(|&h| share(h, n) >= t.query_match_percent)
                .unwrap_or(n + 1);
            // A video missing the first `n - need + 1` eligible frames has at most `need - 1`.
            if need <= n {
                needed = needed.max(eligible[n - need] + 1);
            }
        }
        needed
    }

    /// The listed videos `query` matches under each list's thresholds, sorted by entry.
    /// `max_gap` joins matched query frames into time ranges (see [`time_ranges`]).
    pub fn search(&self, query: &[VpdqFrame], max_gap: f64) -> Vec<VideoMatch> {
        // The lowest floor and widest radius of any list bound the search; each list's own
        // thresholds are applied to the counts.
        let floor = self
            .thresholds
            .values()
            .chain([&self.default])
            .map(|t| t.quality)
            .min()
            .unwrap_or(50);
        let radius = self
            .thresholds
            .values()
            .chain([&self.default])
            .map(|t| t.distance)
            .max()
            .unwrap_or(31);
        let prepared = prepare(query, floor);
        let searched = self.frames_to_search(&prepared);
        // Per entry: which query frames matched, and which distinct indexed hashes.
        let mut hits = Hits::new();
        for (qi, frame) in prepared.iter().enumerate().take(searched) {
            self.frames.search(&frame.hash, radius, |v, d| {
                for entry in self.frames.entries_of(v) {
                    self.record(&mut hits, entry, qi, frame, v, d);
                }
            });
        }
        // The rest of the query against the candidates' own frames only.
        let mut candidates: Vec<EntryRef> = hits.keys().copied().collect();
        candidates.sort_unstable();
        for entry in candidates {
            let own = &self.hashes_of[&entry];
            for (qi, frame) in prepared.iter().enumerate().skip(searched) {
                for &v in own {
                    let d = self.frames.hash(v as usize).distance(&frame.hash);
                    if d <= radius {
                        self.record(&mut hits, entry, qi, frame, v as usize, d);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (entry, (qs, mut vs)) in hits {
            let t = self.thresholds_of(entry.list);
            let query_total = prepared.iter().filter(|f| f.quality >= t.quality).count();
            vs.sort_unstable();
            vs.dedup();
            let q = share(qs.len(), query_total);
            let c = share(vs.len(), self.frame_counts[&entry] as usize);
            if t.is_match(q, c) {
                out.push(VideoMatch {
                    entry,
                    query_match_percent: q,
                    compared_match_percent: c,
                    query_ranges: time_ranges(
                        qs.iter().map(|&i| prepared[i].timestamp).collect(),
                        max_gap,
                    ),
                });
            }
        }
        out.sort_by_key(|m| m.entry);
        out
    }
}

#[cfg(test)]
mod tests;
