//! The report ledger: every event a report counts, written once, kept for years.
//!
//! Two tiers (see `docs/reports.md` for why): the review engine appends each event to a Redis
//! stream in the same atomic step as the change it records (a decision and its ledger event
//! commit together), and [`archive`] moves the stream into append-only JSON-lines files, one
//! per calendar month (`ledger/YYYY-MM.jsonl`), fsynced before the stream entries are deleted.
//! Redis therefore only holds what has not been archived yet (bounded by the archive
//! interval), the files outlive case purges, and a month's file is a plain, auditable record.
//!
//! Delivery is at least once at every step (a crash between the file append and the stream
//! delete archives an entry twice; a hook resent after a crash writes its event again), so
//! reading deduplicates by [`Event::key`].

use crate::event::Event;
use crate::period::Period;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The stream field that carries an event's JSON.
pub const STREAM_FIELD: &str = "event";

/// The Redis stream of not-yet-archived events under a key prefix.
pub fn stream_key(prefix: &str) -> String {
    format!("{prefix}:ledger")
}

/// Ledger failures.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// File I/O.
    #[error("ledger {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line that is not an event.
    #[error("ledger {path} line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        message: String,
    },
    /// Redis.
    #[error("ledger stream: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The file tier: `DIR/ledger/YYYY-MM.jsonl`.
#[derive(Debug, Clone)]
pub struct Ledger {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn month_of(e: &Event) -> String {
    let t = e.at();
    format!("{:04}-{:02}", t.year(), t.month() as u8)
}

/// How many events a scan saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanStats {
    /// Events in the period handed to the visitor.
    pub events: u64,
    /// Repeated events skipped.
    pub duplicates: u64,
}

