//! python-threatexchange plain files: `<signal_type> <hash>` per line, and what
//! `threatexchange dataset -P` prints: `<signal_type> <hash> ['<collab>'] <CATEGORY>
//! [tag,tag…]` (the type left out when one type was asked for, the collab when one collab
//! was), labelled as the CSV of the same command is. A line without a signal type is a bare hash: its type is the one the reader was
//! given, or MD5 for 32 hex characters; 64 hex characters could be PDQ or SHA-256, so such a
//! file needs the type named (`--signal-type`). A signal type we do not use (pytx's
//! `trend_query`) skips its line with a warning.
//!
//! A `text_regex` pattern is the rest of its line. So is a `raw_text` text, unless the line
//! ends with what `dataset -P` prints after it (` '<collab>' <CATEGORY> [tags]`): a text
//! holding ` '` and a later `'` of its own is then cut there, so such texts, and any text of a
//! file printed for a single collab (no quoted collab), are exact only in the CSV format.

use super::lines::LineReader;
use super::{Record, RecordError};
use crate::model::{Entry, InvalidValue, VIDEO_LABEL, is_video_type_name, parse_signal_type};
use std::io::{BufRead, Write};
use takedown_core::SignalType;

/// Streams records from a plain file, one bounded line at a time.
pub(super) struct PlainRecords<R> {
    lines: LineReader<R>,
    bare_type: Option<SignalType>,
}

impl<R: BufRead> PlainRecords<R> {
    pub(super) fn new(reader: R, max_line_bytes: usize, bare_type: Option<SignalType>) -> Self {
        PlainRecords {
            lines: LineReader::new(reader, max_line_bytes),
            bare_type,
        }
    }
}

/// Whether `s` is all hex digits.
fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The type of a bare hash: the given one, else what its length says unambiguously.
fn bare_type(value: &str, given: Option<SignalType>) -> Result<SignalType, InvalidValue> {
    if let Some(t) = given {
        return Ok(t);
    }
    match value.len() {
        32 => Ok(SignalType::Md5),
        128 => Ok(SignalType::Sha512),
        64 => Err(InvalidValue(
            "a bare 64-character hash could be pdq or sha256: name the type (--signal-type)".into(),
        )),
        n => Err(InvalidValue(format!(
            "expected `<signal_type> <hash>` or a bare hash, found {n} characters"
        ))),
    }
}

/// The labels of what `threatexchange dataset -P` prints after the hash: an optional quoted
/// collab (Python's repr), the category, then comma-separated tags.
fn dataset_labels(rest: &str) -> Result<Vec<String>, InvalidValue> {
    let mut labels = Vec::new();
    let mut rest = rest.trim();
    if let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let close = rest[1..].find(quote).ok_or_else(|| {
            InvalidValue(format!("collab name opened with {quote} is not closed"))
        })?;
        labels.push(format!("collab:{}", &rest[1..1 + close]));
        rest = rest[2 + close..].trim_start();
    }
    let mut words = rest.split_whitespace();
    if let Some(category) = words.next() {
        labels.push(format!("category:{category}"));
    }
    for word in words {
        labels.extend(
            word.split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        );
    }
    Ok(labels)
}

/// A `raw_text` line's text and the labels of a ` '<collab>' <CATEGORY> [tags]` suffix, if
/// it ends with one: the last ` '` or ` "` whose quote closes, followed by nothing or by an
/// upper-case category word (as pytx prints its categories), so a quotation inside a text is
/// not taken for a collab.
fn split_dataset_suffix(rest: &str) -> (&str, Vec<String>) {
    let is_category = |label: &String| {
        label.strip_prefix("category:").is_some_and(|c| {
            c.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
        })
    };
    let mut end = rest.len();
    while let Some(at) = rest[..end].rfind([' ', '\t']) {
        let after = &rest[at + 1..];
        if after.starts_with(['\'', '"'])
            && let Ok(labels) = dataset_labels(after)
            && labels.get(1).is_none_or(is_category)
        {
            return (rest[..at].trim_end(), labels);
        }
        end = at;
    }
    (rest, Vec::new())
}

fn parse_line(
    line: &str,
    line_no: u64,
    given: Option<SignalType>,
) -> Option<Result<Record, RecordError>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (first, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(a, b)| (a, b.trim_start()));
    let err = |e: InvalidValue| RecordError::line(line_no, e.0);
    let (kind, value, rest) = match parse_signal_type(first) {
        Ok(t) if t == SignalType::TextRegex => {
            // A text rule's pattern is the rest of the line and may hold spaces.
            let entry = Entry::new(t, rest).map_err(err);
            return Some(entry.map(|entry| Record {
                entry,
                deleted: false,
            }));
        }
        Ok(t) if t == SignalType::RawText => {
            let (text, labels) = split_dataset_suffix(rest);
            let entry = Entry::new(t, text).map(|mut entry| {
                entry.add_labels(labels);
                entry
            });
            return Some(entry.map_err(err).map(|entry| Record {
                entry,
                deleted: false,
            }));
        }
        Ok(t) => {
            let (value, rest) = rest
                .split_once(char::is_whitespace)
                .map_or((rest, ""), |(a, b)| (a, b));
            if value.is_empty() {
                return Some(Err(RecordError::line(
                    line_no,
                    "expected `<signal_type> <hash>`",
                )));
            }
            (t, value, rest)
        }
        Err(_) if is_hex(first) => match bare_type(first, given) {
            Ok(t) => (t, first, rest),
            Err(e) => return Some(Err(err(e))),
        },
        Err(e) => {
            return Some(Err(RecordError::line(
                line_no,
                format!("{}; line skipped", e.0),
            )
            .skip()));
        }
    };
    let video = is_video_type_name(first).then(|| VIDEO_LABEL.to_string());
    let entry = Entry::new(kind, value).and_then(|mut entry| {
        entry.add_labels(dataset_labels(rest)?.into_iter().chain(video));
        Ok(entry)
    });
    Some(entry.map_err(err).map(|entry| Record {
        entry,
        deleted: false,
    }))
}

impl<R: BufRead> Iterator for PlainRecords<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.lines.next_line()? {
                Ok((line_no, line)) => {
                    if let Some(r) = parse_line(line, line_no, self.bare_type) {
                        return Some(r);
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    for e in entries {
        writeln!(out, "{} {}", super::pytx_type_name(e), e.value)?;
    }
    Ok(())
}
