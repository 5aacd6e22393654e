//! Hash-list file formats: import (parse and validate) and export.
//!
//! Platforms receive lists in the formats of the tools that made them, and hand lists to other
//! tools in theirs: python-threatexchange plain files, pytx/HMA CSV, Tech Against Terrorism JSON
//! pages, ThreatExchange descriptor JSON, and our canonical JSON lines, which keeps everything.
//! Line formats are read as a stream (memory does not grow with the file); JSON documents are
//! pages of bounded size and are read whole. Both are bounded: a line longer than
//! [`ReadOptions::max_line_bytes`] is an error for that line (and is skipped without being held
//! in memory), a JSON document larger than [`ReadOptions::max_document_bytes`] is refused. Every
//! bad record gets a [`RecordError`] naming its
//! line or JSON path; good records next to it are unaffected.

mod csv_format;
pub mod hma;
mod jsonl;
mod lines;
mod plain;
mod tat;
mod te;

pub use csv_format::{spreadsheet_safe, spreadsheet_unsafe};

use crate::model::Entry;
use std::fmt;
use std::io::{BufRead, Read, Write};
use takedown_core::SignalType;

/// The longest line a line format accepts by default, in bytes (64 KiB).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The largest JSON document (a TAT page, a TE document) read by default, in bytes (64 MiB).
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Bounds on what one read may hold in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Longest line of a line format (plain, csv, jsonl), without its line ending.
    pub max_line_bytes: usize,
    /// Largest JSON document (tat, te).
    pub max_document_bytes: u64,
    /// The signal type of a plain file's bare hashes (lines without a type) and of an HMA
    /// state file's rows (whose type is in the file name).
    pub signal_type: Option<SignalType>,
    /// The file's digests are of videos (an HMA state file named `simple.HASH_VIDEO_….te`).
    pub video: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_line_bytes: MAX_LINE_BYTES,
            max_document_bytes: MAX_DOCUMENT_BYTES,
            signal_type: None,
            video: false,
        }
    }
}

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
    /// HMA 1.x / pytx CLI state file `simple.<TYPE>.te`: CSV rows
    /// `indicator,indicator_id,first_descriptor_id,added_on,labels`, the type in the file name.
    Hma,
}

impl Format {
    /// Every format, for help texts and tests.
    pub const ALL: [Format; 6] = [
        Format::Plain,
        Format::Csv,
        Format::Tat,
        Format::Te,
        Format::Jsonl,
        Format::Hma,
    ];

    /// The PDQ convention of lists made in this format unless told otherwise: full size for
    /// the formats of python-threatexchange, HMA, ThreatExchange and Tech Against Terrorism
    /// (they all hash with pytx/HMA or tools of the same convention), reference for our own.
    pub fn default_pdq_convention(self) -> takedown_core::PdqConvention {
        match self {
            Format::Jsonl => takedown_core::PdqConvention::Reference,
            Format::Plain | Format::Csv | Format::Tat | Format::Te | Format::Hma => {
                takedown_core::PdqConvention::FullSize
            }
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Csv => "csv",
            Format::Tat => "tat",
            Format::Te => "te",
            Format::Jsonl => "jsonl",
            Format::Hma => "hma",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown list format {s:?} (known: plain, csv, tat, te, jsonl, hma)")
            })
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
    /// A record of a kind we do not use (a signal type other tools know, such as pytx's
    /// `trend_query`): a warning, skipped without failing the import.
    pub skipped: bool,
}

impl RecordError {
    fn line(n: u64, reason: impl Into<String>) -> Self {
        RecordError {
            location: Location::Line(n),
            reason: reason.into(),
            skipped: false,
        }
    }

    fn json(path: impl Into<String>, reason: impl Into<String>) -> Self {
        RecordError {
            location: Location::Json(path.into()),
            reason: reason.into(),
            skipped: false,
        }
    }

    /// The same error as a warning: the record is skipped, the import goes on.
    pub(crate) fn skip(mut self) -> Self {
        self.skipped = true;
        self
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

/// Reads a list in `format` with the default [`ReadOptions`]. A document that cannot be read at
/// all (unparseable JSON, an I/O error) is an error here; per-record problems come out of the
/// iterator.
pub fn read<R: BufRead + Send + 'static>(
    format: Format,
    reader: R,
) -> Result<Records, RecordError> {
    read_with(format, reader, ReadOptions::default())
}

/// Reads a list in `format` within `options`' bounds.
pub fn read_with<R: BufRead + Send + 'static>(
    format: Format,
    reader: R,
    options: ReadOptions,
) -> Result<Records, RecordError> {
    let line = options.max_line_bytes;
    match format {
        Format::Plain => Ok(Records {
            records: Box::new(plain::PlainRecords::new(reader, line, options.signal_type)),
            page: PageInfo::default(),
        }),
        Format::Jsonl => Ok(Records {
            records: Box::new(jsonl::JsonlRecords::new(reader, line)),
            page: PageInfo::default(),
        }),
        Format::Csv => Ok(Records {
            records: Box::new(csv_format::CsvRecords::new(reader, line)),
            page: PageInfo::default(),
        }),
        Format::Hma => Ok(Records {
            records: Box::new(hma::HmaRecords::new(
                reader,
                line,
                options.signal_type,
                options.video,
            )),
            page: PageInfo::default(),
        }),
        Format::Tat => tat::read(Capped::new(reader, options.max_document_bytes)),
        Format::Te => te::read(Capped::new(reader, options.max_document_bytes)),
    }
}

/// A reader that fails once more than `left` bytes were asked of it, so a JSON parser reading
/// an oversized document stops at the cap with a clear error instead of buffering it all.
struct Capped<R> {
    inner: R,
    cap: u64,
    left: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, cap: u64) -> Self {
        Capped {
            inner,
            cap,
            left: cap,
        }
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.fill_buf()?.len().min(out.len());
        out[..n].copy_from_slice(&self.fill_buf()?[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let (left, cap) = (self.left, self.cap);
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            return Ok(buf);
        }
        if left == 0 {
            return Err(std::io::Error::other(format!(
                "document larger than {cap} bytes"
            )));
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        Ok(&buf[..n])
    }

    fn consume(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n as u64);
        self.inner.consume(n);
    }
}

/// The name pytx knows an entry's type by: `video_md5` and `video_sha256` for digests of a
/// video (entries with [`crate::model::VIDEO_LABEL`]), our own name otherwise.
fn pytx_type_name(e: &Entry) -> &'static str {
    match e.signal_type {
        SignalType::Md5 if is_video(e) => "video_md5",
        SignalType::Sha256 if is_video(e) => "video_sha256",
        other => other.as_str(),
    }
}

/// Whether an entry is a digest of a video (its label says so; see [`pytx_type_name`]).
fn is_video(e: &Entry) -> bool {
    e.labels.iter().any(|l| l == crate::model::VIDEO_LABEL)
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
        Format::Hma => hma::write(entries, out),
        Format::Jsonl => jsonl::write(entries, out),
    }
}

/// Splits labels with a `prefix:` into that field's value and the rest.
fn take_prefixed<'a>(labels: &'a [String], prefix: &str) -> Option<&'a str> {
    labels.iter().find_map(|l| l.strip_prefix(prefix))
}

#[cfg(test)]
mod tests;
