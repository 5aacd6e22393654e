//! The vocabulary of hash lists: lists, entries, and the changes between versions.

use serde::{Deserialize, Serialize};
use std::fmt;
use takedown_core::SignalType;

/// Why a list id, entry or metadata value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// A list's identifier: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ListId(String);

impl ListId {
    /// Validates a list id.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.as_bytes()[0].is_ascii_alphanumeric()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(ListId(text.to_string()))
        } else {
            Err(InvalidValue(format!(
                "list id {text:?} must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
            )))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ListId {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ListId::parse(&value)
    }
}

impl From<ListId> for String {
    fn from(id: ListId) -> String {
        id.0
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How severe a match on a list is; it orders hash-match cases in the review queue.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium (the default).
    #[default]
    Medium,
    /// High.
    High,
    /// Critical: reviewed first among hash matches.
    Critical,
}

impl std::str::FromStr for Severity {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(InvalidValue(format!(
                "severity {s:?} must be low, medium, high or critical"
            ))),
        }
    }
}

/// Whether a list's entries are matched (block) or suppress matches (allow: known-benign
/// images such as blank frames and stock photos).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// Entries are matched and reported.
    #[default]
    Block,
    /// Entries suppress matches of other lists.
    Allow,
}

impl std::str::FromStr for ListKind {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "block" => Ok(ListKind::Block),
            "allow" => Ok(ListKind::Allow),
            _ => Err(InvalidValue(format!(
                "list kind {s:?} must be block or allow"
            ))),
        }
    }
}

/// The PDQ match threshold used when a list names none.
pub const DEFAULT_PDQ_THRESHOLD: u32 = 31;

/// A list's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMeta {
    /// The list's id.
    pub id: ListId,
    /// A human name.
    pub name: String,
    /// Where the list comes from (e.g. "gifct", "tat", "local").
    pub source: String,
    /// Largest PDQ distance that counts as a match (0..=256).
    pub threshold: u32,
    /// Severity of a match.
    pub severity: Severity,
    /// Labels applied to every match on this list.
    pub labels: Vec<String>,
    /// Block list (default) or allow-list.
    #[serde(default)]
    pub kind: ListKind,
    /// The PDQ convention the list's hashes were made with (`reference`: 512×512 pre-resize,
    /// as Meta's C++ tool; `full_size`: as python-threatexchange/HMA). Lists stored before
    /// this field existed were matched with reference hashes, so that is the default.
    #[serde(default)]
    pub pdq_convention: takedown_core::PdqConvention,
    /// How much of two videos must agree for a `vpdq` entry to match (frames are compared
    /// with [`ListMeta::threshold`] as their distance). Lists stored before this field
    /// existed get python-threatexchange's defaults.
    #[serde(default)]
    pub vpdq: VpdqListThresholds,
}

/// A list's video-level thresholds (whole percent, as pytx's 80 % and 0 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpdqListThresholds {
    /// Minimum percent of the posted video's frames that must have a match in the listed one.
    pub query_match_percent: u8,
    /// Minimum percent of the listed video's frames that must have a match in the posted one.
    pub compared_match_percent: u8,
}

impl Default for VpdqListThresholds {
    /// python-threatexchange's (and HMA's): 80 % and 0 %.
    fn default() -> Self {
        VpdqListThresholds {
            query_match_percent: 80,
            compared_match_percent: 0,
        }
    }
}

impl ListMeta {
    /// Metadata with defaults: name = id, threshold 31, medium severity, no labels.
    pub fn new(id: ListId, source: &str) -> Self {
        ListMeta {
            name: id.to_string(),
            id,
            source: source.to_string(),
            threshold: DEFAULT_PDQ_THRESHOLD,
            severity: Severity::default(),
            labels: Vec::new(),
            kind: ListKind::Block,
            pdq_convention: takedown_core::PdqConvention::Reference,
            vpdq: VpdqListThresholds::default(),
        }
    }

    /// Checks the values that types alone cannot.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.threshold > 256 {
            return Err(InvalidValue(format!(
                "threshold {} is over 256, the number of PDQ bits",
                self.threshold
            )));
        }
        for (name, value) in [
            ("vpdq.query_match_percent", self.vpdq.query_match_percent),
            (
                "vpdq.compared_match_percent",
                self.vpdq.compared_match_percent,
            ),
        ] {
            if value > 100 {
                return Err(InvalidValue(format!("{name} {value} is over 100")));
            }
        }
        Ok(())
    }
}

