//! The messages on Takedown's Kafka topics, as versioned JSON.
//!
//! Every message carries `"schema": <n>`; a consumer rejects schemas newer than it knows, and
//! tolerates unknown fields so producers can add fields without breaking consumers. Missing
//! required fields are rejected with the field's name (serde's message names it). Keys on Kafka
//! are the post id, so all messages about one post stay in order on one partition.
//!
//! Topics (names configurable): `posts` → [`Post`]; `post-signals` → [`PostSignals`];
//! `matches` → [`Match`]; each stage's `<topic>.dlq` → [`DeadLetter`]. See `docs/messages.md`.

use crate::{ErrorCode, SignalType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not JSON, or a required field is missing or of the wrong type.
    #[error("invalid {kind} message: {reason}")]
    Invalid {
        /// The message kind.
        kind: &'static str,
        /// serde's account, naming the field.
        reason: String,
    },
    /// A schema version newer than this build understands.
    #[error("{kind} schema {found} is newer than the supported {SCHEMA_VERSION}")]
    UnsupportedSchema {
        /// The message kind.
        kind: &'static str,
        /// The version found.
        found: u32,
    },
}

impl MessageError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidMessage
    }
}

fn schema_v1() -> u32 {
    SCHEMA_VERSION
}

/// A public post to check (topic `posts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Schema version.
    #[serde(default = "schema_v1")]
    pub schema: u32,
    /// The platform's id of the post; the Kafka key.
    pub post_id: String,
    /// Which platform or surface (for multi-tenant deployments).
    pub platform: String,
    /// The author's id on the platform (kept for actions; never logged).
    pub author_id: String,
    /// When the post was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The post's public URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The post's text.
    #[serde(default)]
    pub text: Option<String>,
    /// BCP 47 language tag, if known.
    #[serde(default)]
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2 country of the author or audience, if known.
    #[serde(default)]
    pub country: Option<String>,
    /// Media attached to the post.
    #[serde(default)]
    pub media: Vec<Media>,
}

/// One media item of a post: fetched from `url` or given inline as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// The platform's id of the media item.
    pub media_id: String,
    /// Where to fetch it.
    #[serde(default)]
    pub url: Option<String>,
    /// The bytes, base64 (standard alphabet), instead of a URL.
    #[serde(default)]
    pub data_base64: Option<String>,
    /// The declared MIME type (informational; content is sniffed).
    #[serde(default)]
    pub content_type: Option<String>,
}

/// The signals of one media item, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSignals {
    /// The media item.
    pub media_id: String,
    /// Where the media was fetched from (none for inline media): the review role fetches it
    /// again as evidence if the post matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Signal values by type, as lowercase hex.
    #[serde(default)]
    pub signals: Vec<SignalValue>,
    /// PDQ quality, when PDQ was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq_quality: Option<u8>,
    /// Why the media could not be hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// One signal value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalValue {
    /// The type.
    pub signal_type: SignalType,
    /// The value as lowercase hex.
    pub value: String,
    /// For a PDQ hash of an image over 512 pixels on a side: the convention it was computed
    /// with, and so the lists it is compared with. Absent for an image both conventions hash
    /// alike (compared with every list) and for other signal types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq_convention: Option<crate::PdqConvention>,
    /// This PDQ hash's own quality, where it differs from the media's `pdq_quality` (the
    /// second hash of an image hashed under both conventions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq_quality: Option<u8>,
}

/// A stable error code with a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The code.
    pub code: ErrorCode,
    /// What happened.
    pub message: String,
}

/// A text rule that matched the post's text or URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextHit {
    /// The list holding the rule.
    pub list_id: String,
    /// The rule's key in the list.
    pub rule: String,
    /// The matched text (a URL or the matching fragment).
    pub matched: String,
}

/// The signals computed for a post (topic `post-signals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostSignals {
    /// Schema version.
    #[serde(default = "schema_v1")]
    pub schema: u32,
    /// The post; the Kafka key.
    pub post_id: String,
    /// The platform.
    pub platform: String,
    /// The post's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// When the post was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Signals per media item.
    #[serde(default)]
    pub media: Vec<MediaSignals>,
    /// URLs found in the text.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Text rules that matched.
    #[serde(default)]
    pub text_hits: Vec<TextHit>,
    /// The post's text, cut to [`MAX_POST_TEXT_CHARS`] (see [`PostText::bounded`]), so a
    /// reviewer sees what was posted; absent for a post without text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<PostText>,
    /// The post's language (a BCP 47 tag, see [`language_tag`]), when the platform gave
    /// one: routing rules can send a language to its reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When ingest finished the post.
    #[serde(with = "time::serde::rfc3339")]
    pub ingested_at: OffsetDateTime,
}

