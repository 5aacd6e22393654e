//! Real Redis and a real Kafka-compatible broker on loopback, for two users: the integration
//! tests of every crate, and `takedown demo`, which runs the whole pipeline on one machine with
//! nothing installed but Debian's `redis-server` and Tansu.
//!
//! Takedown's stages talk to Kafka and Redis, and the behaviour that matters most (offsets
//! committed only after acknowledgement, consumer-group rebalances, atomic Redis transitions,
//! nothing acknowledged lost across a Redis restart) is exactly what in-process fakes get
//! wrong. So tests start the real thing, and this crate is the one place that knows how:
//!
//! - [`RedisServer`]: Debian's `redis-server` on a free loopback port with its own temporary
//!   directory, optionally with an fsync-always append-only file, and [`RedisServer::restart`]
//!   to prove what survives a crash.
//! - [`KafkaBroker`]: the Tansu Kafka-compatible broker (memory storage) on a free loopback
//!   port, or an external broker named by `TAKEDOWN_TEST_KAFKA=host:port` (for example a real
//!   Apache Kafka), with [`rdkafka`] configurations tuned for fast tests and
//!   [`KafkaBroker::create_topic`] for multi-partition topics.
//! - [`TransparencyDb`]: a stand-in for the EU Transparency Database's statement API, on a
//!   free loopback port of the test's Tokio runtime.
//! - [`S3Server`]: `s3s-fs`, a real S3-compatible server over a temporary directory, for the
//!   evidence store's S3 backend.
//! - [`unique_name`]: topic and group names that no other test (or test process) uses.
//!
//! Services are ready when `start` returns, and are stopped (killed, reaped, their directory
//! removed) when dropped. They cannot outlive the test process even if it is killed, because
//! each runs under a watchdog that notices its parent is gone. `scripts/install-test-deps`
//! installs `redis-server` and Tansu.
//!
//! ```no_run
//! # async fn example() -> Result<(), takedown_local_services::Error> {
//! use takedown_local_services::{KafkaBroker, RedisServer, unique_name};
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
mod names;
mod process;
mod redis;
mod s3;
mod transparency_db;

mod error;

pub use crate::error::{Error, Result};
pub use crate::kafka::{KafkaBroker, TANSU_BIN_ENV, TANSU_LOG_ENV, TEST_KAFKA_ENV, TOOLS_DIR_ENV};
pub use crate::names::unique_name;
pub use crate::redis::{REDIS_SERVER_BIN_ENV, RedisOptions, RedisServer};
pub use crate::s3::{S3S_FS_BIN_ENV, S3Server};
pub use crate::transparency_db::{TransparencyDb, TransparencyDbOptions};