/// Why an entry no longer matches although it is still on the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disabled {
    /// Why it was disabled (e.g. "false positive: stock photo").
    pub reason: String,
    /// Who disabled it.
    pub actor: String,
    /// When, in Unix milliseconds.
    pub at_ms: i64,
    /// When the disablement lapses, in Unix milliseconds; `None` is for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
}

/// One hash on a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The signal type.
    pub signal_type: SignalType,
    /// The value, as canonical lowercase hex.
    pub value: String,
    /// Open, versioned label strings (content type, producing entity, behaviour, ideology…),
    /// sorted and without duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// PDQ quality, when the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq_quality: Option<u8>,
    /// The entry's id at its source (a Tech Against Terrorism id, a ThreatExchange descriptor id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// When the source says the entry was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_created: Option<String>,
    /// When the source says the entry was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_updated: Option<String>,
    /// Set when the entry was disabled by curation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Disabled>,
    /// The list version that added this entry (set by the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_version: Option<u64>,
}

impl Entry {
    /// A new entry after validating and canonicalising the value.
    pub fn new(signal_type: SignalType, value: &str) -> Result<Self, InvalidValue> {
        Ok(Entry {
            signal_type,
            value: canonical_value(signal_type, value)?,
            labels: Vec::new(),
            pdq_quality: None,
            source_id: None,
            source_created: None,
            source_updated: None,
            disabled: None,
            added_version: None,
        })
    }

    /// The entry's key within its list: `<signal_type>:<value>`. Stable across imports, so a
    /// re-import updates rather than duplicates, and matches can name the entry.
    pub fn key(&self) -> String {
        entry_key(self.signal_type, &self.value)
    }

    /// Adds labels, keeping them sorted and unique.
    pub fn add_labels<I: IntoIterator<Item = String>>(&mut self, labels: I) {
        self.labels.extend(
            labels
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        );
        self.labels.sort();
        self.labels.dedup();
    }

    /// Whether the entry is disabled at time `now_ms`.
    pub fn is_disabled_at(&self, now_ms: i64) -> bool {
        self.disabled
            .as_ref()
            .is_some_and(|d| d.until_ms.is_none_or(|until| now_ms < until))
    }

    /// Checks the value and quality (for entries read back from JSON).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let canonical = canonical_value(self.signal_type, &self.value)?;
        if canonical != self.value {
            return Err(InvalidValue(format!(
                "value {:?} is not lowercase hex",
                self.value
            )));
        }
        if let Some(q) = self.pdq_quality {
            if q > 100 {
                return Err(InvalidValue(format!("pdq_quality {q} is over 100")));
            }
            if self.signal_type != SignalType::Pdq {
                return Err(InvalidValue("pdq_quality given for a non-PDQ entry".into()));
            }
        }
        Ok(())
    }
}

/// `<signal_type>:<value>`, the key of an entry within a list.
pub fn entry_key(signal_type: SignalType, value: &str) -> String {
    let name = signal_type.as_str();
    let mut key = String::with_capacity(name.len() + 1 + value.len());
    key.push_str(name);
    key.push(':');
    key.push_str(value);
    key
}

/// Parses an entry key back into its parts.
pub fn parse_entry_key(key: &str) -> Result<(SignalType, String), InvalidValue> {
    let (t, v) = key
        .split_once(':')
        .ok_or_else(|| InvalidValue(format!("entry key {key:?} is not <signal_type>:<value>")))?;
    let t: SignalType = t.parse().map_err(|e| InvalidValue(format!("{e}")))?;
    Ok((t, canonical_value(t, v)?))
}

/// Longest text-rule pattern accepted, in bytes.
pub const MAX_RULE_LEN: usize = 1024;

/// Validates a value for its type: a hash is returned as lowercase hex; a text rule must be a
/// pattern that compiles (within a size limit, so one rule cannot exhaust a consumer's memory)
/// and is returned as given.
pub fn canonical_value(signal_type: SignalType, value: &str) -> Result<String, InvalidValue> {
    let value = value.trim();
    match signal_type {
        SignalType::Vpdq => return crate::vpdq_value::canonical(value).map_err(InvalidValue),
        SignalType::Url => return canonical_url(value),
        SignalType::RawText => return canonical_raw_text(value),
        _ => {}
    }
    let Some(expected) = signal_type.hex_len() else {
        return canonical_rule(value);
    };
    if value.len() != expected {
        return Err(InvalidValue(format!(
            "{signal_type} value must be {expected} hex characters, found {}",
            value.chars().count()
        )));
    }
    if value.bytes().any(|b| !b.is_ascii_hexdigit())
        && let Some((i, c)) = value
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
    {
        return Err(InvalidValue(format!(
            "{signal_type} value has non-hex character {c:?} at position {}",
            i + 1
        )));
    }
    Ok(value.to_ascii_lowercase())
}

