//! Staging and commit: the [`Writer`] that holds a list's write lock, stages an import's (or a
//! curation's) changes in the change log and the staging hash under the next version, and
//! commits them atomically with one Lua script; and [`Store::import`], which drives it.

use super::handle::{Keys, STAGE_BATCH, Store, StoreError, decode_entry, now_ms};
use super::lease::{LOCK_TTL, Lease};
use super::reader::VersionInfo;
use crate::formats::{Record, RecordError};
use crate::key_filter::KeyFilter;
use crate::model::{Change, Entry, ListId};
use redis::AsyncCommands;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// How many change-log records a writer has on their way to Redis at once.
const STAGE_IN_FLIGHT: usize = 4;

/// How many errors an import reports in full (all are counted).
const MAX_REPORTED_ERRORS: usize = 100;

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
    /// Records skipped with a warning: of a signal type we do not use.
    pub skipped: u64,
    /// The first skipped records' warnings.
    #[serde(skip)]
    pub warnings: Vec<RecordError>,
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
    -- checkpoint::compare: part by part at commas, numbers as numbers, a prefix first.
    local function num(p)
      if string.find(p, '^%s*[%d%+%-%.eE]+%s*$') then
        local n = tonumber(p)
        if n and n == n and n ~= math.huge and n ~= -math.huge then return n end
      end
      return nil
    end
    local function parts(c)
      local out = {}
      for p in string.gmatch(c .. ',', '([^,]*),') do out[#out + 1] = p end
      return out
    end
    local xs, ys = parts(ARGV[4]), parts(stored)
    local backwards = false
    local i = 1
    while true do
      local x, y = xs[i], ys[i]
      if x == nil then backwards = y ~= nil break end
      if y == nil then break end
      local p, q = num(x), num(y)
      if p and q then
        if p ~= q then backwards = p < q break end
      elseif x ~= y then
        backwards = x < y break
      end
      i = i + 1
    end
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

impl Store {
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
}

impl Store {
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

fn encode_entry(e: &Entry) -> String {
    serde_json::to_string(e).expect("entries serialise")
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
                Err(e) if e.skipped => {
                    summary.skipped += 1;
                    if summary.warnings.len() < MAX_REPORTED_ERRORS {
                        summary.warnings.push(e);
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
