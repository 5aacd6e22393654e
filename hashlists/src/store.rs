//! The versioned hash-list store in Redis.
//!
//! A list is metadata, a hash of current entries, a change log and a version. Writers (imports,
//! syncs, curation) hold the list's lock, stage their changes in the change log under the next
//! version number, and then commit: one Lua script checks the lock and the expected version,
//! moves the version (and the sync checkpoint, never backwards) forward, records what the version
//! did, and publishes it. Only after that are the staged changes applied to the entries hash
//! ("materialised", by a script inside Redis). Readers therefore never see half an import:
//! - matchers follow the change log up to the committed version;
//! - a cold reader scans the entries hash and replays the log from the materialised version to
//!   the committed one (changes are whole-entry upserts and deletes, so replay is idempotent).
//!
//! Beside the log, a writer keeps a staging hash of the latest state of each key it staged, so
//! a later record of the same import compares with what an earlier one staged. When the list
//! was empty (the initial load of a large list), the staging hash is the new entries hash: the
//! commit script renames it into place, so the entries are written once, not copied from the
//! log afterwards.
//!
//! A writer that dies leaves staged log entries above the committed version and a staging hash
//! (invisible, removed by the next writer) or a committed version not yet materialised
//! (finished by the next writer, and replayed by readers meanwhile). Nothing committed is lost
//! and nothing uncommitted shows.
//!
//! Keys share the hash tag `{<list id>}` so one list lives in one Redis Cluster slot.

use crate::formats::{Record, RecordError};
use crate::key_filter::KeyFilter;
use crate::model::{Change, Disabled, Entry, ListId, ListMeta, parse_entry_key};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many changes one change-log record carries.
const STAGE_BATCH: usize = 2_000;
/// How many change-log records a writer has on their way to Redis at once.
const STAGE_IN_FLIGHT: usize = 4;
/// How long a writer's lock lives without renewal.
const LOCK_TTL: Duration = Duration::from_secs(60);
/// How many errors an import reports in full (all are counted).
const MAX_REPORTED_ERRORS: usize = 100;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis failed or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Stored data could not be decoded.
    #[error("corrupt stored data at {key}: {reason}")]
    Corrupt {
        /// The Redis key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The list does not exist.
    #[error("no list {0}")]
    NoSuchList(ListId),
    /// Another writer (import or sync) holds the list.
    #[error("list {0} is locked by another import or sync")]
    Locked(ListId),
    /// The lock expired or was taken over while writing; nothing was committed.
    #[error("lost the lock on list {0}; nothing was committed")]
    LockLost(ListId),
    /// A checkpoint older than the stored one was offered.
    #[error("checkpoint {offered:?} is before the stored checkpoint {stored:?}")]
    CheckpointBackwards {
        /// The stored checkpoint.
        stored: String,
        /// The rejected one.
        offered: String,
    },
    /// An all-or-nothing import met invalid records; nothing was changed.
    #[error("{invalid} invalid record(s), nothing imported; first: {}", first_error(.errors))]
    Invalid {
        /// Number of invalid records.
        invalid: u64,
        /// The first errors (at most 100).
        errors: Vec<RecordError>,
    },
    /// Invalid list metadata or entry key.
    #[error("{0}")]
    InvalidValue(String),
    /// The entry is not on the list.
    #[error("list {list} has no entry {key}")]
    NoSuchEntry {
        /// The list.
        list: ListId,
        /// The entry key.
        key: String,
    },
}

fn first_error(errors: &[RecordError]) -> String {
    errors.first().map(ToString::to_string).unwrap_or_default()
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

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

impl VersionInfo {
    fn count(&mut self, change: &Change) {
        match change {
            Change::Added { .. } => self.added += 1,
            Change::Updated { .. } => self.updated += 1,
            Change::Deleted { .. } => self.deleted += 1,
            Change::Disabled { .. } => self.disabled += 1,
            Change::Enabled { .. } => self.enabled += 1,
        }
    }

    fn changes(&self) -> u64 {
        self.added + self.updated + self.deleted + self.disabled + self.enabled
    }
}

/// A list's state: metadata, committed version, checkpoint and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListState {
    /// Metadata.
    pub meta: ListMeta,
    /// The committed version (0 before the first change).
    pub version: u64,
    /// The version the entries hash reflects.
    pub materialized: u64,
    /// The last committed sync checkpoint.
    pub checkpoint: Option<String>,
    /// Number of entries (as materialised).
    pub entries: u64,
}

