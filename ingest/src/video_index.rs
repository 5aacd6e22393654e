//! The match stage's live vPDQ index: the listed videos of every list, searched as whole videos.
//!
//! A `vpdq` list entry is a video (its frame hashes), matched by the share of frames that agree
//! ([`takedown_matcher::vpdq`]), not one hash. [`VpdqIndex`] is immutable, so this module keeps
//! it current the way the PDQ index is kept current: queries read a published version and never
//! wait; a list update builds the next version off to the side and swaps it in. To keep an update
//! cheap when millions of frames are listed, a version is a large *base* plus a small *delta*
//! of the videos added or changed since the base was built, with the base's stale entries
//! hidden. Each video lives entirely in one of the two, so its frame counts, and therefore its
//! percentages, are those of a single index; the base is rebuilt once the delta has grown.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use takedown_core::VpdqFrame;
use takedown_matcher::index::{EntryRef, ListNo};
use takedown_matcher::vpdq::{VideoMatch, VpdqIndex, VpdqIndexError, VpdqThresholds, prepare};

/// A change to the listed videos, produced by the match stage's catalog.
#[derive(Debug, Clone)]
pub enum VideoChange {
    /// A video added or replaced.
    Upsert(EntryRef, Arc<[VpdqFrame]>),
    /// An entry removed (or disabled); a no-op when it was not a video.
    Remove(EntryRef),
    /// A list's video thresholds.
    Thresholds(ListNo, VpdqThresholds),
}

/// One queryable state of the listed videos.
#[derive(Debug)]
struct Version {
    base: Arc<VpdqIndex>,
    /// Entries of the base that were removed or replaced since it was built.
    hidden: HashSet<EntryRef>,
    delta: VpdqIndex,
}

/// The writer's view: every listed video and where it is indexed.
#[derive(Debug, Default)]
struct Videos {
    all: HashMap<EntryRef, Arc<[VpdqFrame]>>,
    /// Entries whose current frames are in the delta, not the base.
    in_delta: HashSet<EntryRef>,
    hidden: HashSet<EntryRef>,
    thresholds: HashMap<ListNo, VpdqThresholds>,
}

/// The delta is folded into a new base once it holds more than this many videos and more than
/// an eighth of the base's.
const MIN_DELTA_VIDEOS: usize = 256;

/// The live vPDQ index of the match stage.
#[derive(Debug)]
pub struct LiveVideos {
    current: RwLock<Arc<Version>>,
    writer: Mutex<Videos>,
}

impl Default for LiveVideos {
    fn default() -> Self {
        let empty = || {
            VpdqIndex::build([], HashMap::new(), VpdqThresholds::default())
                .expect("an empty index builds")
        };
        LiveVideos {
            current: RwLock::new(Arc::new(Version {
                base: Arc::new(empty()),
                hidden: HashSet::new(),
                delta: empty(),
            })),
            writer: Mutex::new(Videos::default()),
        }
    }
}

impl LiveVideos {
    /// The listed videos `query` matches, under each list's thresholds, sorted by entry.
    /// `max_gap` joins matched frames into time ranges (see
    /// [`takedown_matcher::vpdq::time_ranges`]).
    pub fn search(&self, query: &[VpdqFrame], max_gap: f64) -> Vec<VideoMatch> {
        let version = self.load();
        if version.base.videos() == 0 && version.delta.videos() == 0 {
            return Vec::new();
        }
        let mut out: Vec<VideoMatch> = version
            .base
            .search(query, max_gap)
            .into_iter()
            .filter(|m| !version.hidden.contains(&m.entry))
            .collect();
        out.extend(version.delta.search(query, max_gap));
        out.sort_by_key(|m| m.entry);
        out
    }

    /// Number of listed videos in the published version.
    pub fn videos(&self) -> usize {
        let version = self.load();
        version.base.videos() - version.hidden.len() + version.delta.videos()
    }

    /// Applies `changes` and publishes the next version (nothing is rebuilt when no video or
    /// threshold changed). Queries go on with the previous version meanwhile.
    pub fn apply(&self, changes: Vec<VideoChange>) -> Result<(), VpdqIndexError> {
        let mut videos = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut delta_changed = false;
        let mut rebuild_all = false;
        for change in changes {
            match change {
                VideoChange::Upsert(entry, frames) => {
                    let quality = videos
                        .thresholds
                        .get(&entry.list)
                        .map_or(VpdqThresholds::default().quality, |t| t.quality);
                    if prepare(&frames, quality).is_empty() {
                        // pytx refuses such a video too: it could never match anything.
                        tracing::warn!(
                            list = entry.list,
                            entry = entry.entry,
                            "A listed video has no frame of usable quality; it is not indexed."
                        );
                        delta_changed |= videos.remove(entry);
                        continue;
                    }
                    videos.remove(entry);
                    videos.all.insert(entry, frames);
                    videos.in_delta.insert(entry);
                    delta_changed = true;
                }
                VideoChange::Remove(entry) => delta_changed |= videos.remove(entry),
                VideoChange::Thresholds(list, t) => {
                    // Only indexed videos of that list need the new thresholds; the delta
                    // is rebuilt with the current ones anyway.
                    if videos.thresholds.insert(list, t) != Some(t)
                        && videos.all.keys().any(|e| e.list == list)
                    {
                        rebuild_all = true;
                    }
                }
            }
        }
        if !(delta_changed || rebuild_all) {
            return Ok(());
        }
        let base_videos = videos.all.len() - videos.in_delta.len();
        let full = rebuild_all || videos.in_delta.len() > MIN_DELTA_VIDEOS.max(base_videos / 8);
        let base = if full {
            videos.in_delta.clear();
            videos.hidden.clear();
            let all = videos.all.iter().map(|(e, f)| (*e, &f[..]));
            Arc::new(VpdqIndex::build(
                all,
                videos.thresholds.clone(),
                VpdqThresholds::default(),
            )?)
        } else {
            // The base is shared, not rebuilt: only the delta and the hidden set are new.
            self.load().base.clone()
        };
        let delta = VpdqIndex::build(
            videos.in_delta.iter().map(|e| (*e, &videos.all[e][..])),
            videos.thresholds.clone(),
            VpdqThresholds::default(),
        )?;
        let next = Arc::new(Version {
            base,
            hidden: videos.hidden.clone(),
            delta,
        });
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }

    fn load(&self) -> Arc<Version> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Videos {
    /// Forgets `entry`'s frames; returns whether it was a listed video.
    fn remove(&mut self, entry: EntryRef) -> bool {
        if self.all.remove(&entry).is_none() {
            return false;
        }
        if !self.in_delta.remove(&entry) {
            self.hidden.insert(entry);
        }
        true
    }
}

#[cfg(test)]
mod tests;
