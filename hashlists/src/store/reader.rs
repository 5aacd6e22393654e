//! What followers and cold readers read: versions and what each did, entries, the change log
//! up to the committed version (never a writer's uncommitted records), and snapshots (the
//! entries hash plus a replay of committed versions not yet materialised).

use super::handle::{Store, StoreError, decode_entry};
use crate::model::{Change, Entry, ListId};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What one version did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version number.
    pub version: u64,
    /// When it was committed, in Unix milliseconds.
    pub at_ms: i64,
    /// Who or what made it ("import by ana", "sync tat").
    pub actor: String,
    /// Entries added.
    pub added: u64,
    /// Entries whose labels or metadata changed.
    pub updated: u64,
    /// Entries deleted.
    pub deleted: u64,
    /// Entries disabled.
    pub disabled: u64,
    /// Entries re-enabled.
    pub enabled: u64,
    /// The source checkpoint stored with this version, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// The message published on [`Store::channel`] when a list's version moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEvent {
    /// The list.
    pub list: ListId,
    /// Its new committed version.
    pub version: u64,
}

impl Store {
    /// The committed version of a list (0 for a list never changed).
    pub async fn version(&self, list: &ListId) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let v: Option<u64> = conn.hget(self.keys(list).state, "version").await?;
        Ok(v.unwrap_or(0))
    }

    /// What each version in `from..=to` did.
    pub async fn versions(
        &self,
        list: &ListId,
        from: u64,
        to: u64,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let fields: Vec<u64> = (from.max(1)..=to).collect();
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&keys.versions)
            .arg(&fields)
            .query_async(&mut conn)
            .await?;
        raw.into_iter()
            .flatten()
            .map(|j| {
                serde_json::from_str(&j).map_err(|e| StoreError::Corrupt {
                    key: keys.versions.clone(),
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// One entry by key, as materialised.
    pub async fn entry(&self, list: &ListId, key: &str) -> Result<Option<Entry>, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let json: Option<String> = conn.hget(&keys.entries, key).await?;
        json.map(|j| decode_entry(&keys.entries, &j)).transpose()
    }

    /// The changes of versions `after+1 ..= upto`, in order, grouped by version.
    pub async fn changes(
        &self,
        list: &ListId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(u64, Vec<Change>)>, StoreError> {
        let mut out: Vec<(u64, Vec<Change>)> = Vec::new();
        let mut pager = self.log_pager(list, after, upto).await?;
        while let Some(page) = pager.next_page().await? {
            for (version, changes) in page {
                match out.last_mut() {
                    Some((v, list)) if *v == version => list.extend(changes),
                    _ => out.push((version, changes)),
                }
            }
        }
        Ok(out)
    }

    /// Reads the change log of versions `after+1 ..= upto` a page at a time, never past the
    /// committed version (above it are a writer's uncommitted changes).
    async fn log_pager(
        &self,
        list: &ListId,
        after: u64,
        upto: u64,
    ) -> Result<LogPager, StoreError> {
        let upto = upto.min(self.version(list).await?);
        Ok(LogPager {
            conn: self.conn.clone(),
            log: self.keys(list).log,
            start: format!("{}-0", after + 1),
            end: format!("{upto}-{}", u64::MAX),
            done: upto <= after,
        })
    }

    /// Every entry of a list at its committed version: the entries hash plus a replay of any
    /// committed but not yet materialised versions. Returns the version too.
    pub async fn snapshot(&self, list: &ListId) -> Result<(u64, Vec<Entry>), StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let materialized: Option<u64> = conn.hget(&keys.state, "materialized").await?;
        let materialized = materialized.unwrap_or(0);
        let mut entries: HashMap<String, Entry> = HashMap::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, page): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
                .arg(&keys.entries)
                .arg(cursor)
                .arg("COUNT")
                .arg(5000)
                .query_async(&mut conn)
                .await?;
            for (k, j) in page {
                entries.insert(k, decode_entry(&keys.entries, &j)?);
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let version = self.version(list).await?;
        for (_, changes) in self.changes(list, materialized, version).await? {
            for c in changes {
                match c.entry() {
                    Some(e) => entries.insert(c.key(), e.clone()),
                    None => entries.remove(&c.key()),
                };
            }
        }
        let mut out: Vec<Entry> = entries.into_values().collect();
        out.sort_by(|a, b| (a.signal_type, &a.value).cmp(&(b.signal_type, &b.value)));
        Ok((version, out))
    }
}

/// One change as stored in the log: its operation, the entry key, and the entry's JSON
/// (`None` for a deletion).
struct RawChange {
    op: String,
    key: String,
    json: Option<String>,
}

impl RawChange {
    fn parse(self, log: &str) -> Result<Change, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: log.to_string(),
            reason,
        };
        let entry = || -> Result<Entry, StoreError> {
            let json = self
                .json
                .as_deref()
                .ok_or_else(|| corrupt(format!("{} {} has no entry", self.op, self.key)))?;
            serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))
        };
        Ok(match self.op.as_str() {
            "added" => Change::Added { entry: entry()? },
            "updated" => Change::Updated { entry: entry()? },
            "disabled" => Change::Disabled { entry: entry()? },
            "enabled" => Change::Enabled { entry: entry()? },
            "deleted" => Change::Deleted { key: self.key },
            other => return Err(corrupt(format!("unknown operation {other:?}"))),
        })
    }
}

/// Pages through a list's change log (see [`Store::log_pager`]).
struct LogPager {
    conn: MultiplexedConnection,
    log: String,
    start: String,
    end: String,
    done: bool,
}

impl LogPager {
    /// Records per page; each holds up to [`STAGE_BATCH`](super::handle::STAGE_BATCH) changes.
    const RECORDS: usize = 20;

    async fn next_raw(&mut self) -> Result<Option<Vec<(u64, Vec<RawChange>)>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(&self.log)
            .arg(&self.start)
            .arg(&self.end)
            .arg("COUNT")
            .arg(Self::RECORDS)
            .query_async(&mut self.conn)
            .await?;
        self.done = page.len() < Self::RECORDS;
        let corrupt = |reason: String| StoreError::Corrupt {
            key: self.log.clone(),
            reason,
        };
        let mut out = Vec::with_capacity(page.len());
        for (id, fields) in page {
            let (version, seq) =
                parse_stream_id(&id).ok_or_else(|| corrupt(format!("stream id {id}")))?;
            let mut changes = Vec::with_capacity(fields.len() / 2);
            let mut pairs = fields.into_iter();
            while let (Some(field), Some(value)) = (pairs.next(), pairs.next()) {
                let (op, key) = field
                    .split_once(' ')
                    .ok_or_else(|| corrupt(format!("record {id} field {field:?}")))?;
                changes.push(RawChange {
                    op: op.to_string(),
                    key: key.to_string(),
                    json: (op != "deleted").then_some(value),
                });
            }
            out.push((version, changes));
            self.start = format!("{version}-{}", seq + 1);
        }
        Ok(Some(out))
    }

    async fn next_page(&mut self) -> Result<Option<Vec<(u64, Vec<Change>)>>, StoreError> {
        let Some(raw) = self.next_raw().await? else {
            return Ok(None);
        };
        raw.into_iter()
            .map(|(version, changes)| {
                let parsed = changes
                    .into_iter()
                    .map(|c| c.parse(&self.log))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((version, parsed))
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(Some)
    }
}

fn parse_stream_id(id: &str) -> Option<(u64, u64)> {
    let (a, b) = id.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
