//! The statements outbox's pending count, kept up to date incrementally, so the review role
//! can refresh `takedown_sor_outbox_pending` on its own tick without reading the whole ledger
//! each time ([`crate::outbox::Outbox::status`] does: O(all months)).
//!
//! Both inputs only grow: the ledger's month files and the outbox's `results.jsonl` are
//! append-only. The counter keeps a byte cursor per file and, per refresh, reads only what was
//! appended since (complete lines; a line still being written is read next time), plus one
//! `stat` per month file. It remembers a 64-bit hash per statement puid and per puid whose
//! latest outcome is final (stored or refused), the same memory [`crate::ledger::Ledger::scan`]
//! needs for a period. A file that shrank (replaced, restored from a backup) makes it count
//! everything again.

use crate::event::Event;
use crate::ledger::Ledger;
use crate::mapping::Mapping;
use crate::outbox::{Outbox, Outcome, ResultLine};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// What one [`PendingCounter::refresh`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    /// Statements neither stored nor refused (a retried one is pending again).
    pub pending: u64,
    /// Bytes read by this refresh (only what was appended since the last one).
    pub bytes_read: u64,
    /// Lines that were not events or outcomes, skipped (and counted) rather than stopping.
    pub bad_lines: u64,
}

/// The incremental count over one report directory.
#[derive(Debug)]
pub struct PendingCounter {
    ledger: Ledger,
    results: PathBuf,
    mapping: Mapping,
    /// Month → bytes of its file already read.
    cursors: HashMap<String, u64>,
    results_cursor: u64,
    statements: HashSet<u64>,
    closed: HashSet<u64>,
    pending: u64,
}

fn hash(puid: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    puid.hash(&mut h);
    h.finish()
}

/// Appends to `buf` what `path` holds past `from`, up to its last newline; returns the new
/// cursor, or `None` when the file is shorter than `from` (it was replaced).
fn read_new(path: &Path, from: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<u64>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((from == 0).then_some(0));
        }
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    if len < from {
        return Ok(None);
    }
    if len == from {
        return Ok(Some(from));
    }
    f.seek(SeekFrom::Start(from))?;
    buf.clear();
    f.take(len - from).read_to_end(buf)?;
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    buf.truncate(complete);
    Ok(Some(from + complete as u64))
}

impl PendingCounter {
    /// A counter over the report directory `dir` (nothing is read until [`Self::refresh`]).
    pub fn new(dir: &Path, mapping: Mapping) -> PendingCounter {
        PendingCounter {
            ledger: Ledger::open(dir).expect("opening a ledger creates nothing"),
            results: Outbox::open(dir)
                .expect("opening an outbox creates nothing")
                .results_path()
                .to_path_buf(),
            mapping,
            cursors: HashMap::new(),
            results_cursor: 0,
            statements: HashSet::new(),
            closed: HashSet::new(),
            pending: 0,
        }
    }

    fn reset(&mut self) {
        self.cursors.clear();
        self.results_cursor = 0;
        self.statements.clear();
        self.closed.clear();
        self.pending = 0;
    }

    /// Reads what was appended since the last refresh and returns the count.
    pub fn refresh(&mut self) -> std::io::Result<Refreshed> {
        let mut out = Refreshed::default();
        if self.read_appended(&mut out)? {
            // A file shrank: count everything again, from the start.
            self.reset();
            out = Refreshed::default();
            self.read_appended(&mut out)?;
        }
        out.pending = self.pending;
        Ok(out)
    }

    /// Reads the appended lines; `true` when a file shrank (the count must start over).
    fn read_appended(&mut self, out: &mut Refreshed) -> std::io::Result<bool> {
        let mut buf = Vec::new();
        let Some(next) = read_new(&self.results, self.results_cursor, &mut buf)? else {
            return Ok(true);
        };
        out.bytes_read += next - self.results_cursor;
        self.results_cursor = next;
        for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(r) = serde_json::from_slice::<ResultLine>(line) else {
                out.bad_lines += 1;
                continue;
            };
            let h = hash(&r.puid);
            let open_before = !self.closed.contains(&h);
            let open_now = matches!(r.outcome, Outcome::Retry);
            if open_now {
                self.closed.remove(&h);
            } else {
                self.closed.insert(h);
            }
            if self.statements.contains(&h) && open_before != open_now {
                if open_now {
                    self.pending += 1;
                } else {
                    self.pending -= 1;
                }
            }
        }
        let months = self
            .ledger
            .months()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        for month in months {
            let from = self.cursors.get(&month).copied().unwrap_or(0);
            let Some(next) = read_new(&self.ledger.file(&month), from, &mut buf)? else {
                return Ok(true);
            };
            out.bytes_read += next - from;
            self.cursors.insert(month, next);
            for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let Ok(e) = serde_json::from_slice::<Event>(line) else {
                    out.bad_lines += 1;
                    continue;
                };
                if let Event::Decision(d) = e
                    && crate::sor::statement(&d, &self.mapping).is_some()
                {
                    let h = hash(&d.puid());
                    if self.statements.insert(h) && !self.closed.contains(&h) {
                        self.pending += 1;
                    }
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
#[path = "pending_count_tests.rs"]
mod tests;
