//! pytx/HMA CSV: `signal_type,signal_str,collab,category,tags`.
//!
//! `collab` and `category` become the labels `collab:<name>` and `category:<name>`; `tags` are
//! space-separated and become labels as they are. Export reverses the mapping.

use super::{Record, RecordError, take_prefixed};
use crate::model::{Entry, parse_signal_type};
use std::io::{BufRead, Write};

const HEADER: [&str; 5] = ["signal_type", "signal_str", "collab", "category", "tags"];

/// Streams records from a CSV file.
pub(super) struct CsvRecords<R> {
    rows: csv::StringRecordsIntoIter<R>,
    first: bool,
}

impl<R: BufRead> CsvRecords<R> {
    pub(super) fn new(reader: R) -> Self {
        let rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader)
            .into_records();
        CsvRecords { rows, first: true }
    }
}

fn parse_row(row: &csv::StringRecord, line: u64) -> Result<Record, RecordError> {
    if row.len() < 2 || row.len() > 5 {
        return Err(RecordError::line(
            line,
            format!(
                "expected 2 to 5 fields (signal_type,signal_str,collab,category,tags), found {}",
                row.len()
            ),
        ));
    }
    let kind = parse_signal_type(&row[0])
        .map_err(|e| RecordError::line(line, format!("signal_type: {}", e.0)))?;
    let mut entry = Entry::new(kind, &row[1])
        .map_err(|e| RecordError::line(line, format!("signal_str: {}", e.0)))?;
    let mut labels = Vec::new();
    if let Some(collab) = row.get(2).map(str::trim).filter(|s| !s.is_empty()) {
        labels.push(format!("collab:{collab}"));
    }
    if let Some(category) = row.get(3).map(str::trim).filter(|s| !s.is_empty()) {
        labels.push(format!("category:{category}"));
    }
    if let Some(tags) = row.get(4) {
        labels.extend(tags.split_whitespace().map(str::to_string));
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
            let row = self.rows.next()?;
            let first = std::mem::replace(&mut self.first, false);
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Some(Err(RecordError::line(line, format!("malformed CSV: {e}"))));
                }
            };
            let line = row.position().map_or(0, |p| p.line());
            if first && row.get(0).map(str::trim) == Some(HEADER[0]) {
                continue;
            }
            if row.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(parse_row(&row, line));
        }
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for e in entries {
        let collab = take_prefixed(&e.labels, "collab:").unwrap_or("");
        let category = take_prefixed(&e.labels, "category:").unwrap_or("");
        let tags: Vec<&str> = e
            .labels
            .iter()
            .filter(|l| !l.starts_with("collab:") && !l.starts_with("category:"))
            .map(String::as_str)
            .collect();
        w.write_record([
            e.signal_type.as_str(),
            &e.value,
            collab,
            category,
            &tags.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}