/// Options of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Import the valid records even when some are invalid (default: all or nothing).
    pub skip_invalid: bool,
    /// The file is the whole list: entries not in it are deleted.
    pub replace: bool,
    /// Who imports (recorded with the version).
    pub actor: String,
    /// A source checkpoint to commit with the version.
    pub checkpoint: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The version committed, or `None` when nothing changed.
    pub version: Option<u64>,
    /// Entries added.
    pub added: u64,
    /// Entries updated.
    pub updated: u64,
    /// Entries deleted.
    pub deleted: u64,
    /// Records that matched the stored entry exactly.
    pub unchanged: u64,
    /// Invalid records (skipped with `skip_invalid`).
    pub invalid: u64,
    /// The first invalid records' errors.
    #[serde(skip)]
    pub errors: Vec<RecordError>,
}

/// A reviewer's verdict on a match, fed back to the list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The match was terrorist content.
    TruePositive,
    /// The match was not.
    FalsePositive,
}

/// Feedback counts of one entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// Confirmed matches.
    pub true_positives: u64,
    /// Rejected matches.
    pub false_positives: u64,
}

/// The message published on [`Store::channel`] when a list's version moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEvent {
    /// The list.
    pub list: ListId,
    /// Its new committed version.
    pub version: u64,
}

/// Key names of one list.
struct Keys {
    meta: String,
    state: String,
    entries: String,
    log: String,
    versions: String,
    lock: String,
    feedback: String,
    disabled_until: String,
    staging: String,
}

impl Keys {
    fn new(prefix: &str, list: &ListId) -> Self {
        let base = format!("{prefix}:list:{{{list}}}");
        Keys {
            meta: format!("{base}:meta"),
            state: format!("{base}:state"),
            entries: format!("{base}:entries"),
            log: format!("{base}:log"),
            versions: format!("{base}:versions"),
            lock: format!("{base}:lock"),
            feedback: format!("{base}:feedback"),
            disabled_until: format!("{base}:disabled-until"),
            staging: format!("{base}:staging"),
        }
    }

    fn seen(&self, token: &str) -> String {
        format!("{}:seen:{token}", self.entries)
    }
}

const COMMIT_LUA: &str = r#"
-- KEYS: lock, state, versions, staging, entries; ARGV: token, expected version, info json,
-- checkpoint ('' = none), channel, list id, now ms, bump (1 = new version, 0 = checkpoint only),
-- bulk (1 = the staging hash is the whole new entries hash: rename it, already materialised)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LOCK_LOST')
end
local current = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if current ~= tonumber(ARGV[2]) then
  return redis.error_reply('LOCK_LOST')
end
if ARGV[4] ~= '' then
  local stored = redis.call('HGET', KEYS[2], 'checkpoint')
  if stored then
    local a, b = tonumber(stored), tonumber(ARGV[4])
    local backwards
    if a and b then backwards = b < a else backwards = ARGV[4] < stored end
    if backwards then
      return redis.error_reply('CHECKPOINT_BACKWARDS ' .. stored)
    end
  end
  redis.call('HSET', KEYS[2], 'checkpoint', ARGV[4])
end
if ARGV[8] == '1' then
  local next = current + 1
  redis.call('HSET', KEYS[2], 'version', next, 'updated_ms', ARGV[7])
  redis.call('HSET', KEYS[3], next, ARGV[3])
  if ARGV[9] == '1' then
    if redis.call('EXISTS', KEYS[4]) == 1 then
      redis.call('RENAME', KEYS[4], KEYS[5])
    end
    redis.call('HSET', KEYS[2], 'materialized', next)
  end
  redis.call('PUBLISH', ARGV[5], cjson.encode({list = ARGV[6], version = next}))
  return next
end
return current
"#;

/// Change-log records applied per materialising call (each up to [`STAGE_BATCH`] changes).
const MATERIALIZE_RECORDS: usize = 4;

