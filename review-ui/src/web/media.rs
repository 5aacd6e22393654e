//! What the case page shows of a case's evidence, and the reveal grants behind originals.
//!
//! The page links only to each item's server-made preview (`takedown-evidence`: small, blurred,
//! greyscale). An original is sent only to a user who revealed it: the reveal (a form post, so
//! it works without JavaScript) is audited as `evidence.revealed` and leaves a grant in Redis
//! for that user, case and object, valid for [`GRANT`] by the injected clock; the original's
//! route refuses anyone without one. So neither a page load nor a stylesheet that fails to load
//! can put an original in front of a moderator.
//!
//! A video's preview is a strip of blurred keyframes (one every few seconds, made once when it
//! was stored); the page shows each tile by itself and marks those inside the stretches its
//! vPDQ matches found, visibly and in each tile's text alternative.

use redis::AsyncCommands;
use takedown_review::store::ReviewStore;
use takedown_review::store::StoreError;
use takedown_review::store::evidence::{EvidenceItem, ItemStatus};

/// How long a reveal lets its user fetch the original.
pub(crate) const GRANT: time::Duration = time::Duration::minutes(10);

/// Content types served inline as images (the browser renders them without plugins); any other
/// original is sent as plain text, so a captured page is read, never rendered.
pub(crate) const INLINE: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
];

/// One tile of a video's preview strip as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FrameView {
    /// Its index in the strip (the tile's route).
    pub index: usize,
    /// Its time, as `m:ss`.
    pub label: String,
    /// Whether it lies inside a matched stretch.
    pub matched: bool,
}