fn canonical_rule(pattern: &str) -> Result<String, InvalidValue> {
    if pattern.is_empty() {
        return Err(InvalidValue("text_regex pattern is empty".into()));
    }
    if pattern.len() > MAX_RULE_LEN {
        return Err(InvalidValue(format!(
            "text_regex pattern is {} bytes, over the limit of {MAX_RULE_LEN}",
            pattern.len()
        )));
    }
    compile_rule(pattern).map_err(|e| InvalidValue(format!("text_regex pattern: {e}")))?;
    Ok(pattern.to_string())
}

/// Longest `url` entry accepted, in bytes (the review API's limit for a URL).
pub const MAX_URL_LEN: usize = 2048;

/// Longest `raw_text` entry accepted, in bytes.
pub const MAX_RAW_TEXT_LEN: usize = 16 * 1024;

/// A `url` entry: kept exactly as given (pytx compares URLs as strings), but one URL: no
/// whitespace or control characters, within [`MAX_URL_LEN`].
fn canonical_url(url: &str) -> Result<String, InvalidValue> {
    if url.is_empty() {
        return Err(InvalidValue("url is empty".into()));
    }
    if url.len() > MAX_URL_LEN {
        return Err(InvalidValue(format!(
            "url is {} bytes, over the limit of {MAX_URL_LEN}",
            url.len()
        )));
    }
    if let Some((i, c)) = url
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidValue(format!(
            "url has whitespace or a control character {c:?} at position {}",
            i + 1
        )));
    }
    Ok(url.to_string())
}

/// A `raw_text` entry: kept as given, within [`MAX_RAW_TEXT_LEN`], and with at least one
/// letter or digit (a text of punctuation alone would match every such post).
fn canonical_raw_text(text: &str) -> Result<String, InvalidValue> {
    if text.len() > MAX_RAW_TEXT_LEN {
        return Err(InvalidValue(format!(
            "raw_text is {} bytes, over the limit of {MAX_RAW_TEXT_LEN}",
            text.len()
        )));
    }
    if takedown_core::text_signal::RawTextNeedle::new(text).is_none() {
        return Err(InvalidValue(
            "raw_text has no letter or digit, so it would match any such text".into(),
        ));
    }
    Ok(text.to_string())
}

/// Compiles a text rule the way every consumer does: case-insensitive, with a bounded
/// compiled size.
pub fn compile_rule(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
}

/// Parses a signal type name, accepting the aliases other tools use (python-threatexchange's
/// `video_md5`, ThreatExchange's `HASH_PDQ`, Tech Against Terrorism's `SHA-256`).
pub fn parse_signal_type(name: &str) -> Result<SignalType, InvalidValue> {
    // Our own names need no normalising: the common case, taken without allocating.
    if let Some(t) = known_signal_type(name.trim()) {
        return Ok(t);
    }
    let n = name.trim().to_ascii_lowercase().replace('-', "");
    // ThreatExchange's `HASH_` names only hashes: `HASH_URL_MD5` is a URL digest, but
    // `HASH_URL` is no URL.
    let known = match n.strip_prefix("hash_") {
        Some(hash) => {
            known_signal_type(hash).filter(|t| t.hex_len().is_some() || *t == SignalType::Vpdq)
        }
        None => known_signal_type(&n),
    };
    known.ok_or_else(|| {
        InvalidValue(format!(
            "unknown signal type {name:?} (known: pdq, md5, sha256, sha512, dhash, phash, text_regex, vpdq, url, url_md5, raw_text)"
        ))
    })
}

/// The label that marks a digest of a video (ThreatExchange's tag for `HASH_MD5` of videos):
/// pytx's `video_md5` imports as an MD5 entry with it, and exports back as `video_md5`.
pub const VIDEO_LABEL: &str = "media_type_video";

/// Whether a signal type name is a video digest's (`video_md5`, `HASH_VIDEO_MD5`,
/// `video_sha256`…): its entries get [`VIDEO_LABEL`], so photo and video digests stay apart.
pub fn is_video_type_name(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase().replace('-', "");
    let n = n.strip_prefix("hash_").unwrap_or(&n);
    n.starts_with("video_") || n.starts_with("videomd5") || n.starts_with("videosha")
}

