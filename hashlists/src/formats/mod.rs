//! Hash-list file formats: import (parse and validate) and export.
//!
//! Platforms receive lists in the formats of the tools that made them, and hand lists to other
//! tools in theirs: python-threatexchange plain files, pytx/HMA CSV, Tech Against Terrorism JSON
//! pages, ThreatExchange descriptor JSON, and our canonical JSON lines, which keeps everything.
//! Line formats are read as a stream (memory does not grow with the file); JSON documents are
//! pages of bounded size and are read whole. Every bad record gets a [`RecordError`] naming its
//! line or JSON path; good records next to it are unaffected.

mod csv_format;
mod jsonl;
mod plain;
mod tat;
mod te;

use crate::model::Entry;
use std::fmt;
use std::io::{BufRead, Write};

/// The supported list formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// python-threatexchange plain file: `<signal_type> <hash>` per line, `#` comments.
    Plain,
    /// pytx/HMA CSV: `signal_type,signal_str,collab,category,tags` (header optional).
    Csv,
    /// A Tech Against Terrorism JSON page: `{count, next, checkpoint, results: [...]}`.
    Tat,
    /// ThreatExchange descriptor JSON: `{"data": [{id, raw_indicator, type, tags, ...}]}`.
    Te,
    /// Takedown's canonical JSON lines: one [`Entry`] per line, plus `"deleted": true` for
    /// deletions. Keeps labels, provenance and curation.
    Jsonl,
}

impl Format {
    /// Every format, for help texts and tests.
    pub const ALL: [Format; 5] = [
        Format::Plain,
        Format::Csv,
        Format::Tat,
        Format::Te,
        Format::Jsonl,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Csv => "csv",
            Format::Tat => "tat",
            Format::Te => "te",
            Format::Jsonl => "jsonl",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown list format {s:?} (known: plain, csv, tat, te, jsonl)"))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One parsed record: an entry to add or update, or a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The entry (for a deletion, the entry being deleted).
    pub entry: Entry,
    /// True when the source says the entry was deleted.
    pub deleted: bool,
}

/// Where in a file a record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number.
    Line(u64),
    /// A JSON path such as `results[3].hash_digest`.
    Json(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Json(p) => f.write_str(p),
        }
    }
}

/// A record that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct RecordError {
    /// Where the record is.
    pub location: Location,
    /// What is wrong with it.
    pub reason: String,
}

impl RecordError {
    fn line(n: u64, reason: impl Into<String>) -> Self {
        RecordError {
            location: Location::Line(n),
            reason: reason.into(),
        }
    }

    fn json(path: impl Into<String>, reason: impl Into<String>) -> Self {
        RecordError {
            location: Location::Json(path.into()),
            reason: reason.into(),
        }
    }
}

/// Paging information carried by a JSON page (Tech Against Terrorism).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// The source's checkpoint after this page.
    pub checkpoint: Option<String>,
    /// The URL of the next page, if any.
    pub next: Option<String>,
    /// The total count the source reports.
    pub count: Option<u64>,
}

/// The records of one file or page, read lazily for line formats.
pub struct Records {
    /// The records, in file order.
    pub records: Box<dyn Iterator<Item = Result<Record, RecordError>> + Send>,
    /// Paging information (empty for formats without it).
    pub page: PageInfo,
}

/// Reads a list in `format`. A document that cannot be read at all (unparseable JSON, an I/O
/// error) is an error here; per-record problems come out of the iterator.
pub fn read<R: BufRead + Send + 'static>(
    format: Format,
    reader: R,
) -> Result<Records, RecordError> {
    match format {
        Format::Plain => Ok(Records {
            records: Box::new(plain::PlainRecords::new(reader)),
            page: PageInfo::default(),
        }),
        Format::Jsonl => Ok(Records {
            records: Box::new(jsonl::JsonlRecords::new(reader)),
            page: PageInfo::default(),
        }),
        Format::Csv => Ok(Records {
            records: Box::new(csv_format::CsvRecords::new(reader)),
            page: PageInfo::default(),
        }),
        Format::Tat => tat::read(reader),
        Format::Te => te::read(reader),
    }
}

/// Writes entries in `format`. Deleted entries are not exported (exports are current state);
/// `page` fills the paging fields of page formats.
pub fn write<'a, W: Write>(
    format: Format,
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
    page: &PageInfo,
) -> std::io::Result<()> {
    match format {
        Format::Plain => plain::write(entries, out),
        Format::Csv => csv_format::write(entries, out),
        Format::Tat => tat::write(entries, out, page),
        Format::Te => te::write(entries, out),
        Format::Jsonl => jsonl::write(entries, out),
    }
}

/// Splits labels with a `prefix:` into that field's value and the rest.
fn take_prefixed<'a>(labels: &'a [String], prefix: &str) -> Option<&'a str> {
    labels.iter().find_map(|l| l.strip_prefix(prefix))
}

#[cfg(test)]
mod tests;
