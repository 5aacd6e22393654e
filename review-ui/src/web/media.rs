//! What the case page shows of a case's evidence, and the reveal grants behind originals.
//!
//! The page links only to each item's server-made preview (`takedown-evidence`: small, blurred,
//! greyscale). An original is sent only to a user who revealed it: the reveal (a form post, so
//! it works without JavaScript) is audited as `evidence.revealed` and leaves a grant in Redis
//! for that user, case and object, valid for [`GRANT`] by the injected clock; the original's
//! route refuses anyone without one. So neither a page load nor a stylesheet that fails to load
//! can put an original in front of a moderator.

use redis::AsyncCommands;
use takedown_review::store::ReviewStore;
use takedown_review::store::StoreError;
use takedown_review::store::evidence::{EvidenceItem, ItemStatus};

/// How long a reveal lets its user fetch the original.
pub(crate) const GRANT: time::Duration = time::Duration::minutes(10);

/// Content types served inline as images (the browser renders them without plugins); any other
/// original is sent as plain text, so a captured page is read, never rendered.
pub(crate) const INLINE: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// One evidence item as the case page shows it.
pub(crate) struct ItemView {
    /// Stored (otherwise pending or failed).
    pub captured: bool,
    /// The object's digest (empty until captured).
    pub sha: String,
    /// Whether a preview exists.
    pub has_preview: bool,
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

/// The items of a case as the page shows them to `user`; `defang` renders URLs harmless.
pub(crate) async fn item_views(
    store: &ReviewStore,
    user: &str,
    case_id: &str,
    defang: impl Fn(&str) -> String,
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
        out.push(ItemView {
            captured: item.status == ItemStatus::Captured,
            has_preview: item.has_preview,
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