/// A lowercase signal type name or alias, without the `hash_` prefix.
fn known_signal_type(n: &str) -> Option<SignalType> {
    let t = match n {
        "pdq" => SignalType::Pdq,
        "md5" | "photo_md5" | "video_md5" | "photomd5" | "videomd5" => SignalType::Md5,
        "sha256" | "photo_sha256" | "video_sha256" => SignalType::Sha256,
        "sha512" | "photo_sha512" | "video_sha512" => SignalType::Sha512,
        "dhash" => SignalType::Dhash,
        "phash" => SignalType::Phash,
        "text_regex" | "textregex" | "regex" => SignalType::TextRegex,
        "vpdq" | "video_vpdq" => SignalType::Vpdq,
        // ThreatExchange's indicator types for them: URI / RAW_URI, HASH_URL_MD5, TEXT_STRING.
        "url" | "uri" | "raw_uri" => SignalType::Url,
        "url_md5" | "urlmd5" => SignalType::UrlMd5,
        "raw_text" | "rawtext" | "text_string" => SignalType::RawText,
        _ => return None,
    };
    Some(t)
}

/// What a version did to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Change {
    /// The entry was added.
    Added {
        /// The entry as added.
        entry: Entry,
    },
    /// The entry's labels or metadata changed.
    Updated {
        /// The entry as it is now.
        entry: Entry,
    },
    /// The entry was disabled (it stays listed but stops matching).
    Disabled {
        /// The entry, with its `disabled` record.
        entry: Entry,
    },
    /// The entry was re-enabled.
    Enabled {
        /// The entry as it is now.
        entry: Entry,
    },
    /// The entry was deleted at the source; it must stop matching.
    Deleted {
        /// The deleted entry's key.
        key: String,
    },
}

impl Change {
    /// The key of the entry this change concerns.
    pub fn key(&self) -> String {
        match self {
            Change::Added { entry }
            | Change::Updated { entry }
            | Change::Disabled { entry }
            | Change::Enabled { entry } => entry.key(),
            Change::Deleted { key } => key.clone(),
        }
    }

    /// The entry after the change (`None` for a deletion).
    pub fn entry(&self) -> Option<&Entry> {
        match self {
            Change::Added { entry }
            | Change::Updated { entry }
            | Change::Disabled { entry }
            | Change::Enabled { entry } => Some(entry),
            Change::Deleted { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ids() {
        assert!(ListId::parse("gifct-pdq.2026_11").is_ok());
        for bad in ["", "-x", "Upper", "has space", &"x".repeat(65)] {
            assert!(ListId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values_are_checked_and_lowercased() {
        let md5 = canonical_value(SignalType::Md5, " D41D8CD98F00B204E9800998ECF8427E ").unwrap();
        assert_eq!(md5, "d41d8cd98f00b204e9800998ecf8427e");
        let err = canonical_value(SignalType::Md5, "d41d8cd98f00b204e9800998ecf8427").unwrap_err();
        assert!(err.0.contains("32 hex characters, found 31"), "{err}");
        let err = canonical_value(SignalType::Md5, "z41d8cd98f00b204e9800998ecf8427e").unwrap_err();
        assert!(err.0.contains("'z' at position 1"), "{err}");
    }

    #[test]
    fn signal_type_aliases() {
        assert_eq!(parse_signal_type("HASH_PDQ").unwrap(), SignalType::Pdq);
        assert_eq!(parse_signal_type("video_md5").unwrap(), SignalType::Md5);
        assert_eq!(parse_signal_type("SHA-256").unwrap(), SignalType::Sha256);
        assert_eq!(parse_signal_type("SHA-512").unwrap(), SignalType::Sha512);
        assert!(parse_signal_type("tmk_pdqf").is_err());
    }

    #[test]
    fn disablement_expires() {
        let mut e = Entry::new(SignalType::Md5, &"a".repeat(32)).unwrap();
        assert!(!e.is_disabled_at(0));
        e.disabled = Some(Disabled {
            reason: "fp".into(),
            actor: "ana".into(),
            at_ms: 10,
            until_ms: Some(100),
        });
        assert!(e.is_disabled_at(99));
        assert!(!e.is_disabled_at(100));
    }

    #[test]
    fn entry_keys_round_trip() {
        let e = Entry::new(SignalType::Sha256, &"AB".repeat(32)).unwrap();
        let (t, v) = parse_entry_key(&e.key()).unwrap();
        assert_eq!((t, v.as_str()), (SignalType::Sha256, e.value.as_str()));
    }
}
