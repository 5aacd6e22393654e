//! What stands between the login form and password guessing: a bounded pool for the
//! deliberately expensive password hashing, and a throttle that slows guessing without letting
//! a stranger lock a moderator out.
//!
//! **Hashing pool.** Each argon2id verification takes 19 MiB and tens of milliseconds. Run
//! unbounded, a burst of anonymous logins takes the process to gigabytes (and glibc keeps what a
//! thread's arena once held). So verifications run on a fixed set of worker threads (by default
//! one per core) behind a short queue; a login that finds the queue full is answered at once
//! with 503 and `Retry-After`, and memory stays at workers × 19 MiB whatever the load.
//!
//! **Throttle.** Nothing here ever locks an account for a fixed time. Failures are counted per
//! account (over all sources without a device cookie), per source address, and per account and
//! known device. Below a number of free failures an attempt goes ahead; above it, each further
//! attempt needs a slot — one per account and source (or device) every `2^(n - free)` seconds,
//! at most `max_gap` — so guessing slows to a crawl while the right password still gets in within
//! `max_gap`. A browser that has logged in to the account before carries a device cookie (a
//! random id, stored hashed) and is throttled only by its own failures, so a stranger's guesses
//! never slow a moderator's usual browser at all. Counters are fixed windows: further failures do
//! not extend them.
//!
//! The check and the count are one Lua script that reserves the attempt before the password is
//! verified, so parallel guesses cannot all pass a check made before any of them was counted; a
//! successful login gives its reservation back.

use std::sync::LazyLock;
use std::time::Duration;
use takedown_review::store::ReviewStore;
use tokio::sync::{mpsc, oneshot};

/// Limits of the login guard.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Threads that verify passwords (default: one per core).
    pub hash_workers: usize,
    /// Verifications that may wait for a thread before logins are refused with 503.
    pub hash_queue: usize,
    /// Failures of an account (from browsers without its device cookie), or of an account on
    /// one known device, before attempts need a slot.
    pub free_failures: u32,
    /// Failures from one source address (all accounts) before its attempts need a slot.
    pub free_source_failures: u32,
    /// The longest gap between two slots.
    pub max_gap: Duration,
    /// The gap between slots of a source that passed `free_source_failures`.
    pub source_gap: Duration,
    /// How long failures are counted (a fixed window from the first failure).
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            hash_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hash_queue: 16,
            free_failures: 5,
            free_source_failures: 50,
            max_gap: Duration::from_secs(30),
            source_gap: Duration::from_secs(1),
            window: Duration::from_secs(900),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads for password hashing with a bounded queue.
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `workers` threads behind a queue of `queue` jobs.
    pub fn new(workers: usize, queue: usize) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>(queue.max(1));
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    loop {
                        // One waiting worker holds the lock; the others wait for it, not spin.
                        let job = rx.lock().map(|mut r| r.blocking_recv());
                        match job {
                            Ok(Some(job)) => job(),
                            _ => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "web ui: cannot start a password hashing thread");
            }
        }
        HashPool { jobs }
    }

    /// Runs `f` on a hashing thread; `None` at once if the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.try_send(job).ok()?;
        rx.await.ok()
    }
}

/// Reserves an attempt: checks each counter against its limit and takes a slot where one is
/// needed; if allowed, counts the attempt in every counter (a fixed window from its first
/// count). KEYS: account counter, source counter, account slot, source slot. ARGV: window ms,
/// free account failures, free source failures, max gap ms, source gap ms. Returns `{1, 0}` if
/// allowed, `{0, ms until the next slot}` if not.
static RESERVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local s = tonumber(redis.call('GET', KEYS[2]) or '0')
local free, free_src = tonumber(ARGV[2]), tonumber(ARGV[3])
if n >= free then
  local gap = math.min(1000 * 2 ^ math.min(n - free, 30), tonumber(ARGV[4]))
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', math.floor(gap)) then
    return {0, redis.call('PTTL', KEYS[3])}
  end
