//! Tech Against Terrorism hash-list pages:
//! `{count, next, checkpoint, results: [{hash_digest, algorithm, ideology, file_type, deleted,
//! created_on, updated_on, id}]}`.
//!
//! `ideology` and `file_type` become the labels `ideology:<x>` and `file_type:<x>`; `id` is kept
//! as the entry's source id; `deleted: true` is a deletion that must stop matching.

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

#[derive(Deserialize, Serialize)]
struct Item {
    hash_digest: String,
    algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ideology: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_type: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Value>,
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
    let kind = parse_signal_type(&item.algorithm)
        .map_err(|e| RecordError::json(format!("{path}.algorithm"), e.0))?;
    let mut entry = Entry::new(kind, &item.hash_digest)
        .map_err(|e| RecordError::json(format!("{path}.hash_digest"), e.0))?;
    let mut labels = Vec::new();
    if let Some(x) = item.ideology.filter(|s| !s.is_empty()) {
        labels.push(format!("ideology:{x}"));
    }
    if let Some(x) = item.file_type.filter(|s| !s.is_empty()) {
        labels.push(format!("file_type:{x}"));
    }
    entry.add_labels(labels);
    entry.source_id = item.id.as_ref().map(scalar_text);
    entry.source_created = item.created_on;
    entry.source_updated = item.updated_on;
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
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
    page: &PageInfo,
) -> std::io::Result<()> {
    let items: Vec<Item> = entries
        .map(|e| Item {
            hash_digest: e.value.clone(),
            algorithm: algorithm(e).to_string(),
            ideology: take_prefixed(&e.labels, "ideology:").map(str::to_string),
            file_type: take_prefixed(&e.labels, "file_type:").map(str::to_string),
            deleted: false,
            created_on: e.source_created.clone(),
            updated_on: e.source_updated.clone(),
            id: e.source_id.clone().map(Value::String),
        })
        .collect();
    let doc = serde_json::json!({
        "count": page.count.unwrap_or(items.len() as u64),
        "next": page.next,
        "checkpoint": page.checkpoint,
        "results": items,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
