//! ThreatExchange descriptor JSON: `{"data": [{id, raw_indicator, type, tags, added_on,
//! last_updated}]}` as the Graph API returns threat descriptors.
//!
//! `type` is an indicator type such as `HASH_PDQ` or `HASH_MD5`; `tags` (a list of strings, or
//! the API's `{"data": [{"text": ...}]}`) become labels; `id` is kept as the source id.

use super::{PageInfo, Record, RecordError, Records};
use crate::model::{Entry, parse_signal_type};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use takedown_core::SignalType;

#[derive(Deserialize)]
struct Doc {
    data: Vec<Value>,
    #[serde(default)]
    paging: Option<Value>,
}

#[derive(Deserialize)]
struct Descriptor {
    raw_indicator: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default)]
    added_on: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
}

fn tag_texts(tags: &Value, path: &str) -> Result<Vec<String>, RecordError> {
    let list = match tags {
        Value::Array(items) => items,
        Value::Object(o) => match o.get("data") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(RecordError::json(
                    format!("{path}.tags"),
                    "expected a list or {\"data\": [...]}",
                ));
            }
        },
        Value::Null => return Ok(Vec::new()),
        _ => {
            return Err(RecordError::json(
                format!("{path}.tags"),
                "expected a list of tags",
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(j, t)| match t {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => o
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    RecordError::json(format!("{path}.tags[{j}]"), "tag object without \"text\"")
                }),
            _ => Err(RecordError::json(
                format!("{path}.tags[{j}]"),
                "tag must be a string",
            )),
        })
        .collect()
}

fn parse_descriptor(i: usize, value: Value) -> Result<Record, RecordError> {
    let path = format!("data[{i}]");
    let d: Descriptor =
        serde_json::from_value(value).map_err(|e| RecordError::json(&path, e.to_string()))?;
    let kind = parse_signal_type(&d.kind).map_err(|e| {
        RecordError::json(format!("{path}.type"), format!("{}; record skipped", e.0)).skip()
    })?;
    let mut entry = Entry::new(kind, &d.raw_indicator)
        .map_err(|e| RecordError::json(format!("{path}.raw_indicator"), e.0))?;
    if let Some(tags) = &d.tags {
        entry.add_labels(tag_texts(tags, &path)?);
    }
    if crate::model::is_video_type_name(&d.kind) {
        entry.add_labels([crate::model::VIDEO_LABEL.to_string()]);
    }
    entry.source_id = d.id.map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    });
    entry.source_created = d.added_on;
    entry.source_updated = d.last_updated;
    Ok(Record {
        entry,
        deleted: false,
    })
}

pub(super) fn read<R: BufRead>(reader: R) -> Result<Records, RecordError> {
    let doc: Doc = serde_json::from_reader(reader).map_err(|e| {
        RecordError::json(
            "$",
            format!("not a ThreatExchange descriptor document: {e}"),
        )
    })?;
    let next = doc
        .paging
        .as_ref()
        .and_then(|p| p.get("next"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let records: Vec<_> = doc
        .data
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_descriptor(i, v))
        .collect();
    Ok(Records {
        records: Box::new(records.into_iter()),
        page: PageInfo {
            next,
            ..PageInfo::default()
        },
    })
}

fn indicator_type(t: SignalType) -> &'static str {
    match t {
        SignalType::Pdq => "HASH_PDQ",
        SignalType::Md5 => "HASH_MD5",
        SignalType::Sha256 => "HASH_SHA256",
        SignalType::Sha512 => "HASH_SHA512",
        SignalType::Dhash => "HASH_DHASH",
        SignalType::Phash => "HASH_PHASH",
        SignalType::TextRegex => "TEXT_REGEX",
        SignalType::Vpdq => "HASH_VPDQ",
        SignalType::Url => "URI",
        SignalType::UrlMd5 => "HASH_URL_MD5",
        SignalType::RawText => "TEXT_STRING",
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    let data: Vec<Value> = entries
        .map(|e| {
            let mut d = json!({
                "raw_indicator": e.value,
                "type": indicator_type(e.signal_type),
                "tags": e.labels,
            });
            let obj = d.as_object_mut().expect("object");
            if let Some(id) = &e.source_id {
                obj.insert("id".into(), json!(id));
            }
            if let Some(x) = &e.source_created {
                obj.insert("added_on".into(), json!(x));
            }
            if let Some(x) = &e.source_updated {
                obj.insert("last_updated".into(), json!(x));
            }
            d
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({ "data": data }))?;
    out.write_all(b"\n")
}