/// `ms` as `m:ss` (`h:mm:ss` from an hour on).
fn clock_label(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The tiles of a strip whose tiles start at `keyframes_ms`, each marked when the stretch it
/// stands for (until the next tile) overlaps one of the matched `ranges` (seconds, ends
/// inclusive: a range's end is its last matched frame).
pub(crate) fn frame_views(keyframes_ms: &[u64], ranges: &[(f64, f64)]) -> Vec<FrameView> {
    let interval = match keyframes_ms {
        [a, b, ..] if b > a => (b - a) as f64 / 1000.0,
        _ => 1.0,
    };
    // Keyframe times are rounded to the millisecond; frame times are `f32`.
    const SLACK: f64 = 0.001;
    keyframes_ms
        .iter()
        .enumerate()
        .map(|(index, &ms)| {
            let t = ms as f64 / 1000.0;
            FrameView {
                index,
                label: clock_label(ms),
                matched: ranges
                    .iter()
                    .any(|&(start, end)| t <= end + SLACK && t + interval > start + SLACK),
            }
        })
        .collect()
}

/// One evidence item as the case page shows it.
pub(crate) struct ItemView {
    /// Stored (otherwise pending or failed).
    pub captured: bool,
    /// The object's digest (empty until captured).
    pub sha: String,
    /// Whether a preview exists.
    pub has_preview: bool,
    /// Whether the original is a video (its preview is a strip of tiles).
    pub video: bool,
    /// A video's tiles (empty otherwise).
    pub frames: Vec<FrameView>,
    /// How many of them are marked.
    pub matched_frames: usize,
    /// Whether this user revealed it and the grant still runs.
    pub revealed: bool,
    /// Content type and size, as shown.
    pub what: String,
    /// Where it came from (the URL, defanged by the caller, or "pushed by the platform").
    pub origin: String,
    /// The capture state: `pending`, `failed`, `purged`, `captured`.
    pub status: &'static str,
    /// The failure's code and message, and what happens next.
    pub error_code: String,
    /// The failure's message.
    pub error: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (RFC 3339), or empty when none follows.
    pub next_attempt: String,
}

fn grant_key(store: &ReviewStore, user: &str, case_id: &str, sha: &str) -> String {
    store.key(&format!("web:reveal:{user}:{case_id}:{sha}"))
}

fn now_ms(store: &ReviewStore) -> i64 {
    (store.clock().now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Leaves the grant a reveal gives `user` on (`case_id`, `sha`).
pub(crate) async fn grant(
    store: &ReviewStore,
    user: &str,
    case_id: &str,
    sha: &str,
) -> Result<(), StoreError> {
    let until = now_ms(store) + GRANT.whole_milliseconds() as i64;
    // The expiry Redis applies only tidies up; the grant's end is checked by our clock.
    let _: () = store
        .connection()
        .set_ex(
            grant_key(store, user, case_id, sha),
            until,
            2 * GRANT.whole_seconds() as u64,
        )
        .await?;
    Ok(())
}

/// Whether `user` holds a running grant on (`case_id`, `sha`).
pub(crate) async fn granted(
    store: &ReviewStore,
    user: &str,
    case_id: &str,
    sha: &str,
) -> Result<bool, StoreError> {
    let until: Option<i64> = store
        .connection()
        .get(grant_key(store, user, case_id, sha))
        .await?;
    Ok(until.is_some_and(|u| u >= now_ms(store)))
}

/// The captured item of `case_id` whose digest is `sha`, if any.
pub(crate) async fn captured(
    store: &ReviewStore,
    case_id: &str,
    sha: &str,
) -> Result<Option<EvidenceItem>, StoreError> {
    Ok(store
        .evidence_items(case_id)
        .await?
        .into_iter()
        .map(|(_, item)| item)
        .find(|i| i.status == ItemStatus::Captured && i.sha256.as_deref() == Some(sha)))
}

/// The items of a case as the page shows them to `user`; `defang` renders URLs harmless;
/// `ranges` are the stretches (seconds) the case's video matches found in the post.
pub(crate) async fn item_views(
    store: &ReviewStore,
    user: &str,
    case_id: &str,
    defang: impl Fn(&str) -> String,
    ranges: &[(f64, f64)],
) -> Result<Vec<ItemView>, StoreError> {
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (_, item) in store.evidence_items(case_id).await? {
        let sha = item.sha256.clone().unwrap_or_default();
        let revealed = item.status == ItemStatus::Captured
            && !sha.is_empty()
            && granted(store, user, case_id, &sha).await?;
        let video = item
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("video/"));
        let frames = if video && item.has_preview {
            frame_views(&item.keyframes_ms, ranges)
        } else {
            Vec::new()
        };
        out.push(ItemView {
            captured: item.status == ItemStatus::Captured,
            has_preview: item.has_preview,
            video,
            matched_frames: frames.iter().filter(|f| f.matched).count(),
            frames,
            revealed,
            what: match (&item.content_type, item.size) {
                (Some(t), Some(n)) => format!("{t}, {n} bytes"),
                _ => String::new(),
            },
            origin: item
                .url
                .as_deref()
                .map(&defang)
                .unwrap_or_else(|| "pushed by the platform".into()),
            status: match item.status {
                ItemStatus::Pending => "pending",
                ItemStatus::Captured => "captured",
                ItemStatus::Failed => "failed",
                ItemStatus::Purged => "purged",
            },
            error_code: item.error_code.clone().unwrap_or_default(),
            error: item.error.clone().unwrap_or_default(),
            attempts: item.attempts,
            next_attempt: item.next_attempt_at.map(fmt).unwrap_or_default(),
            sha,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(views: &[FrameView]) -> Vec<usize> {
        views
            .iter()
            .filter(|f| f.matched)
            .map(|f| f.index)
            .collect()
    }

    #[test]
    fn tiles_inside_the_matched_stretches_are_marked() {
        let every_second: Vec<u64> = (0..6).map(|s| s * 1000).collect();
        // Frames at 0 and 1 s matched: the tiles of 0 and 1 s, not the one at 2 s.
        assert_eq!(marked(&frame_views(&every_second, &[(0.0, 1.0)])), [0, 1]);
        // Two stretches; f32 frame times a hair off whole seconds still hit their tile.
        let ranges = [(2.000_000_2, 2.999_999_8), (5.0, 5.0)];
        assert_eq!(marked(&frame_views(&every_second, &ranges)), [2, 3, 5]);
        assert!(marked(&frame_views(&every_second, &[])).is_empty());
        // Tiles every 4 s: a stretch inside a tile's 4 s marks that tile only.
        let every_four = [0, 4000, 8000, 12000];
        assert_eq!(marked(&frame_views(&every_four, &[(5.0, 6.0)])), [1]);
        assert_eq!(marked(&frame_views(&every_four, &[(3.0, 8.0)])), [0, 1, 2]);
        let labels: Vec<String> = frame_views(&[0, 61_000, 3_723_000], &[])
            .into_iter()
            .map(|f| f.label)
            .collect();
        assert_eq!(labels, ["0:00", "1:01", "1:02:03"]);
    }
}