impl Ledger {
    /// The ledger under `dir`. Nothing is created until the first [`Ledger::append`], so a
    /// reader (the reports page, on a read-only mount) can open a directory no job has
    /// written yet.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            dir: dir.join("ledger"),
        })
    }

    /// The file of `month` (`YYYY-MM`).
    pub(crate) fn file(&self, month: &str) -> PathBuf {
        self.dir.join(format!("{month}.jsonl"))
    }

    /// Appends events to their months' files and fsyncs them.
    pub fn append(&self, events: &[Event]) -> Result<(), LedgerError> {
        let mut by_month: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
        for e in events {
            by_month.entry(month_of(e)).or_default().push(e);
        }
        if !by_month.is_empty() {
            std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        }
        for (month, evs) in by_month {
            let path = self.file(&month);
            let mut buf = Vec::new();
            for e in evs {
                serde_json::to_writer(&mut buf, e).map_err(|e| LedgerError::Line {
                    path: path.clone(),
                    line: 0,
                    message: e.to_string(),
                })?;
                buf.push(b'\n');
            }
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(&path))?;
            f.write_all(&buf).map_err(io(&path))?;
            f.sync_data().map_err(io(&path))?;
        }
        Ok(())
    }

    /// The months that have a file, in order.
    pub fn months(&self) -> Result<Vec<String>, LedgerError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(m) = name.strip_suffix(".jsonl") {
                out.push(m.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Calls `visit` once per distinct event whose time is in `period` (or every event when
    /// `period` is `None`), month by month, streaming: memory is one line plus a 64-bit hash
    /// per distinct event of the period.
    pub fn scan(
        &self,
        period: Option<&Period>,
        mut visit: impl FnMut(&Event),
    ) -> Result<ScanStats, LedgerError> {
        let months = match period {
            Some(p) => p.months(),
            None => self.months()?,
        };
        let mut seen: HashSet<u64> = HashSet::new();
        let mut stats = ScanStats::default();
        let mut line = String::new();
        for month in months {
            let path = self.file(&month);
            let f = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            let mut r = BufReader::with_capacity(1 << 16, f);
            let mut n = 0;
            loop {
                line.clear();
                if r.read_line(&mut line).map_err(io(&path))? == 0 {
                    break;
                }
                n += 1;
                if line.trim().is_empty() {
                    continue;
                }
                let e: Event = serde_json::from_str(&line).map_err(|e| LedgerError::Line {
                    path: path.clone(),
                    line: n,
                    message: e.to_string(),
                })?;
                if period.is_some_and(|p| !p.contains(e.at())) {
                    continue;
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                e.key().hash(&mut h);
                if !seen.insert(h.finish()) {
                    stats.duplicates += 1;
                    continue;
                }
                stats.events += 1;
                visit(&e);
            }
        }
        Ok(stats)
    }
}

/// What one [`archive`] run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Archived {
    /// Events moved to files.
    pub events: u64,
    /// Stream entries that were not events, moved to the dead-letter stream `…:ledger:dead`.
    pub dead: u64,
}

/// Moves every entry of the Redis stream `stream` into the file ledger, in batches: append
/// and fsync first, then delete the entries, so a crash repeats (never loses) a batch.
pub async fn archive(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    ledger: &Ledger,
) -> Result<Archived, LedgerError> {
    use redis::AsyncCommands;
    let mut done = Archived::default();
    loop {
        let reply: redis::streams::StreamRangeReply =
            conn.xrange_count(stream, "-", "+", 5000).await?;
        if reply.ids.is_empty() {
            return Ok(done);
        }
        let mut events = Vec::with_capacity(reply.ids.len());
        let mut ids = Vec::with_capacity(reply.ids.len());
        for entry in &reply.ids {
            ids.push(entry.id.clone());
            let raw: Option<String> = entry.get(STREAM_FIELD);
            match raw.as_deref().map(serde_json::from_str::<Event>) {
                Some(Ok(e)) => events.push(e),
                other => {
                    let why = match other {
                        Some(Err(e)) => e.to_string(),
                        _ => format!("no {STREAM_FIELD} field"),
                    };
                    let _: String = conn
                        .xadd(
                            format!("{stream}:dead"),
                            "*",
                            &[
                                ("id", entry.id.as_str()),
                                ("error", why.as_str()),
                                ("raw", raw.as_deref().unwrap_or("")),
                            ],
                        )
                        .await?;
                    done.dead += 1;
                }
            }
        }
        ledger.append(&events)?;
        done.events += events.len() as u64;
        let _: usize = conn.xdel(stream, &ids).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, OrderReceived};
    use time::macros::datetime;

    fn order(id: &str, at: time::OffsetDateTime) -> Event {
        Event::OrderReceived(OrderReceived {
            order_id: id.into(),
            at,
            acknowledged_at: at,
            issuing_state: "FR".into(),
            items: 1,
        })
    }

    #[test]
    fn files_by_month_and_counts_repeats_once() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(dir.path()).unwrap();
        let a = order("a", datetime!(2026-01-31 23:59 UTC));
        let b = order("b", datetime!(2026-02-01 00:00 UTC));
        l.append(&[a.clone(), b.clone(), a.clone()]).unwrap();
        assert_eq!(l.months().unwrap(), ["2026-01", "2026-02"]);
        let mut keys = vec![];
        let p = Period::parse("2026-01-01/2026-01-31").unwrap();
        let s = l.scan(Some(&p), |e| keys.push(e.key())).unwrap();
        assert_eq!(keys, ["order:a"]);
        assert_eq!(
            s,
            ScanStats {
                events: 1,
                duplicates: 1
            }
        );
        let mut all = 0;
        l.scan(None, |_| all += 1).unwrap();
        assert_eq!(all, 2);
    }

    #[test]
    fn a_directory_nothing_wrote_reads_as_empty_and_is_not_created() {
        // The reports page opens the directory read-only: it must not need to create it.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("never-written");
        let l = Ledger::open(&root).unwrap();
        assert!(l.months().unwrap().is_empty());
        let mut seen = 0;
        let p = Period::parse("2026-01-01/2026-12-31").unwrap();
        assert_eq!(
            l.scan(Some(&p), |_| seen += 1).unwrap(),
            ScanStats::default()
        );
        assert_eq!(l.scan(None, |_| seen += 1).unwrap(), ScanStats::default());
        assert_eq!(seen, 0);
        let outbox = crate::outbox::Outbox::open(&root).unwrap();
        assert!(outbox.outcomes().unwrap().is_empty());
        assert!(!root.exists());
        // The first write creates them.
        l.append(&[order("a", datetime!(2026-03-01 00:00 UTC))])
            .unwrap();
        outbox
            .record(&[("td_a_0".into(), crate::outbox::Outcome::Retry)])
            .unwrap();
        assert_eq!(l.months().unwrap(), ["2026-03"]);
        assert_eq!(outbox.outcomes().unwrap().len(), 1);
    }

    #[test]
    fn a_bad_line_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(dir.path()).unwrap();
        l.append(&[order("a", datetime!(2026-01-02 00:00 UTC))])
            .unwrap();
        let path = dir.path().join("ledger/2026-01.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"event\":\"nope\"}\n").unwrap();
        match l.scan(None, |_| {}) {
            Err(LedgerError::Line { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }
}
