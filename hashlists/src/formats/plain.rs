//! python-threatexchange plain files: `<signal_type> <hash>` per line.

use super::lines::LineReader;
use super::{Record, RecordError};
use crate::model::{Entry, InvalidValue, parse_signal_type};
use std::io::{BufRead, Write};
use takedown_core::SignalType;

/// Streams records from a plain file, one bounded line at a time.
pub(super) struct PlainRecords<R> {
    lines: LineReader<R>,
}

impl<R: BufRead> PlainRecords<R> {
    pub(super) fn new(reader: R, max_line_bytes: usize) -> Self {
        PlainRecords {
            lines: LineReader::new(reader, max_line_bytes),
        }
    }
}

fn parse_line(line: &str, line_no: u64) -> Option<Result<Record, RecordError>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let Some((kind, rest)) = line.split_once(char::is_whitespace) else {
        return Some(Err(RecordError::line(
            line_no,
            "expected `<signal_type> <hash>`",
        )));
    };
    let entry = parse_signal_type(kind).and_then(|t| {
        let rest = rest.trim_start();
        // A text rule's pattern is the rest of the line and may hold spaces.
        if t != SignalType::TextRegex && rest.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(InvalidValue(
                "expected two fields `<signal_type> <hash>`, found more".into(),
            ));
        }
        Entry::new(t, rest)
    });
    let entry = entry.map_err(|e| RecordError::line(line_no, e.0));
    Some(entry.map(|entry| Record {
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
                    if let Some(r) = parse_line(line, line_no) {
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
        writeln!(out, "{} {}", e.signal_type, e.value)?;
    }
    Ok(())
}
