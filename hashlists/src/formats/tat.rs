//! Tech Against Terrorism hash-list pages:
//! `{count, next, checkpoint, results: [{hash_digest, algorithm, ideology, file_type, deleted,
//! created_on, updated_on, id}]}`.
//!
//! `ideology` and `file_type` become the labels `ideology:<x>` and `file_type:<x>`; `id` is kept
//! as the entry's source id; `deleted: true` is a deletion that must stop matching. `id`,
//! `created_on` and `updated_on` may be numbers or strings (python-threatexchange types
//! `updated_on` as a number of seconds); they are kept as text.
//!
//! Exports are what python-threatexchange's TAT client reads: every field of every result
//! present (`null` where we have nothing; it builds each result with exactly these keys),
//! `previous` beside `next`, `id` a number, `updated_on` a number where it is one, and a
//! checkpoint `<updated_on>,<id>` of the last result, as the API's own.

use super::{PageInfo, Record, RecordError, Records, take_prefixed};
use crate::model::{Entry, parse_signal_type};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, Write};

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    checkpoint: Option<Value>,
    results: Vec<Value>,
}

#[derive(Deserialize)]
struct Item {
    hash_digest: String,
    algorithm: String,
    #[serde(default)]
    ideology: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    created_on: Option<Value>,
    #[serde(default)]
    updated_on: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
}

/// One exported result: every key always present, as pytx's client requires.
#[derive(Serialize)]
struct OutItem {
    hash_digest: String,
    algorithm: &'static str,
    ideology: Option<String>,
    file_type: Option<String>,
    deleted: bool,
    updated_on: Value,
    created_on: Option<String>,
    id: u64,
}

/// A JSON scalar as text (ids and checkpoints may be numbers or strings).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_item(i: usize, value: Value) -> Result<Record, RecordError> {
    let path = format!("results[{i}]");
    let item: Item =
        serde_json::from_value(value).map_err(|e| RecordError::json(&path, e.to_string()))?;
    let kind = parse_signal_type(&item.algorithm).map_err(|e| {
        RecordError::json(
            format!("{path}.algorithm"),
            format!("{}; record skipped", e.0),
        )
        .skip()
    })?;
    let mut entry = Entry::new(kind, &item.hash_digest)
        .map_err(|e| RecordError::json(format!("{path}.hash_digest"), e.0))?;
    let mut labels = Vec::new();
    if let Some(x) = item.ideology.filter(|s| !s.is_empty()) {
        labels.push(format!("ideology:{x}"));
    }
    if let Some(x) = item.file_type.filter(|s| !s.is_empty()) {
        // An MD5 of a video file is what pytx calls `video_md5`.
        if ["mov", "m4v", "mp4", "webm"].contains(&x.to_ascii_lowercase().as_str()) {
            labels.push(crate::model::VIDEO_LABEL.to_string());
        }
        labels.push(format!("file_type:{x}"));
    }
    entry.add_labels(labels);
    let text = |v: Option<Value>| v.filter(|v| !v.is_null()).as_ref().map(scalar_text);
    entry.source_id = text(item.id);
    entry.source_created = text(item.created_on);
    entry.source_updated = text(item.updated_on);
    Ok(Record {
        entry,
        deleted: item.deleted,
    })
}

pub(super) fn read<R: BufRead>(reader: R) -> Result<Records, RecordError> {
    let page: Page = serde_json::from_reader(reader)
        .map_err(|e| RecordError::json("$", format!("not a Tech Against Terrorism page: {e}")))?;
    let info = PageInfo {
        checkpoint: page
            .checkpoint
            .as_ref()
            .filter(|v| !v.is_null())
            .map(scalar_text),
        next: page.next.filter(|s| !s.is_empty()),
        count: page.count,
    };
    let records: Vec<_> = page
        .results
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_item(i, v))
        .collect();
    Ok(Records {
        records: Box::new(records.into_iter()),
        page: info,
    })
}

/// The Tech Against Terrorism name of a signal type.
fn algorithm(e: &Entry) -> &'static str {
    match e.signal_type {
        takedown_core::SignalType::Pdq => "PDQ",
        takedown_core::SignalType::Md5 => "MD5",
        takedown_core::SignalType::Sha256 => "SHA-256",
        takedown_core::SignalType::Sha512 => "SHA-512",
        takedown_core::SignalType::Dhash => "DHASH",
        takedown_core::SignalType::Phash => "PHASH",
        takedown_core::SignalType::TextRegex => "TEXT-REGEX",
        takedown_core::SignalType::Vpdq => "VPDQ",
        takedown_core::SignalType::Url => "URL",
        takedown_core::SignalType::UrlMd5 => "URL-MD5",
        takedown_core::SignalType::RawText => "RAW-TEXT",
    }
}

/// A JSON number for text that is one (so `1704085200.5` and `124` export as numbers).
fn as_number(text: &str) -> Option<Value> {
    let n: serde_json::Number = serde_json::from_str(text.trim()).ok()?;
    Some(Value::Number(n))
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
    page: &PageInfo,
) -> std::io::Result<()> {
    // Ids must be numbers: the source's where it is one, else the position in the export,
    // counted past the largest numeric source id so the two never collide.
    let entries: Vec<&Entry> = entries.collect();
    let numeric_id = |e: &Entry| e.source_id.as_deref().and_then(|s| s.parse::<u64>().ok());
    let mut spare = entries
        .iter()
        .filter_map(|e| numeric_id(e))
        .max()
        .unwrap_or(0);
    let items: Vec<OutItem> = entries
        .iter()
        .map(|e| OutItem {
            hash_digest: e.value.clone(),
            algorithm: algorithm(e),
            ideology: take_prefixed(&e.labels, "ideology:").map(str::to_string),
            file_type: take_prefixed(&e.labels, "file_type:").map(str::to_string),
            deleted: false,
            updated_on: e
                .source_updated
                .as_deref()
                .map(|u| as_number(u).unwrap_or_else(|| Value::String(u.to_string())))
                .unwrap_or(Value::Null),
            created_on: e.source_created.clone(),
            id: numeric_id(e).unwrap_or_else(|| {
                spare += 1;
                spare
            }),
        })
        .collect();
    // The API's checkpoint names the last result (`<updated_on>,<id>`); without a numeric
    // `updated_on` to name, the caller's checkpoint stands.
    let checkpoint = items
        .iter()
        .filter(|i| i.updated_on.is_number())
        .max_by(|a, b| {
            let key = |i: &OutItem| (i.updated_on.as_f64().unwrap_or(0.0), i.id);
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|i| format!("{},{}", i.updated_on, i.id))
        .or_else(|| page.checkpoint.clone());
    let doc = serde_json::json!({
        "count": page.count.unwrap_or(items.len() as u64),
        "next": page.next,
        "previous": Value::Null,
        "checkpoint": checkpoint,
        "results": items,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
