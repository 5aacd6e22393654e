//! Where the media of a case comes from.
//!
//! Cases carry ids, not bytes. The platform's adapter (or the demo loader) stores a copy of
//! the reviewed media under `<prefix>:web:media:<case id>` with [`put_media`]; the UI serves it
//! only through `/cases/{id}/media`, which checks the role and audits every view, with
//! `Cache-Control: no-store` so no copy stays in the browser's cache.

use redis::AsyncCommands;
use takedown_review::store::{ReviewStore, StoreError};

/// Content types the UI serves (images the browser renders without plugins).
const ALLOWED: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Why media could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The content type is not one the UI serves.
    #[error("content type {0} is not served (png, jpeg, gif, webp only)")]
    ContentType(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores the media bytes of case `case_id` for review.
pub async fn put_media(
    store: &ReviewStore,
    case_id: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), MediaError> {
    if !ALLOWED.contains(&content_type) {
        return Err(MediaError::ContentType(content_type.to_string()));
    }
    let _: () = store
        .connection()
        .hset_multiple(
            store.key(&format!("web:media:{case_id}")),
            &[("type", content_type.as_bytes()), ("bytes", bytes)],
        )
        .await
        .map_err(StoreError::from)?;
    Ok(())
}

/// The media of a case: (content type, bytes), if stored.
pub(crate) async fn get_media(
    store: &ReviewStore,
    case_id: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let (ty, bytes): (Option<String>, Option<Vec<u8>>) = redis::pipe()
        .hget(store.key(&format!("web:media:{case_id}")), "type")
        .hget(store.key(&format!("web:media:{case_id}")), "bytes")
        .query_async(&mut store.connection())
        .await?;
    Ok(ty.zip(bytes))
}

/// Whether a case has media stored.
pub(crate) async fn has_media(store: &ReviewStore, case_id: &str) -> Result<bool, StoreError> {
    Ok(store
        .connection()
        .exists(store.key(&format!("web:media:{case_id}")))
        .await?)
}