/// A match of a post's media against a list entry (topic `matches`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// Schema version.
    #[serde(default = "schema_v1")]
    pub schema: u32,
    /// Deterministic id: see [`match_id`]. A redelivered post yields the same id.
    pub match_id: String,
    /// The post; the Kafka key.
    pub post_id: String,
    /// The platform.
    pub platform: String,
    /// The post's URL.
    #[serde(default)]
    pub post_url: Option<String>,
    /// The media item that matched.
    pub media_id: String,
    /// Where that media item can be fetched (its evidence is captured from there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The signal type that matched.
    pub signal_type: SignalType,
    /// The list.
    pub list_id: String,
    /// The list entry's key (`<signal_type>:<hex>`).
    pub entry: String,
    /// Labels of the entry and the list.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The list's severity (low, medium, high, critical).
    pub severity: String,
    /// Hamming distance (0 for exact signals).
    pub distance: u32,
    /// The post media's hash.
    pub query_hash: String,
    /// The list entry's hash.
    pub list_hash: String,
    /// When the match was made.
    #[serde(with = "time::serde::rfc3339")]
    pub matched_at: OffsetDateTime,
    /// For a `vpdq` match: how much of each video matched and where (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoMatchInfo>,
    /// The post's text as ingest saw it (bounded), for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_text: Option<PostText>,
    /// The post's language (a BCP 47 tag), when known: the review's routing reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The longest language tag carried (BCP 47's practical bound, RFC 5646 §4.4.1).
pub const MAX_LANGUAGE_TAG: usize = 35;

/// A platform's language tag as carried past ingest: trimmed, `_` read as `-`, kept if it
/// has the shape of a BCP 47 tag (a 2–8 letter primary subtag, then subtags of 1–8 letters
/// or digits, at most [`MAX_LANGUAGE_TAG`] characters), else `None`. The language only
/// steers routing, so a malformed tag is dropped rather than the post refused.
pub fn language_tag(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    if tag.is_empty() || tag.len() > MAX_LANGUAGE_TAG {
        return None;
    }
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let primary_ok =
        (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (primary_ok && rest_ok).then_some(tag)
}

/// The most characters of a post's text carried past ingest. Posts can be long; a reviewer
/// needs what was said, and every copy of the text on the topics and in the review store
/// stays bounded.
pub const MAX_POST_TEXT_CHARS: usize = 10_000;

/// A post's text, cut to at most [`MAX_POST_TEXT_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostText {
    /// The text (whole, or its first [`MAX_POST_TEXT_CHARS`] characters).
    pub text: String,
    /// How many characters the post had, when more than were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_from: Option<usize>,
}

impl PostText {
    /// The text, cut at a character boundary after [`MAX_POST_TEXT_CHARS`] characters.
    pub fn bounded(text: &str) -> PostText {
        match text.char_indices().nth(MAX_POST_TEXT_CHARS) {
            None => PostText {
                text: text.to_string(),
                cut_from: None,
            },
            Some((at, _)) => PostText {
                text: text[..at].to_string(),
                cut_from: Some(text.chars().count()),
            },
        }
    }
}

/// What a video (vPDQ) match adds to a [`Match`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoMatchInfo {
    /// Percent of the posted video's usable frames with a match in the listed video.
    pub query_match_percent: f64,
    /// Percent of the listed video's usable frames with a match in the posted video.
    pub compared_match_percent: f64,
    /// The stretches of the posted video whose frames matched, in seconds from its start.
    pub query_ranges: Vec<SecondsRange>,
}

/// A stretch of a video: the first and last matched frame's timestamps, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecondsRange {
    /// Start, in seconds.
    pub start: f64,
    /// End, in seconds (equal to `start` for a single frame).
    pub end: f64,
}

