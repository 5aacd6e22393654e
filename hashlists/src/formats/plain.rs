//! python-threatexchange plain files: `<signal_type> <hash>` per line.

use super::{Record, RecordError};
use crate::model::{Entry, parse_signal_type};
use std::io::{BufRead, Write};
use takedown_core::SignalType;

/// Streams records from a plain file, one line at a time.
pub(super) struct PlainRecords<R> {
    reader: R,
    line_no: u64,
    buf: String,
    done: bool,
}

impl<R: BufRead> PlainRecords<R> {
    pub(super) fn new(reader: R) -> Self {
        PlainRecords {
            reader,
            line_no: 0,
            buf: String::with_capacity(128),
            done: false,
        }
    }
}

fn parse_line(line: &str, line_no: u64) -> Option<Result<Record, RecordError>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // A text rule's pattern is the rest of the line and may hold spaces.
    if let Some((kind, pattern)) = line.split_once(char::is_whitespace)
        && parse_signal_type(kind).ok() == Some(SignalType::TextRegex)
    {
        let entry =
            Entry::new(SignalType::TextRegex, pattern).map_err(|e| RecordError::line(line_no, e.0));
        return Some(entry.map(|entry| Record {
            entry,
            deleted: false,
        }));
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(kind), Some(value)) = (parts.next(), parts.next()) else {
        return Some(Err(RecordError::line(
            line_no,
            "expected `<signal_type> <hash>`",
        )));
    };
    if parts.next().is_some() {
        return Some(Err(RecordError::line(
            line_no,
            "expected two fields `<signal_type> <hash>`, found more",
        )));
    }
    let entry = parse_signal_type(kind)
        .and_then(|t| Entry::new(t, value))
        .map_err(|e| RecordError::line(line_no, e.0));
    Some(entry.map(|entry| Record {
        entry,
        deleted: false,
    }))
}

impl<R: BufRead> Iterator for PlainRecords<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            self.line_no += 1;
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    if let Some(r) = parse_line(&self.buf, self.line_no) {
                        return Some(r);
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(RecordError::line(
                        self.line_no,
                        format!("cannot read: {e}"),
                    )));
                }
            }
        }
        None
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    for e in entries {
        writeln!(out, "{} {}", e.signal_type, e.value)?;
    }
    Ok(())
}
