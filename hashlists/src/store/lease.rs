//! Leases: the write lock a writer holds and the sync lease a sync holds, each a Redis key
//! taken with `SET NX PX` and renewed or released by the Lua here.

use super::handle::{Store, StoreError};
use crate::model::ListId;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

/// How long a writer's lock lives without renewal.
pub(super) const LOCK_TTL: Duration = Duration::from_secs(60);

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
    pub(super) token: String,
    list: ListId,
}

impl Lease {
    pub(super) async fn acquire(
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

impl Store {
    /// Takes the list's sync lease: one sync per list at a time, across processes.
    pub async fn sync_lease(&self, list: &ListId, owner: &str) -> Result<Lease, StoreError> {
        self.meta(list).await?;
        let key = format!("{}:sync-lock", self.keys(list).lock);
        Lease::acquire(self, key, list, owner).await
    }
}
