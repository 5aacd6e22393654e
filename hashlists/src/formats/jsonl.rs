//! Takedown's canonical JSON-lines format: every field of an entry, one per line.

use super::lines::LineReader;
use super::{Record, RecordError};
use crate::model::Entry;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: Entry,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

/// Streams records from a JSON-lines file, one bounded line at a time.
pub(super) struct JsonlRecords<R> {
    lines: LineReader<R>,
}

impl<R: BufRead> JsonlRecords<R> {
    pub(super) fn new(reader: R, max_line_bytes: usize) -> Self {
        JsonlRecords {
            lines: LineReader::new(reader, max_line_bytes),
        }
    }
}

impl<R: BufRead> Iterator for JsonlRecords<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (line_no, line) = match self.lines.next_line()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str::<Line>(line)
                .map_err(|e| RecordError::line(line_no, format!("invalid JSON entry: {e}")))
                .and_then(|l| {
                    l.entry
                        .validate()
                        .map_err(|e| RecordError::line(line_no, e.0))?;
                    Ok(Record {
                        entry: l.entry,
                        deleted: l.deleted,
                    })
                });
            return Some(parsed);
        }
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    for e in entries {
        let line = Line {
            entry: e.clone(),
            deleted: false,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
