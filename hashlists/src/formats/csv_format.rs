//! pytx/HMA CSV: `signal_type,signal_str,collab,category,tags`.
//!
//! `collab` and `category` become the labels `collab:<name>` and `category:<name>`; `tags` are
//! space-separated and become labels as they are. Export reverses the mapping.
//!
//! A record is one line, read through the bounded [`LineReader`], and quoting is strict (RFC
//! 4180 within a line): a quoted field must close on the line it opened, a closing quote must
//! end its field, and an unquoted field may not hold a quote. A lenient parser lets one stray
//! quote swallow the rest of the file into a single label; here that line is an error naming
//! its number and the next line is read as a line of its own.
//!
//! Exported cells that a spreadsheet would run as a formula are neutralised (see
//! [`spreadsheet_safe`]) and the importer undoes exactly that, so exports round-trip.

use super::lines::LineReader;
use super::{Record, RecordError, take_prefixed};
use crate::model::{Entry, VIDEO_LABEL, is_video_type_name, parse_signal_type};
use std::borrow::Cow;
use std::io::{BufRead, Write};
use takedown_core::SignalType;

const HEADER: [&str; 5] = ["signal_type", "signal_str", "collab", "category", "tags"];

/// Streams records from a CSV file.
pub(super) struct CsvRecords<R> {
    lines: LineReader<R>,
    first: bool,
}

impl<R: BufRead> CsvRecords<R> {
    pub(super) fn new(reader: R, max_line_bytes: usize) -> Self {
        CsvRecords {
            lines: LineReader::new(reader, max_line_bytes),
            first: true,
        }
    }
}

/// Splits one line into fields, strictly: `Err` says what is wrong and at which column.
pub(super) fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        let mut field = String::new();
        match chars.peek() {
            Some(&(start, '"')) => {
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '"')) => {
                            if chars.peek().is_some_and(|&(_, c)| c == '"') {
                                chars.next();
                                field.push('"');
                            } else {
                                break;
                            }
                        }
                        Some((_, c)) => field.push(c),
                        None => {
                            return Err(format!(
                                "quoted field opened at column {} is not closed on this line",
                                start + 1
                            ));
                        }
                    }
                }
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some((_, ',')) => fields.push(field),
                    Some((at, c)) => {
                        return Err(format!(
                            "unexpected {c:?} at column {} after a closing quote",
                            at + 1
                        ));
                    }
                }
            }
            _ => loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some((_, ',')) => {
                        fields.push(std::mem::take(&mut field));
                        break;
                    }
                    Some((at, '"')) => {
                        return Err(format!(
                            "quote inside an unquoted field at column {}",
                            at + 1
                        ));
                    }
                    Some((_, c)) => field.push(c),
                }
            },
        }
    }
}

fn parse_row(row: &[String], line: u64) -> Result<Record, RecordError> {
    if row.len() < 2 || row.len() > 5 {
        return Err(RecordError::line(
            line,
            format!(
                "expected 2 to 5 fields (signal_type,signal_str,collab,category,tags), found {}",
                row.len()
            ),
        ));
    }
    let kind = parse_signal_type(&row[0]).map_err(|e| {
        RecordError::line(line, format!("signal_type: {}; line skipped", e.0)).skip()
    })?;
    let mut entry = Entry::new(kind, &row[1])
        .map_err(|e| RecordError::line(line, format!("signal_str: {}", e.0)))?;
    let mut labels = Vec::new();
    if let Some(collab) = row.get(2).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        labels.push(format!("collab:{collab}"));
    }
    if let Some(category) = row.get(3).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        labels.push(format!("category:{category}"));
    }
    if let Some(tags) = row.get(4) {
        labels.extend(tags.split_whitespace().map(str::to_string));
    }
    if is_video_type_name(&row[0]) {
        labels.push(VIDEO_LABEL.to_string());
    }
    entry.add_labels(labels);
    Ok(Record {
        entry,
        deleted: false,
    })
}

impl<R: BufRead> Iterator for CsvRecords<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (line_no, line) = match self.lines.next_line()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            let first = std::mem::replace(&mut self.first, false);
            let row = match split_fields(line) {
                Ok(row) => row,
                Err(why) => {
                    return Some(Err(RecordError::line(
                        line_no,
                        format!("malformed CSV: {why}"),
                    )));
                }
            };
            if first && row.first().map(|f| f.trim()) == Some(HEADER[0]) {
                continue;
            }
            if row.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let row: Vec<String> = row
                .into_iter()
                .map(|f| spreadsheet_unsafe(&f).into_owned())
                .collect();
            return Some(parse_row(&row, line_no));
        }
    }
}

/// Whether a spreadsheet would treat a cell starting with `c` as a formula (OWASP's list).
fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A cell made safe to open in a spreadsheet: one `'` is put in front of a cell that starts
/// with `=`, `+`, `-`, `@`, tab or carriage return (OWASP's CSV-injection rule), or with `'`s
/// followed by one of those (so that a cell which already looked escaped stays distinct and
/// [`spreadsheet_unsafe`] can undo exactly what was added). Other cells, hex hashes among
/// them, are unchanged.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.trim_start_matches('\'').starts_with(is_formula_start) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`spreadsheet_safe`]: drops the one `'` in front of `'`s and a formula character.
pub fn spreadsheet_unsafe(cell: &str) -> Cow<'_, str> {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(is_formula_start) => {
            Cow::Borrowed(rest)
        }
        _ => Cow::Borrowed(cell),
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    // CRLF line ends, as Python's csv writer (pytx's) writes them.
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(HEADER)?;
    for e in entries {
        let collab = take_prefixed(&e.labels, "collab:").unwrap_or("");
        let category = take_prefixed(&e.labels, "category:").unwrap_or("");
        let tags: Vec<&str> = e
            .labels
            .iter()
            .filter(|l| !l.starts_with("collab:") && !l.starts_with("category:"))
            .filter(|l| {
                // Said by the type name (`video_md5`) instead.
                let digest = matches!(e.signal_type, SignalType::Md5 | SignalType::Sha256);
                !(digest && l.as_str() == VIDEO_LABEL)
            })
            .map(String::as_str)
            .collect();
        if let Some(bad) = tags.iter().find(|t| t.contains(char::is_whitespace)) {
            // Tags are space-separated (as pytx writes them): a space would split this one.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: tag {bad:?} holds a space, which CSV tags cannot carry",
                    e.key()
                ),
            ));
        }
        let tags = tags.join(" ");
        let cells = [super::pytx_type_name(e), &e.value, collab, category, &tags];
        if let Some(bad) = cells.iter().find(|c| c.contains(['\n', '\r'])) {
            // A record is one line: a line break would split it on import.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: {bad:?} holds a line break, which CSV lines cannot carry",
                    e.key()
                ),
            ));
        }
        w.write_record(cells.map(spreadsheet_safe).iter().map(|c| c.as_ref()))?;
    }
    w.flush()?;
    Ok(())
}
