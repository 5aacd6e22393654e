//! The list registry: creating a list, reading its metadata and state, listing the lists, and
//! removing a list that was never used.

use super::handle::{Store, StoreError};
use crate::model::{ListId, ListMeta};
use redis::AsyncCommands;
use serde::Serialize;

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

impl Store {
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
}