end
if s >= free_src then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[5]) then
    return {0, redis.call('PTTL', KEYS[4])}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return {1, 0}
"#,
    )
});

/// Gives a successful login's reservation back. KEYS: account counter, source counter.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
for i = 1, 2 do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"#,
    )
});

/// Who is attempting: the account, the source address and, if the browser sent one that this
/// account knows, its device id.
pub struct Attempt {
    keys: [String; 4],
}

impl Attempt {
    /// The counters of an attempt on `name` from `source`, with the browser's device cookie.
    pub async fn new(
        store: &ReviewStore,
        name: &str,
        source: &str,
        device: Option<&str>,
    ) -> Result<Self, redis::RedisError> {
        let known = match device {
            Some(d) => known_device(store, name, d).await?,
            None => None,
        };
        let account = match &known {
            Some(device) => format!("web:login:fail:{name}:device:{device}"),
            None => format!("web:login:fail:{name}"),
        };
        let slot = match &known {
            Some(device) => format!("web:login:slot:{name}:device:{device}"),
            None => format!("web:login:slot:{name}:src:{source}"),
        };
        Ok(Attempt {
            keys: [
                store.key(&account),
                store.key(&format!("web:login:fail:src:{source}")),
                store.key(&slot),
                store.key(&format!("web:login:slot:src:{source}")),
            ],
        })
    }

    /// Reserves this attempt; `Err(wait)` if it must wait for a slot.
    pub async fn reserve(&self, store: &ReviewStore, limits: &LoginLimits) -> Result<(), Duration> {
        let r: Result<(i64, i64), _> = RESERVE
            .key(&self.keys[0])
            .key(&self.keys[1])
            .key(&self.keys[2])
            .key(&self.keys[3])
            .arg(limits.window.as_millis() as u64)
            .arg(limits.free_failures)
            .arg(limits.free_source_failures)
            .arg(limits.max_gap.as_millis() as u64)
            .arg(limits.source_gap.as_millis().max(1) as u64)
            .invoke_async(&mut store.connection())
            .await;
        match r {
            Ok((1, _)) => Ok(()),
            Ok((_, wait)) => Err(Duration::from_millis(wait.max(1) as u64)),
            // Failing closed on a Redis error would let an outage lock everyone out; failing
            // open lets the pool still bound the cost. The error is logged.
            Err(e) => {
                tracing::error!(error = %e, "web ui: login throttle unavailable");
                Ok(())
            }
        }
    }

    /// Gives the reservation of a successful login back.
    pub async fn release(&self, store: &ReviewStore) -> Result<(), redis::RedisError> {
        let _: i64 = RELEASE
            .key(&self.keys[0])
            .key(&self.keys[1])
            .invoke_async(&mut store.connection())
            .await?;
        Ok(())
    }
}

fn digest(device: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(device.as_bytes()))
}

/// The stored digest of `device` if `name` has logged in with it before.
async fn known_device(
    store: &ReviewStore,
    name: &str,
    device: &str,
) -> Result<Option<String>, redis::RedisError> {
    use redis::AsyncCommands;
    let d = digest(device);
    let known: bool = store
        .connection()
        .sismember(store.key(&format!("web:login:devices:{name}")), &d)
        .await?;
    Ok(known.then_some(d))
}

/// Remembers `device` as one `name` logs in with (kept for 90 days after its last login).
pub async fn remember_device(
    store: &ReviewStore,
    name: &str,
    device: &str,
) -> Result<(), redis::RedisError> {
    let key = store.key(&format!("web:login:devices:{name}"));
    let _: () = redis::pipe()
        .sadd(&key, digest(device))
        .ignore()
        .expire(&key, 90 * 24 * 3600)
        .ignore()
        .query_async(&mut store.connection())
        .await?;
    Ok(())
}
