//! The match stage: from a post's signals to matches against the shared lists.
//!
//! The index ([`takedown_matcher::index`]) speaks in compact numbers — a list number and an
//! entry number — so it stays small and fast. The [`Catalog`] here maps those numbers to what
//! the rest of Takedown speaks: hash-list ids, entry keys, labels and severities. Both are fed
//! by a [`Follower`] of the list store: a full load of each list at start, then the changes of
//! every new version, applied to the live index without a rebuild while queries run.

use crate::list_feed::{ListSink, update_list};
use crate::runner::{Input, Output, Rejection, Stage};
use crate::video_index::{LiveVideos, VideoChange};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use takedown_core::messages::{
    self, Match as MatchMessage, PostSignals, SecondsRange, VideoMatchInfo,
};
use takedown_core::{Md5Digest, PdqHash, Sha256Digest, Sha512Digest, SignalType};
use takedown_hashlists::follow::ListUpdate;
use takedown_hashlists::model::{
    Change as ListChange, Entry, ListId, ListKind, ListMeta, Severity,
};
use takedown_matcher::index::{
    Change, EntryNo, EntryRef, IndexVersion, ListInfo, ListNo, LiveIndex, Outcome, Signal,
};
use takedown_matcher::vpdq::VpdqThresholds;
use time::OffsetDateTime;

/// What the index needs to know about one entry to report a match.
#[derive(Debug, Clone)]
struct EntryInfo {
    key: String,
    value: String,
    labels: Vec<String>,
}

/// One list as the catalog knows it.
#[derive(Debug, Default)]
struct ListSlot {
    id: Option<ListId>,
    /// Whether it is a block list (only those index videos).
    block: bool,
    severity: String,
    labels: Vec<String>,
    /// Entry number of each key.
    numbers: HashMap<String, EntryNo>,
    /// Entry info by number (`None` once deleted).
    entries: Vec<Option<EntryInfo>>,
}

/// Maps list ids and entry keys to the index's numbers and back.
#[derive(Debug, Default)]
pub struct Catalog {
    numbers: HashMap<ListId, ListNo>,
    lists: Vec<ListSlot>,
    /// Changes to the listed videos since the last [`Catalog::take_video_changes`].
    video_changes: Vec<VideoChange>,
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The index signal of a list entry, if the index handles its type.
fn entry_signal(e: &Entry) -> Option<Signal> {
    Some(match e.signal_type {
        SignalType::Pdq => Signal::Pdq(PdqHash::parse(&e.value).ok()?),
        SignalType::Md5 => Signal::Md5(Md5Digest::parse(&e.value).ok()?),
        SignalType::Sha256 => Signal::Sha256(Sha256Digest::parse(&e.value).ok()?),
        SignalType::Sha512 => Signal::Sha512(Sha512Digest::parse(&e.value).ok()?),
        // vPDQ entries match as whole videos, in the stage's video index; text entries were
        // matched by ingest.
        SignalType::Dhash
        | SignalType::Phash
        | SignalType::TextRegex
        | SignalType::Vpdq
        | SignalType::Url
        | SignalType::UrlMd5
        | SignalType::RawText => {
            return None;
        }
    })
}

impl Catalog {
    fn list_no(&mut self, id: &ListId) -> ListNo {
        if let Some(n) = self.numbers.get(id) {
            return *n;
        }
        let n = self.lists.len() as ListNo;
        self.lists.push(ListSlot {
            id: Some(id.clone()),
            ..ListSlot::default()
        });
        self.numbers.insert(id.clone(), n);
        n
    }

    fn set_meta(&mut self, no: ListNo, meta: &ListMeta, out: &mut Vec<Change>) {
        let slot = &mut self.lists[usize::from(no)];
        slot.severity = severity_name(meta.severity).to_string();
        slot.block = meta.kind == ListKind::Block;
        self.video_changes.push(VideoChange::Thresholds(
            no,
            VpdqThresholds {
                distance: meta.threshold,
                query_match_percent: f64::from(meta.vpdq.query_match_percent),
                compared_match_percent: f64::from(meta.vpdq.compared_match_percent),
                ..VpdqThresholds::default()
            },
        ));
        slot.labels = meta.labels.clone();
        let mut info = match meta.kind {
            ListKind::Block => ListInfo::block(),
            ListKind::Allow => ListInfo::allow(),
        }
        .with_threshold(meta.threshold)
        .with_pdq_convention(meta.pdq_convention);
        info.severity = severity_rank(meta.severity);
        info.labels = meta.labels.clone();
        out.push(Change::SetList(no, info));
    }

