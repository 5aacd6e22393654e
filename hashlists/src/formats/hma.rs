//! HMA 1.x and python-threatexchange CLI state files: `simple.<TYPE>.te`.
//!
//! One file per indicator type, the type in the file name (`simple.HASH_PDQ.te`,
//! `simple.HASH_VIDEO_MD5.te`), CSV rows without a header. HMA 1.x writes
//! `indicator,indicator_id,first_descriptor_id,added_on,labels`; the pytx CLI's cache leaves
//! out `indicator_id`. Labels are space-separated. The indicator id (else the descriptor id)
//! is kept as the entry's source id, `added_on` as its creation time, labels as they are.
//!
//! Exports write HMA 1.x rows (what its `HMASerialization.load` reads): the descriptor id must
//! be a number there, so a source id that is none becomes 0.

use super::csv_format::split_fields;
use super::lines::LineReader;
use super::{Record, RecordError};
use crate::model::{Entry, InvalidValue, VIDEO_LABEL, is_video_type_name, parse_signal_type};
use std::io::{BufRead, Write};
use takedown_core::SignalType;

/// The signal type a state file's name gives (`simple.HASH_PDQ.te` → PDQ), and whether its
/// digests are of videos (`simple.HASH_VIDEO_MD5.te`).
pub fn type_from_file_name(name: &str) -> Result<(SignalType, bool), InvalidValue> {
    let kind = name
        .strip_prefix("simple.")
        .and_then(|rest| rest.strip_suffix(".te"))
        .filter(|kind| !kind.is_empty() && !kind.contains('.'))
        .ok_or_else(|| {
            InvalidValue(format!(
                "{name:?} is not an HMA state file name (simple.<TYPE>.te, e.g. simple.HASH_PDQ.te)"
            ))
        })?;
    Ok((parse_signal_type(kind)?, is_video_type_name(kind)))
}

/// The name of the state file an entry belongs in: its ThreatExchange indicator type
/// (`simple.HASH_PDQ.te`, `simple.HASH_VIDEO_MD5.te` for an MD5 of a video).
pub fn file_name(e: &Entry) -> String {
    let video = e.labels.iter().any(|l| l == VIDEO_LABEL);
    let kind = match (e.signal_type, video) {
        (SignalType::Pdq, _) => "HASH_PDQ",
        (SignalType::Md5, true) => "HASH_VIDEO_MD5",
        (SignalType::Md5, false) => "HASH_MD5",
        (SignalType::Sha256, true) => "HASH_VIDEO_SHA256",
        (SignalType::Sha256, false) => "HASH_SHA256",
        (other, _) => return format!("simple.{}.te", other.as_str().to_ascii_uppercase()),
    };
    format!("simple.{kind}.te")
}

/// Streams records from a state file whose rows are all of `kind`.
pub(super) struct HmaRecords<R> {
    lines: LineReader<R>,
    kind: Option<SignalType>,
    video: bool,
}

impl<R: BufRead> HmaRecords<R> {
    pub(super) fn new(
        reader: R,
        max_line_bytes: usize,
        kind: Option<SignalType>,
        video: bool,
    ) -> Self {
        HmaRecords {
            lines: LineReader::new(reader, max_line_bytes),
            kind,
            video,
        }
    }
}

fn parse_row(
    row: &[String],
    line: u64,
    kind: SignalType,
    video: bool,
) -> Result<Record, RecordError> {
    let (indicator, id, rest) = match row.len() {
        5 => (&row[0], Some(&row[1]), &row[2..]),
        4 => (&row[0], None, &row[1..]),
        n => {
            return Err(RecordError::line(
                line,
                format!(
                    "expected 5 fields (indicator,indicator_id,first_descriptor_id,added_on,\
                     labels) or 4 (without indicator_id), found {n}"
                ),
            ));
        }
    };
    let mut entry = Entry::new(kind, indicator)
        .map_err(|e| RecordError::line(line, format!("indicator: {}", e.0)))?;
    let source_id = id.filter(|s| !s.is_empty()).unwrap_or(&rest[0]);
    entry.source_id = Some(source_id.clone()).filter(|s| !s.is_empty());
    entry.source_created = Some(rest[1].clone()).filter(|s| !s.is_empty());
    let labels = rest[2]
        .split(' ')
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    entry.add_labels(labels.chain(video.then(|| VIDEO_LABEL.to_string())));
    Ok(Record {
        entry,
        deleted: false,
    })
}

impl<R: BufRead> Iterator for HmaRecords<R> {
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
            let Some(kind) = self.kind else {
                return Some(Err(RecordError::line(
                    line_no,
                    "the signal type of an HMA state file comes from its name \
                     (simple.<TYPE>.te); none was given",
                )));
            };
            return Some(match split_fields(line) {
                Ok(row) => parse_row(&row, line_no, kind, self.video),
                Err(why) => Err(RecordError::line(line_no, format!("malformed CSV: {why}"))),
            });
        }
    }
}

pub(super) fn write<'a, W: Write>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &mut W,
) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for e in entries {
        let id = e.source_id.as_deref().unwrap_or("");
        let descriptor = id.parse::<u64>().map_or("0".to_string(), |n| n.to_string());
        if let Some(bad) = e.labels.iter().find(|l| l.contains(char::is_whitespace)) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: label {bad:?} holds a space, which HMA labels cannot carry",
                    e.key()
                ),
            ));
        }
        let created = e.source_created.as_deref().unwrap_or("");
        // Video-ness is said by the file name (see [`file_name`]).
        let labels: Vec<&str> = e
            .labels
            .iter()
            .map(String::as_str)
            .filter(|l| *l != VIDEO_LABEL)
            .collect();
        w.write_record([
            e.value.as_str(),
            id,
            &descriptor,
            created,
            &labels.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}
