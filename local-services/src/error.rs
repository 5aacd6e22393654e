//! Why a local service could not be started or used: one error type for Redis, the broker and
//! the processes behind them, below the modules that return it.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

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