    /// Adds or replaces an entry; a disabled entry is removed from the index but remembered.
    fn upsert(&mut self, no: ListNo, entry: &Entry, now_ms: i64, out: &mut Vec<Change>) {
        let slot = &mut self.lists[usize::from(no)];
        let key = entry.key();
        let number = match slot.numbers.get(&key) {
            Some(n) => *n,
            None => {
                let n = slot.entries.len() as EntryNo;
                slot.entries.push(None);
                slot.numbers.insert(key.clone(), n);
                n
            }
        };
        slot.entries[number as usize] = Some(EntryInfo {
            key,
            value: entry.value.clone(),
            labels: entry.labels.clone(),
        });
        let r = EntryRef::new(no, number);
        if entry.signal_type == SignalType::Vpdq {
            let frames = takedown_core::vpdq::parse_signal_string(&entry.value);
            self.video_changes.push(match frames {
                Ok(f) if slot.block && !entry.is_disabled_at(now_ms) => {
                    VideoChange::Upsert(r, f.into())
                }
                _ => VideoChange::Remove(r),
            });
        }
        match entry_signal(entry) {
            Some(signal) if !entry.is_disabled_at(now_ms) => out.push(Change::Add(r, signal)),
            _ => out.push(Change::Delete(r)),
        }
    }

    fn delete(&mut self, no: ListNo, key: &str, out: &mut Vec<Change>) {
        let slot = &mut self.lists[usize::from(no)];
        if let Some(n) = slot.numbers.remove(key) {
            slot.entries[n as usize] = None;
            out.push(Change::Delete(EntryRef::new(no, n)));
            self.video_changes
                .push(VideoChange::Remove(EntryRef::new(no, n)));
        }
    }

