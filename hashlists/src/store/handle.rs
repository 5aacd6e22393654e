//! The shared handle every part of the store works through: the [`Store`] (a Redis connection
//! and a key prefix), its error type, the key names of a list, and the few helpers more than
//! one part needs (the clock, decoding a stored entry, the size of a change-log record). It
//! uses no other part of the store, so each part can use it without a cycle.

use crate::formats::RecordError;
use crate::model::{Entry, ListId};
use redis::aio::MultiplexedConnection;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many changes one change-log record carries.
pub(super) const STAGE_BATCH: usize = 2_000;

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

/// Key names of one list.
pub(super) struct Keys {
    pub(super) meta: String,
    pub(super) state: String,
    pub(super) entries: String,
    pub(super) log: String,
    pub(super) versions: String,
    pub(super) lock: String,
    pub(super) feedback: String,
    pub(super) disabled_until: String,
    pub(super) staging: String,
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

    pub(super) fn seen(&self, token: &str) -> String {
        format!("{}:seen:{token}", self.entries)
    }
}

/// The store: a Redis connection and a key prefix.
#[derive(Clone)]
pub struct Store {
    pub(super) conn: MultiplexedConnection,
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

    /// The same store over a new connection (after Redis restarted, the old one stays
    /// broken).
    pub async fn reconnect(&self) -> Result<Self, StoreError> {
        Ok(Store {
            conn: self.client.get_multiplexed_async_connection().await?,
            client: self.client.clone(),
            prefix: self.prefix.clone(),
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

    pub(super) fn keys(&self, list: &ListId) -> Keys {
        Keys::new(&self.prefix, list)
    }

    pub(super) fn lists_key(&self) -> String {
        format!("{}:lists", self.prefix)
    }
}

/// Decodes an entry stored at `key` (the entries or staging hash).
pub(super) fn decode_entry(key: &str, json: &str) -> Result<Entry, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })
}
