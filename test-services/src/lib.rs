//! Real services for Takedown's integration tests.
//!
//! Takedown's stages talk to Kafka and Redis, and the behaviour that matters most (offsets
//! committed only after acknowledgement, consumer-group rebalances, atomic Redis transitions,
//! nothing acknowledged lost across a Redis restart) is exactly what in-process fakes get
//! wrong. So the integration tests of every crate start the real thing, and this crate is the
//! one place that knows how:
//!
//! - [`RedisServer`]: Debian's `redis-server` on a free loopback port with its own temporary
//!   directory, optionally with an fsync-always append-only file, and [`RedisServer::restart`]
//!   to prove what survives a crash.
//! - [`KafkaBroker`]: the Tansu Kafka-compatible broker (memory storage) on a free loopback
//!   port, or an external broker named by `TAKEDOWN_TEST_KAFKA=host:port` (for example a real
//!   Apache Kafka), with [`rdkafka`] configurations tuned for fast tests and
//!   [`KafkaBroker::create_topic`] for multi-partition topics.
//! - [`unique_name`]: topic and group names that no other test (or test process) uses.
//!
//! Services are ready when `start` returns, and are stopped (killed, reaped, their directory
//! removed) when dropped. They cannot outlive the test process even if it is killed, because
//! each runs under a watchdog that notices its parent is gone. `scripts/install-test-deps`
//! installs `redis-server` and Tansu.
//!
//! ```no_run
//! # async fn example() -> Result<(), takedown_test_services::Error> {
//! use takedown_test_services::{KafkaBroker, RedisServer, unique_name};
//!
//! let redis = RedisServer::start()?;
//! let broker = KafkaBroker::start()?;
//! let topic = unique_name("posts");
//! broker.create_topic(&topic, 2).await?;
//! let consumer_config = broker.consumer_config(&unique_name("ingest"));
//! println!("redis at {}, kafka at {}", redis.url(), broker.bootstrap_servers());
//! # Ok(())
//! # }
//! ```

pub mod fixtures;
mod kafka;
mod process;
mod redis;

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::kafka::{KafkaBroker, TANSU_BIN_ENV, TANSU_LOG_ENV, TEST_KAFKA_ENV, TOOLS_DIR_ENV};
pub use crate::redis::{REDIS_SERVER_BIN_ENV, RedisOptions, RedisServer};

/// Why a test service could not be started or used.
///
/// Its `Debug` output is its message, so that a test's `.expect(..)` or `?` shows the
/// service's log lines as lines rather than as one escaped string.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service's program is not installed where we looked.
    #[error("{service} not found at {}: {hint}", path.display())]
    NotInstalled {
        /// The service ("redis-server", "tansu").
        service: &'static str,
        /// Where we looked.
        path: PathBuf,
        /// How to install it.
        hint: &'static str,
    },
    /// An I/O operation on the service's files or process failed.
    #[error("{service}: {action}: {source}")]
    Io {
        /// The service.
        service: &'static str,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The service exited while starting.
    #[error("{service} exited while starting ({status}); last lines of its log:\n{log_tail}")]
    Exited {
        /// The service.
        service: &'static str,
        /// Its exit status.
        status: ExitStatus,
        /// The end of its log.
        log_tail: String,
    },
    /// The service did not become ready in time.
    #[error("{service} was not ready after {waited:?}; last lines of its log:\n{log_tail}")]
    NotReady {
        /// The service.
        service: &'static str,
        /// How long we waited.
        waited: Duration,
        /// The end of its log (or, for an external broker, what went wrong).
        log_tail: String,
    },
    /// A Kafka client operation failed.
    #[error("kafka: {action}: {source}")]
    Kafka {
        /// What we were doing.
        action: String,
        /// The client's error.
        source: rdkafka::error::KafkaError,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A name no other test uses: `prefix`, then this process's id, a per-process counter and the
/// current time in nanoseconds, joined by `-`.
///
/// Use one per test for topics and consumer groups, so tests sharing a broker (in parallel, or
/// an external broker across runs) never see each other's messages or group members.
/// Characters Kafka does not allow in topic names (anything but ASCII letters, digits, `.`, `_`
/// and `-`) are replaced in `prefix` by `-`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{}-{count}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_names_differ_and_are_valid_topic_names() {
        let names: HashSet<String> = (0..1000).map(|_| unique_name("posts")).collect();
        assert_eq!(names.len(), 1000);
        for name in &names {
            assert!(name.starts_with(&format!("posts-{}-", std::process::id())));
            assert!(name.len() < 249, "Kafka's limit on topic names");
        }
        let name = unique_name("a b/c");
        assert!(name.starts_with("a-b-c-"), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        );
    }
}