    /// Turns a list update into index changes, updating the catalog.
    pub fn changes_for(
        &mut self,
        update: &ListUpdate,
        meta: &ListMeta,
        now_ms: i64,
    ) -> Vec<Change> {
        let mut out = Vec::new();
        match update {
            ListUpdate::Full { list, entries, .. } => {
                let no = self.list_no(list);
                self.set_meta(no, meta, &mut out);
                let old: Vec<String> = self.lists[usize::from(no)]
                    .numbers
                    .keys()
                    .cloned()
                    .collect();
                let fresh: std::collections::HashSet<String> =
                    entries.iter().map(Entry::key).collect();
                for key in old.iter().filter(|k| !fresh.contains(*k)) {
                    self.delete(no, key, &mut out);
                }
                for e in entries {
                    self.upsert(no, e, now_ms, &mut out);
                }
            }
            ListUpdate::Changes { list, changes, .. } => {
                let no = self.list_no(list);
                self.set_meta(no, meta, &mut out);
                for c in changes {
                    match c {
                        ListChange::Deleted { key } => self.delete(no, key, &mut out),
                        other => {
                            if let Some(e) = other.entry() {
                                self.upsert(no, e, now_ms, &mut out);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The video changes of the updates turned into index changes since the last call.
    pub fn take_video_changes(&mut self) -> Vec<VideoChange> {
        std::mem::take(&mut self.video_changes)
    }

    fn describe(&self, r: EntryRef) -> Option<(&ListSlot, &EntryInfo)> {
        let slot = self.lists.get(usize::from(r.list))?;
        let info = slot.entries.get(r.entry as usize)?.as_ref()?;
        Some((slot, info))
    }

    fn describe_key(&self, list: &str, key: &str) -> Option<(&ListSlot, &EntryInfo)> {
        let list = ListId::parse(list).ok()?;
        let slot = self.lists.get(usize::from(*self.numbers.get(&list)?))?;
        let number = *slot.numbers.get(key)?;
        let info = slot.entries.get(number as usize)?.as_ref()?;
        Some((slot, info))
    }
}

impl ListSink for Matcher {
    fn apply(&self, update: &ListUpdate, meta: &ListMeta) {
        if let Err(e) = self.apply_update(update, meta) {
            tracing::error!(list = %update_list(update), error = %e, "Applying a list update failed.");
        }
    }
}

/// The live index and its catalog, kept in step by the list follower.
#[derive(Clone)]
pub struct Matcher {
    index: Arc<LiveIndex>,
    catalog: Arc<RwLock<Catalog>>,
    /// The listed videos (vPDQ entries), matched as whole videos.
    videos: Arc<LiveVideos>,
    /// Serialises updates, so the video index gets them in the catalog's order even though it
    /// is rebuilt outside the catalog's lock (queries must not wait for a video rebuild).
    updating: Arc<Mutex<()>>,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            index: Arc::new(LiveIndex::new(IndexVersion::empty())),
            catalog: Arc::new(RwLock::new(Catalog::default())),
            videos: Arc::new(LiveVideos::default()),
            updating: Arc::new(Mutex::new(())),
        }
    }
}

impl Matcher {
    /// Applies one list update to the catalog and the index.
    pub fn apply_update(
        &self,
        update: &ListUpdate,
        meta: &ListMeta,
    ) -> Result<(), takedown_matcher::index::IndexError> {
        let _updating = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let videos = {
            let mut catalog = self.catalog.write().expect("catalog lock");
            let changes = catalog.changes_for(update, meta, takedown_hashlists::store::now_ms());
            self.index.apply(changes)?;
            catalog.take_video_changes()
        };
        if let Err(e) = self.videos.apply(videos) {
            tracing::error!(list = %update_list(update), error = %e,
                "Applying a list update to the video index failed.");
        }
        Ok(())
    }

    /// Matches a post's signals; returns the match messages.
    pub fn match_post(&self, post: &PostSignals) -> Vec<MatchMessage> {
        let index = self.index.load();
        let catalog = self.catalog.read().expect("catalog lock");
        let now = OffsetDateTime::now_utc();
        let mut out = Vec::new();
        for media in &post.media {
            let outcomes: Vec<Option<Outcome>> = media
                .signals
                .iter()
                .map(|value| match value.signal_type {
                    SignalType::Pdq => {
                        let h = PdqHash::parse(&value.value).ok()?;
                        let quality = value.pdq_quality.or(media.pdq_quality).unwrap_or(0);
                        Some(index.match_pdq_of(&h, quality, value.pdq_convention))
                    }
                    other => query_signal(other, &value.value).map(|s| index.match_signal(&s)),
                })
                .collect();
            out.extend(self.match_video(post, media, &catalog, now));
            // An image hashed under both conventions is one image: an allow-list entry
            // matching either hash suppresses the PDQ matches of both.
            let pdq_allowed = media.signals.iter().zip(&outcomes).any(|(v, o)| {
                v.signal_type == SignalType::Pdq && matches!(o, Some(Outcome::Allowed(_)))
            });
            for (value, outcome) in media.signals.iter().zip(outcomes) {
                if value.signal_type == SignalType::Pdq && pdq_allowed {
                    continue;
                }
                let Some(Outcome::Matches(found)) = outcome else {
                    continue;
                };
                for m in found {
                    if let Some((slot, entry)) = catalog.describe(m.entry) {
                        let found = Found {
                            media_id: &media.media_id,
                            media_url: media.url.as_deref(),
                            signal_type: value.signal_type,
                            distance: m.distance,
                            query: &value.value,
                        };
                        out.extend(found.message(post, slot, entry, now));
                    }
                }
            }
        }
        // Text rules were applied by ingest; a rule deleted since then no longer matches.
        for hit in &post.text_hits {
            let Some((slot, entry)) = catalog.describe_key(&hit.list_id, &hit.rule) else {
                continue;
            };
            // The key names the type: `text_regex:…`, `url:…`, `url_md5:…`, `raw_text:…`.
            let signal_type = hit
                .rule
                .split_once(':')
                .and_then(|(t, _)| t.parse().ok())
                .unwrap_or(SignalType::TextRegex);
            let found = Found {
                media_id: TEXT_MEDIA_ID,
                media_url: None,
                signal_type,
                distance: 0,
                query: &hit.matched,
            };
            out.extend(found.message(post, slot, entry, now));
        }
        out
    }
}

impl Matcher {
    /// Number of listed videos the video index holds.
    pub fn videos(&self) -> usize {
        self.videos.videos()
    }

    /// The matches of a media item's vPDQ signal against the listed videos.
    fn match_video(
        &self,
        post: &PostSignals,
        media: &messages::MediaSignals,
        catalog: &Catalog,
        now: OffsetDateTime,
    ) -> Vec<MatchMessage> {
        let mut out = Vec::new();
        for value in media
            .signals
            .iter()
            .filter(|v| v.signal_type == SignalType::Vpdq)
        {
            let Ok(frames) = takedown_core::vpdq::parse_signal_string(&value.value) else {
                continue;
            };
            for m in self.videos.search(&frames, max_gap(&frames)) {
                let Some((slot, entry)) = catalog.describe(m.entry) else {
                    continue;
                };
                let found = Found {
                    media_id: &media.media_id,
                    media_url: media.url.as_deref(),
                    signal_type: SignalType::Vpdq,
                    distance: 0,
                    query: &value.value,
                };
                out.extend(found.message(post, slot, entry, now).map(|mut msg| {
                    msg.video = Some(VideoMatchInfo {
                        query_match_percent: m.query_match_percent,
                        compared_match_percent: m.compared_match_percent,
                        query_ranges: m
                            .query_ranges
                            .iter()
                            .map(|r| SecondsRange {
                                start: r.start,
                                end: r.end,
                            })
                            .collect(),
                    });
                    msg
                }));
            }
        }
        out
    }
}

/// How far apart two matched frames may be and still be one range: one and a half sampling
/// intervals, the interval being the video's mean spacing of hashed frames (1 s by default).
fn max_gap(frames: &[takedown_core::VpdqFrame]) -> f64 {
    match (frames.first(), frames.last()) {
        (Some(a), Some(b)) if frames.len() > 1 && b.timestamp > a.timestamp => {
            1.5 * (b.timestamp - a.timestamp) / (frames.len() - 1) as f64
        }
        _ => 1.5,
    }
}

/// The `media_id` of matches on a post's text rather than one of its media items.
pub const TEXT_MEDIA_ID: &str = "text";

/// What matched, before it is described as a match message.
struct Found<'a> {
    media_id: &'a str,
    media_url: Option<&'a str>,
    signal_type: SignalType,
    distance: u32,
    query: &'a str,
}

impl Found<'_> {
    fn message(
        &self,
        post: &PostSignals,
        slot: &ListSlot,
        entry: &EntryInfo,
        now: OffsetDateTime,
    ) -> Option<MatchMessage> {
        let list_id = slot.id.as_ref()?;
        let mut labels = entry.labels.clone();
        labels.extend(slot.labels.iter().cloned());
        labels.sort();
        labels.dedup();
        Some(MatchMessage {
            schema: messages::SCHEMA_VERSION,
            match_id: messages::match_id(
                &post.post_id,
                self.media_id,
                list_id.as_str(),
                &entry.key,
            ),
            post_id: post.post_id.clone(),
            platform: post.platform.clone(),
            post_url: post.url.clone(),
            media_id: self.media_id.to_string(),
            media_url: self.media_url.map(str::to_string),
            signal_type: self.signal_type,
            list_id: list_id.to_string(),
            entry: entry.key.clone(),
            labels,
            severity: slot.severity.clone(),
            distance: self.distance,
            query_hash: self.query.to_string(),
            list_hash: entry.value.clone(),
            matched_at: now,
            video: None,
            post_text: post.text.clone(),
            language: post.language.clone(),
        })
    }
}

fn query_signal(t: SignalType, value: &str) -> Option<Signal> {
    Some(match t {
        SignalType::Md5 => Signal::Md5(Md5Digest::parse(value).ok()?),
        SignalType::Sha256 => Signal::Sha256(Sha256Digest::parse(value).ok()?),
        SignalType::Sha512 => Signal::Sha512(Sha512Digest::parse(value).ok()?),
        _ => return None,
    })
}

/// The match stage: `post-signals` in, `matches` out.
pub struct MatchStage {
    matcher: Matcher,
    output_topic: String,
}

impl MatchStage {
    /// A stage matching with `matcher` and producing to `output_topic`.
    pub fn new(matcher: Matcher, output_topic: &str) -> Self {
        MatchStage {
            matcher,
            output_topic: output_topic.to_string(),
        }
    }
}

impl Stage for MatchStage {
    fn name(&self) -> &'static str {
        "match"
    }

    async fn process(&self, input: Input) -> Result<Vec<Output>, Rejection> {
        let post: PostSignals = messages::parse("post-signals", &input.payload)
            .map_err(|e| Rejection::new(e.code(), e.to_string()))?;
        let matches = self.matcher.match_post(&post);
        if !matches.is_empty() {
            tracing::debug!(post = %post.post_id, matches = matches.len(), "Post matched.");
        }
        Ok(matches
            .into_iter()
            .map(|m| Output {
                topic: self.output_topic.clone(),
                key: m.post_id.clone(),
                payload: serde_json::to_vec(&m).expect("matches serialise"),
            })
            .collect())
    }
}