/// The deterministic id of a match: the first 128 bits of SHA-256 over post, media, list and
/// entry, as hex. The same post matched again (a redelivery) gets the same id, so downstream
/// effects (cases, takedowns) are created once.
pub fn match_id(post_id: &str, media_id: &str, list_id: &str, entry: &str) -> String {
    let mut h = Sha256::new();
    for part in [post_id, media_id, list_id, entry] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// A message a stage could not process (topic `<topic>.dlq`). The original bytes travel as the
/// Kafka value of the dead-letter record; this record is in its headers and, for tools, here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Schema version.
    #[serde(default = "schema_v1")]
    pub schema: u32,
    /// The stage that gave up (`ingest`, `match`, `review`).
    pub stage: String,
    /// The error code.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
    /// Where the original came from.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// When it was dead-lettered.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Parses a message, checking its schema version.
pub fn parse<T: serde::de::DeserializeOwned + HasSchema>(
    kind: &'static str,
    bytes: &[u8],
) -> Result<T, MessageError> {
    let message: T = serde_json::from_slice(bytes).map_err(|e| MessageError::Invalid {
        kind,
        reason: e.to_string(),
    })?;
    if message.schema() > SCHEMA_VERSION {
        return Err(MessageError::UnsupportedSchema {
            kind,
            found: message.schema(),
        });
    }
    Ok(message)
}

/// Messages that carry a schema version.
pub trait HasSchema {
    /// The message's schema version.
    fn schema(&self) -> u32;
}

macro_rules! has_schema {
    ($($t:ty),*) => {$(
        impl HasSchema for $t {
            fn schema(&self) -> u32 {
                self.schema
            }
        }
    )*};
}
has_schema!(Post, PostSignals, Match, DeadLetter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_kept_in_shape_and_dropped_otherwise() {
        assert_eq!(language_tag(" de-AT ").as_deref(), Some("de-AT"));
        assert_eq!(language_tag("pt_BR").as_deref(), Some("pt-BR"));
        assert_eq!(language_tag("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
        let long = "a".repeat(36);
        for bad in [
            "",
            "d",
            "de--AT",
            "de-",
            "1a",
            "de AT",
            "<script>",
            long.as_str(),
        ] {
            assert_eq!(language_tag(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn post_text_is_kept_whole_up_to_the_bound_and_cut_at_a_character_after_it() {
        let short = PostText::bounded("short text");
        assert_eq!(short.text, "short text");
        assert_eq!(short.cut_from, None);
        let exact = "é".repeat(MAX_POST_TEXT_CHARS);
        assert_eq!(PostText::bounded(&exact).cut_from, None);
        assert_eq!(
            PostText::bounded(&exact).text.len(),
            2 * MAX_POST_TEXT_CHARS
        );
        // Two-byte characters: a byte cut at the bound would split one.
        let long = format!("{exact}éxyz");
        let cut = PostText::bounded(&long);
        assert_eq!(cut.text, exact);
        assert_eq!(cut.cut_from, Some(MAX_POST_TEXT_CHARS + 4));
    }

    #[test]
    fn posts_tolerate_unknown_fields_and_name_missing_ones() {
        let ok = br#"{"post_id":"p1","platform":"web","author_id":"a","created_at":"2026-11-23T10:00:00Z",
            "media":[{"media_id":"m1","url":"https://cdn.example/x.jpg"}],"future_field":42}"#;
        let post: Post = parse("post", ok).unwrap();
        assert_eq!(post.schema, 1);
        assert_eq!(post.media[0].media_id, "m1");

        let missing = br#"{"post_id":"p1","author_id":"a","created_at":"2026-11-23T10:00:00Z"}"#;
        let err = parse::<Post>("post", missing).unwrap_err();
        assert!(
            err.to_string().contains("missing field `platform`"),
            "{err}"
        );

        let bad_time =
            br#"{"post_id":"p1","platform":"w","author_id":"a","created_at":"yesterday"}"#;
        assert!(parse::<Post>("post", bad_time).is_err());

        let future = br#"{"schema":2,"post_id":"p1","platform":"w","author_id":"a","created_at":"2026-11-23T10:00:00Z"}"#;
        assert!(matches!(
            parse::<Post>("post", future),
            Err(MessageError::UnsupportedSchema { found: 2, .. })
        ));
    }

    #[test]
    fn match_ids_are_deterministic_and_unambiguous() {
        let a = match_id("p1", "m1", "gifct", "pdq:00");
        assert_eq!(a, match_id("p1", "m1", "gifct", "pdq:00"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, match_id("p1", "m1", "gifct", "pdq:01"));
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(match_id("ab", "c", "l", "e"), match_id("a", "bc", "l", "e"));
    }
}