const MATERIALIZE_LUA: &str = r#"
-- KEYS: log, entries, disabled-until, state; ARGV: start id, end id, count, version.
-- Applies up to `count` log records from `start` to the entries hash. Fields are
-- `<op> <key>` with the entry's JSON as value ("-" for a deletion); upserts are applied
-- before deletions within a record. Returns the id after the last record, or '' when the
-- range is exhausted, after recording `version` as materialised. `start` may be exclusive
-- ("(<id>").
local page = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local function apply(cmd, key, args)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(i + 999, n)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end
for _, record in ipairs(page) do
  local fields = record[2]
  local upserts, deletes = {}, {}
  for i = 1, #fields, 2 do
    local field = fields[i]
    local space = string.find(field, ' ', 1, true)
    local op, key = string.sub(field, 1, space - 1), string.sub(field, space + 1)
    if op == 'deleted' then
      deletes[#deletes + 1] = key
      redis.call('ZREM', KEYS[3], key)
    else
      local json = fields[i + 1]
      upserts[#upserts + 1] = key
      upserts[#upserts + 1] = json
      if op ~= 'added' then
        local ok, entry = pcall(cjson.decode, json)
        local until_ms = nil
        if ok and type(entry) == 'table' and type(entry.disabled) == 'table'
            and type(entry.disabled.until_ms) == 'number' then
          until_ms = entry.disabled.until_ms
        end
        if until_ms then
          redis.call('ZADD', KEYS[3], string.format('%.0f', until_ms), key)
        else
          redis.call('ZREM', KEYS[3], key)
        end
      end
    end
  end
  if #upserts > 0 then apply('HSET', KEYS[2], upserts) end
  if #deletes > 0 then apply('HDEL', KEYS[2], deletes) end
end
if #page < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[4], 'materialized', ARGV[4])
  return ''
end
return '(' .. page[#page][1]
"#;

const UNLOCK_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

const RENEW_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"#;

/// A lease on a Redis key (SET NX PX), renewed while work goes on and released by its owner
/// only: a compare-and-delete, so an expired lease taken over by someone else is never freed by
/// the old owner.
pub struct Lease {
    conn: MultiplexedConnection,
    key: String,
    token: String,
    list: ListId,
}

impl Lease {
    async fn acquire(
        store: &Store,
        key: String,
        list: &ListId,
        owner: &str,
    ) -> Result<Lease, StoreError> {
        let token = format!("{owner}/{:016x}", rand::random::<u64>());
        let mut conn = store.conn.clone();
        let took: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        if took.is_none() {
            return Err(StoreError::Locked(list.clone()));
        }
        Ok(Lease {
            conn,
            key,
            token,
            list: list.clone(),
        })
    }

    /// Extends the lease; fails if it was lost.
    pub async fn renew(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let renewed: i64 = redis::Script::new(RENEW_LUA)
            .key(&self.key)
            .arg(&self.token)
            .arg(LOCK_TTL.as_millis() as u64)
            .invoke_async(&mut conn)
            .await?;
        if renewed == 0 {
            return Err(StoreError::LockLost(self.list.clone()));
        }
        Ok(())
    }

    /// Releases the lease if still held.
    pub async fn release(self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::Script::new(UNLOCK_LUA)
            .key(&self.key)
            .arg(&self.token)
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }
}

/// The store: a Redis connection and a key prefix.
#[derive(Clone)]
pub struct Store {
    conn: MultiplexedConnection,
    client: redis::Client,
    prefix: String,
}

impl Store {
    /// Connects to Redis at `url`, with keys under `prefix` (e.g. `td`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Store {
            conn,
            client,
            prefix: prefix.to_string(),
        })
    }

    /// The Redis client, for subscribers.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The pub/sub channel on which version events are published.
    pub fn channel(&self) -> String {
        format!("{}:lists:versions", self.prefix)
    }

    fn keys(&self, list: &ListId) -> Keys {
        Keys::new(&self.prefix, list)
    }

    fn lists_key(&self) -> String {
        format!("{}:lists", self.prefix)
    }

    /// Creates a list, or updates its metadata if it exists.
    pub async fn put_list(&self, meta: &ListMeta) -> Result<(), StoreError> {
        meta.validate().map_err(|e| StoreError::InvalidValue(e.0))?;
        let keys = self.keys(&meta.id);
        let json = serde_json::to_string(meta).expect("metadata serialises");
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .sadd(self.lists_key(), meta.id.as_str())
            .set(&keys.meta, json)
            .hset_nx(&keys.state, "version", 0)
            .hset_nx(&keys.state, "materialized", 0)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Removes a list that was never changed (version 0), e.g. one created for an import that
    /// then failed. Returns whether it was removed.
    pub async fn remove_if_unused(&self, list: &ListId) -> Result<bool, StoreError> {
        if self.version(list).await? != 0 {
            return Ok(false);
        }
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .srem(self.lists_key(), list.as_str())
            .del(&[
                &keys.meta,
                &keys.state,
                &keys.entries,
                &keys.log,
                &keys.versions,
            ])
            .query_async::<()>(&mut conn)
            .await?;
        Ok(true)
    }

    /// The ids of all lists, sorted.
    pub async fn list_ids(&self) -> Result<Vec<ListId>, StoreError> {
        let mut conn = self.conn.clone();
        let mut ids: Vec<String> = conn.smembers(self.lists_key()).await?;
        ids.sort();
        ids.iter()
            .map(|s| {
                ListId::parse(s).map_err(|e| StoreError::Corrupt {
                    key: self.lists_key(),
                    reason: e.0,
                })
            })
            .collect()
    }

    /// A list's metadata.
    pub async fn meta(&self, list: &ListId) -> Result<ListMeta, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let json: Option<String> = conn.get(&keys.meta).await?;
        let json = json.ok_or_else(|| StoreError::NoSuchList(list.clone()))?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
            key: keys.meta,
            reason: e.to_string(),
        })
    }

    /// A list's metadata, version, checkpoint and size.
    pub async fn state(&self, list: &ListId) -> Result<ListState, StoreError> {
        let meta = self.meta(list).await?;
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let (version, materialized, checkpoint, entries): (
            Option<u64>,
            Option<u64>,
            Option<String>,
            u64,
        ) = redis::pipe()
            .hget(&keys.state, "version")
            .hget(&keys.state, "materialized")
            .hget(&keys.state, "checkpoint")
            .hlen(&keys.entries)
            .query_async(&mut conn)
            .await?;
        Ok(ListState {
            meta,
            version: version.unwrap_or(0),
            materialized: materialized.unwrap_or(0),
            checkpoint,
            entries,
        })
    }

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

    /// Takes the list's sync lease: one sync per list at a time, across processes.
    pub async fn sync_lease(&self, list: &ListId, owner: &str) -> Result<Lease, StoreError> {
        self.meta(list).await?;
        let key = format!("{}:sync-lock", self.keys(list).lock);
        Lease::acquire(self, key, list, owner).await
    }

    /// Takes the list's write lock, finishing any crashed writer's work first.
    pub async fn writer(&self, list: &ListId, actor: &str) -> Result<Writer, StoreError> {
        self.meta(list).await?;
        let keys = self.keys(list);
        let lease = Lease::acquire(self, keys.lock.clone(), list, actor).await?;
        let mut writer = Writer {
            store: self.clone(),
            list: list.clone(),
            keys,
            lease: Some(lease),
            base_version: 0,
            staged: Vec::new(),
            in_flight: VecDeque::new(),
            renewed: Instant::now(),
            bulk: false,
            staged_keys: None,
            info: VersionInfo {
                actor: actor.to_string(),
                ..VersionInfo::default()
            },
        };
        writer.recover().await?;
        Ok(writer)
    }

    /// Applies committed versions up to the committed one to the entries hash, inside Redis:
    /// a script copies a few log records at a time, so the entries never travel to the client
    /// and back, and no single call blocks Redis for long.
    async fn materialize(&self, list: &ListId) -> Result<(), StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let materialized: Option<u64> = conn.hget(&keys.state, "materialized").await?;
        let version = self.version(list).await?;
        let done = materialized.unwrap_or(0);
        if done >= version {
            return Ok(());
        }
        let script = redis::Script::new(MATERIALIZE_LUA);
        let mut start = format!("{}-0", done + 1);
        loop {
            // Returns "(<last id applied>" to go on from, or "" once the range is done (the
            // script then records the version as materialised).
            let next: String = script
                .key(&keys.log)
                .key(&keys.entries)
                .key(&keys.disabled_until)
                .key(&keys.state)
                .arg(&start)
                .arg(format!("{version}-{}", u64::MAX))
                .arg(MATERIALIZE_RECORDS)
                .arg(version)
                .invoke_async(&mut conn)
                .await?;
            if next.is_empty() {
                return Ok(());
            }
            start = next;
        }
    }

    /// Imports records into a list (all or nothing unless `skip_invalid`).
    pub async fn import<I>(
        &self,
        list: &ListId,
        records: I,
        options: &ImportOptions,
    ) -> Result<ImportSummary, StoreError>
    where
        I: Iterator<Item = Result<Record, RecordError>>,
    {
        let mut writer = self.writer(list, &options.actor).await?;
        let result = writer.import(records, options).await;
        match result {
            Ok(summary) => Ok(summary),
            Err(e) => {
                writer.abort().await?;
                Err(e)
            }
        }
    }

    /// Disables an entry (it stays listed but stops matching), until `until_ms` if given.
    pub async fn disable(
        &self,
        list: &ListId,
        key: &str,
        reason: &str,
        actor: &str,
        until_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut writer = self.writer(list, actor).await?;
        let result: Result<u64, StoreError> = async {
            let mut entry =
                self.entry(list, key)
                    .await?
                    .ok_or_else(|| StoreError::NoSuchEntry {
                        list: list.clone(),
                        key: key.to_string(),
                    })?;
            entry.disabled = Some(Disabled {
                reason: reason.to_string(),
                actor: actor.to_string(),
                at_ms: now_ms(),
                until_ms,
            });
            writer.stage(vec![Change::Disabled { entry }]).await?;
            writer.commit(None).await.map(|v| v.unwrap_or(0))
        }
        .await;
        if result.is_err() {
            writer.abort().await?;
        }
        result
    }

    /// Re-enables entries whose disablement has lapsed at `now_ms`; returns the new version.
    pub async fn expire_disables(
        &self,
        list: &ListId,
        now_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let due: Vec<String> = conn
            .zrangebyscore(&keys.disabled_until, "-inf", now_ms)
            .await?;
        if due.is_empty() {
            return Ok(None);
        }
        let mut writer = self.writer(list, "expiry").await?;
        let mut changes = Vec::new();
        for key in due {
            if let Some(mut entry) = self.entry(list, &key).await?
                && entry.disabled.is_some()
                && !entry.is_disabled_at(now_ms)
            {
                entry.disabled = None;
                changes.push(Change::Enabled { entry });
            }
        }
        writer.stage(changes).await?;
        writer.commit(None).await
    }

    /// Records a reviewer's verdict on a match against an entry.
    pub async fn record_feedback(
        &self,
        list: &ListId,
        key: &str,
        verdict: Verdict,
    ) -> Result<Feedback, StoreError> {
        parse_entry_key(key).map_err(|e| StoreError::InvalidValue(e.0))?;
        let keys = self.keys(list);
        let field = match verdict {
            Verdict::TruePositive => format!("{key}|tp"),
            Verdict::FalsePositive => format!("{key}|fp"),
        };
        let mut conn = self.conn.clone();
        conn.hincr::<_, _, _, i64>(&keys.feedback, field, 1).await?;
        self.feedback(list, key).await
    }

    /// The feedback counts of an entry.
    pub async fn feedback(&self, list: &ListId, key: &str) -> Result<Feedback, StoreError> {
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let (tp, fp): (Option<u64>, Option<u64>) = redis::pipe()
            .hget(&keys.feedback, format!("{key}|tp"))
            .hget(&keys.feedback, format!("{key}|fp"))
            .query_async(&mut conn)
            .await?;
        Ok(Feedback {
            true_positives: tp.unwrap_or(0),
            false_positives: fp.unwrap_or(0),
        })
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

/// A change's log field name part and value.
fn raw_change(c: &Change) -> (&'static str, String) {
    match c {
        Change::Added { entry } => ("added", encode_entry(entry)),
        Change::Updated { entry } => ("updated", encode_entry(entry)),
        Change::Disabled { entry } => ("disabled", encode_entry(entry)),
        Change::Enabled { entry } => ("enabled", encode_entry(entry)),
        Change::Deleted { .. } => ("deleted", "-".to_string()),
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
    /// Records per page; each holds up to [`STAGE_BATCH`] changes.
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

fn encode_entry(e: &Entry) -> String {
    serde_json::to_string(e).expect("entries serialise")
}

fn decode_entry(key: &str, json: &str) -> Result<Entry, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn parse_stream_id(id: &str) -> Option<(u64, u64)> {
    let (a, b) = id.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Holds a list's write lock: stages changes under the next version and commits them.
pub struct Writer {
    store: Store,
    list: ListId,
    keys: Keys,
    /// The write lock; `None` once released.
    lease: Option<Lease>,
    base_version: u64,
    /// Ids of the change-log records staged so far.
    staged: Vec<String>,
    /// Change-log writes sent but not yet acknowledged, oldest first.
    in_flight: VecDeque<tokio::task::JoinHandle<Result<String, redis::RedisError>>>,
    /// When the write lock was last renewed.
    renewed: Instant,
    /// The list had no entries when this writer took the lock and nothing staged since needs
    /// more than the staging hash: committing renames it to the entries hash instead of
    /// replaying the change log into it (the initial load of a large list).
    bulk: bool,
    /// In bulk mode, the keys staged so far (so most lookups of the staging hash are skipped).
    staged_keys: Option<KeyFilter>,
    info: VersionInfo,
}

impl Writer {
    /// The list being written.
    pub fn list(&self) -> &ListId {
        &self.list
    }

    /// The committed version this writer builds on.
    pub fn base_version(&self) -> u64 {
        self.base_version
    }

    /// Finishes a crashed writer's committed work and removes its uncommitted staging.
    async fn recover(&mut self) -> Result<(), StoreError> {
        self.store.materialize(&self.list).await?;
        self.base_version = self.store.version(&self.list).await?;
        let mut conn = self.store.conn.clone();
        let entries: u64 = conn.hlen(&self.keys.entries).await?;
        self.bulk = entries == 0;
        self.staged_keys = self.bulk.then(KeyFilter::new);
        conn.unlink::<_, ()>(&self.keys.staging).await?;
        let orphans: redis::streams::StreamRangeReply = conn
            .xrange(&self.keys.log, format!("{}-0", self.base_version + 1), "+")
            .await?;
        if !orphans.ids.is_empty() {
            let ids: Vec<&str> = orphans.ids.iter().map(|i| i.id.as_str()).collect();
            conn.xdel::<_, _, ()>(&self.keys.log, &ids).await?;
        }
        Ok(())
    }

    fn lease(&self) -> Result<&Lease, StoreError> {
        self.lease
            .as_ref()
            .ok_or_else(|| StoreError::LockLost(self.list.clone()))
    }

    /// Stages changes for the next version (invisible until [`Writer::commit`]). The change-log
    /// writes are pipelined: up to [`STAGE_IN_FLIGHT`] records are on their way to Redis while
    /// the caller reads on; [`Writer::commit`] waits for all of them.
    pub async fn stage(&mut self, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        if self.renewed.elapsed() >= LOCK_TTL / 6 {
            self.lease()?.renew().await?;
            self.renewed = Instant::now();
        }
        for chunk in changes.chunks(STAGE_BATCH) {
            for c in chunk {
                self.info.count(c);
                if self.bulk
                    && (matches!(c, Change::Disabled { .. } | Change::Enabled { .. })
                        || c.entry().is_some_and(|e| e.disabled.is_some()))
                {
                    // The expiry set of disabled entries is kept by materialising the log.
                    self.bulk = false;
                }
            }
            // `<version>-*`: Redis picks the next sequence number, past any record of an
            // abandoned attempt at the same version (streams remember their last id). Each
            // change is one field, `<op> <key>`, whose value is the entry's JSON ("-" for a
            // deletion), so materialising copies values without parsing them.
            // The staging hash gets each key's latest staged state too: the entry's JSON, or
            // for a deletion "-" (or, in bulk mode, nothing: there is nothing to delete).
            let mut log = redis::cmd("XADD");
            log.arg(&self.keys.log)
                .arg(format!("{}-*", self.base_version + 1));
            let mut staging = redis::cmd("HSET");
            staging.arg(&self.keys.staging);
            let mut unstage = redis::cmd("HDEL");
            unstage.arg(&self.keys.staging);
            let (mut staged, mut unstaged) = (0, 0);
            for c in chunk {
                let (op, value) = raw_change(c);
                let key = c.key();
                if self.bulk && op == "deleted" {
                    unstage.arg(&key);
                    unstaged += 1;
                } else {
                    if let Some(filter) = &mut self.staged_keys {
                        filter.insert(&key);
                    }
                    staging.arg(&key).arg(&value);
                    staged += 1;
                }
                log.arg(format!("{op} {key}")).arg(value);
            }
            let mut pipe = redis::pipe();
            pipe.add_command(log);
            if staged > 0 {
                pipe.add_command(staging).ignore();
            }
            if unstaged > 0 {
                pipe.add_command(unstage).ignore();
            }
            let mut conn = self.store.conn.clone();
            self.in_flight.push_back(tokio::spawn(async move {
                let (id,): (String,) = pipe.query_async(&mut conn).await?;
                Ok(id)
            }));
            while self.in_flight.len() > STAGE_IN_FLIGHT {
                self.settle_one().await?;
            }
        }
        Ok(())
    }

    /// Waits for the oldest change-log write in flight and records its id.
    async fn settle_one(&mut self) -> Result<(), StoreError> {
        let Some(write) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let id = match write.await {
            Ok(result) => result?,
            // The write task never panics or is cancelled unless the runtime is going away.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        self.staged.push(id);
        Ok(())
    }

    /// Waits for every change-log write in flight; the first error is returned, after all
    /// have finished (so an abort can remove every record that was written).
    async fn settle_all(&mut self) -> Result<(), StoreError> {
        let mut first = Ok(());
        while !self.in_flight.is_empty() {
            if let Err(e) = self.settle_one().await {
                first = first.and(Err(e));
            }
        }
        first
    }

    /// Compares incoming records with stored entries and stages the differences. Records
    /// keep curation state (disablement) and the version that first added the entry.
    async fn stage_records(
        &mut self,
        batch: &mut Vec<Record>,
        summary: &mut ImportSummary,
        seen_key: Option<&str>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // The last record for a key wins within a batch; keys keep their first position.
        let mut index: HashMap<String, usize> = HashMap::with_capacity(batch.len());
        let mut keys: Vec<String> = Vec::with_capacity(batch.len());
        let mut records: Vec<Record> = Vec::with_capacity(batch.len());
        for record in batch.drain(..) {
            let key = record.entry.key();
            match index.get(&key) {
                Some(&i) => records[i] = record,
                None => {
                    index.insert(key.clone(), keys.len());
                    keys.push(key);
                    records.push(record);
                }
            }
        }
        let mut conn = self.store.conn.clone();
        // What this writer staged for a key wins over the stored entry ("-": deleted). A list
        // that was empty when this writer started has no stored entries to read.
        // A list that started empty has nothing stored to read, and its filter of staged keys
        // rules out most keys without asking Redis.
        let ask: Vec<usize> = match &self.staged_keys {
            Some(filter) => (0..keys.len())
                .filter(|&i| filter.may_contain(&keys[i]))
                .collect(),
            None => (0..keys.len()).collect(),
        };
        let read_stored = self.staged_keys.is_none();
        let mut staged: Vec<Option<String>> = vec![None; keys.len()];
        let mut stored: Vec<Option<String>> = vec![None; keys.len()];
        if !ask.is_empty() {
            // The staging writes in flight must land before the staging hash is read.
            self.settle_all().await?;
            let mut lookup = redis::pipe();
            let mut hmget = |hash: &str| {
                let cmd = lookup.cmd("HMGET").arg(hash);
                for &i in &ask {
                    cmd.arg(&keys[i]);
                }
            };
            hmget(&self.keys.staging);
            if read_stored {
                hmget(&self.keys.entries);
            }
            let mut found: Vec<Vec<Option<String>>> = lookup.query_async(&mut conn).await?;
            if read_stored {
                for (&i, value) in ask.iter().zip(found.pop().unwrap_or_default()) {
                    stored[i] = value;
                }
            }
            for (&i, value) in ask.iter().zip(found.pop().unwrap_or_default()) {
                staged[i] = value;
            }
        }
        let current = staged
            .into_iter()
            .zip(stored)
            .map(|(staged, stored)| match staged {
                Some(s) if s == "-" => None,
                Some(s) => Some(s),
                None => stored,
            });
        if let Some(seen) = seen_key {
            conn.sadd::<_, _, ()>(seen, &keys).await?;
        }
        let mut changes = Vec::with_capacity(keys.len());
        for ((key, record), stored) in keys.into_iter().zip(records).zip(current) {
            let stored = stored
                .map(|j| decode_entry(&self.keys.entries, &j))
                .transpose()?;
            match (record.deleted, stored) {
                (true, Some(_)) => changes.push(Change::Deleted { key }),
                (true, None) => summary.unchanged += 1,
                (false, None) => {
                    let mut entry = record.entry;
                    entry.disabled = None;
                    entry.added_version = Some(self.base_version + 1);
                    changes.push(Change::Added { entry });
                }
                (false, Some(old)) => {
                    let mut entry = record.entry;
                    entry.disabled = old.disabled.clone();
                    entry.added_version = old.added_version;
                    if entry == old {
                        summary.unchanged += 1;
                    } else {
                        changes.push(Change::Updated { entry });
                    }
                }
            }
        }
        self.stage(changes).await
    }

    async fn import<I>(
        &mut self,
        records: I,
        options: &ImportOptions,
    ) -> Result<ImportSummary, StoreError>
    where
        I: Iterator<Item = Result<Record, RecordError>>,
    {
        let mut summary = ImportSummary::default();
        let seen = match options.replace {
            true => Some(self.keys.seen(&self.lease()?.token)),
            false => None,
        };
        let mut batch = Vec::with_capacity(STAGE_BATCH);
        for record in records {
            match record {
                Ok(r) => {
                    batch.push(r);
                    if batch.len() >= STAGE_BATCH {
                        self.stage_records(&mut batch, &mut summary, seen.as_deref())
                            .await?;
                    }
                }
                Err(e) => {
                    summary.invalid += 1;
                    if summary.errors.len() < MAX_REPORTED_ERRORS {
                        summary.errors.push(e);
                    }
                }
            }
        }
        self.stage_records(&mut batch, &mut summary, seen.as_deref())
            .await?;
        if summary.invalid > 0 && !options.skip_invalid {
            if let Some(seen) = &seen {
                let mut conn = self.store.conn.clone();
                conn.del::<_, ()>(seen).await?;
            }
            return Err(StoreError::Invalid {
                invalid: summary.invalid,
                errors: summary.errors,
            });
        }
        if let Some(seen) = &seen {
            self.stage_missing_as_deleted(seen).await?;
        }
        summary.added = self.info.added;
        summary.updated = self.info.updated;
        summary.deleted = self.info.deleted;
        summary.version = self.commit(options.checkpoint.clone()).await?;
        if summary.version == Some(self.base_version) && self.info.changes() == 0 {
            summary.version = None;
        }
        Ok(summary)
    }

    /// For a replacing import: entries stored but absent from the file are deleted.
    async fn stage_missing_as_deleted(&mut self, seen: &str) -> Result<(), StoreError> {
        let mut conn = self.store.conn.clone();
        let mut cursor: u64 = 0;
        let mut deletions = Vec::new();
        loop {
            // (HSCAN NOVALUES needs Redis 7.4; Debian 12 has 7.0.)
            let (next, page): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
                .arg(&self.keys.entries)
                .arg(cursor)
                .arg("COUNT")
                .arg(5000)
                .query_async(&mut conn)
                .await?;
            let keys: Vec<String> = page.into_iter().map(|(k, _)| k).collect();
            if !keys.is_empty() {
                let present: Vec<bool> = redis::cmd("SMISMEMBER")
                    .arg(seen)
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await?;
                deletions.extend(
                    keys.into_iter()
                        .zip(present)
                        .filter(|(_, p)| !p)
                        .map(|(key, _)| Change::Deleted { key }),
                );
            }
            if deletions.len() >= STAGE_BATCH {
                self.stage(std::mem::take(&mut deletions)).await?;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        self.stage(deletions).await?;
        conn.del::<_, ()>(seen).await?;
        Ok(())
    }

    /// Commits what was staged as the next version (with `checkpoint`, which must not move
    /// backwards), publishes it, materialises it and releases the lock. With nothing staged,
    /// only the checkpoint is stored. Returns the committed version.
    pub async fn commit(&mut self, checkpoint: Option<String>) -> Result<Option<u64>, StoreError> {
        self.settle_all().await?;
        let bump = self.info.changes() > 0;
        self.info.version = self.base_version + 1;
        self.info.at_ms = now_ms();
        self.info.checkpoint = checkpoint.clone();
        let mut conn = self.store.conn.clone();
        let result: Result<u64, redis::RedisError> = redis::Script::new(COMMIT_LUA)
            .key(&self.keys.lock)
            .key(&self.keys.state)
            .key(&self.keys.versions)
            .key(&self.keys.staging)
            .key(&self.keys.entries)
            .arg(&self.lease()?.token)
            .arg(self.base_version)
            .arg(serde_json::to_string(&self.info).expect("info serialises"))
            .arg(checkpoint.as_deref().unwrap_or(""))
            .arg(self.store.channel())
            .arg(self.list.as_str())
            .arg(self.info.at_ms)
            .arg(if bump { "1" } else { "0" })
            .arg(if self.bulk { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await;
        let version = match result {
            Ok(v) => v,
            Err(e) => {
                let err = match e.code() {
                    Some("LOCK_LOST") => StoreError::LockLost(self.list.clone()),
                    Some("CHECKPOINT_BACKWARDS") => StoreError::CheckpointBackwards {
                        stored: e.detail().unwrap_or("").trim().to_string(),
                        offered: checkpoint.unwrap_or_default(),
                    },
                    _ => StoreError::Redis(e),
                };
                return Err(err);
            }
        };
        self.store.materialize(&self.list).await?;
        conn.unlink::<_, ()>(&self.keys.staging).await?;
        self.release().await?;
        Ok(Some(version))
    }

    /// Abandons staged changes and releases the lock.
    pub async fn abort(mut self) -> Result<(), StoreError> {
        if self.lease.is_none() {
            return Ok(());
        }
        // Writes that failed left nothing; the others are removed below.
        let _ = self.settle_all().await;
        let mut conn = self.store.conn.clone();
        if !self.staged.is_empty() {
            conn.xdel::<_, _, ()>(&self.keys.log, &self.staged).await?;
        }
        conn.unlink::<_, ()>(&self.keys.staging).await?;
        self.release().await
    }

    async fn release(&mut self) -> Result<(), StoreError> {
        match self.lease.take() {
            Some(lease) => lease.release().await,
            None => Ok(()),
        }
    }
}
