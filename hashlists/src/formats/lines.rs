//! Reading a line format one bounded line at a time.
//!
//! `BufRead::read_line` keeps reading until it finds a newline, so one 2 GB line is 2 GB of
//! memory. [`LineReader`] keeps at most `max` bytes of a line: the rest of an over-long line is
//! skipped chunk by chunk up to its newline, and the line becomes an error naming its number,
//! so the lines after it are still read (and still report their own errors).

use super::RecordError;
use std::io::BufRead;

/// Yields the lines of a reader, each at most `max` bytes (without its line ending).
pub(super) struct LineReader<R> {
    reader: R,
    max: usize,
    line_no: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(super) fn new(reader: R, max: usize) -> Self {
        LineReader {
            reader,
            max,
            line_no: 0,
            buf: Vec::with_capacity(128),
            done: false,
        }
    }

    /// The next line and its 1-based number, `Err` for an over-long, non-UTF-8 or unreadable
    /// line, `None` at the end.
    pub(super) fn next_line(&mut self) -> Option<Result<(u64, &str), RecordError>> {
        if self.done {
            return None;
        }
        self.buf.clear();
        self.line_no += 1;
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(RecordError::line(
                        self.line_no,
                        format!("cannot read: {e}"),
                    )));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                if !read_any {
                    return None;
                }
                break;
            }
            read_any = true;
            let (take, found) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > self.max {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.reader.consume(take + usize::from(found));
            if found {
                break;
            }
        }
        if too_long {
            return Some(Err(RecordError::line(
                self.line_no,
                format!("line longer than {} bytes", self.max),
            )));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        // A UTF-8 byte order mark (Windows tools write one) is not part of the first line.
        if self.line_no == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Some(Ok((self.line_no, text))),
            Err(e) => Some(Err(RecordError::line(
                self.line_no,
                format!("not UTF-8: {e}"),
            ))),
        }
    }
}
