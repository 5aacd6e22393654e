//! Prometheus metrics and health endpoints shared by every stage.
//!
//! Each counted event is recorded here and logged by its caller with the same fields, so logs
//! and metrics tell one story. `/metrics` serves the registry in Prometheus text format,
//! `/livez` answers while the process runs, and `/readyz` answers 200 only once the stage has
//! what it needs (partitions assigned, lists loaded).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Label set naming an error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The stable error code.
    pub code: String,
}

/// The metrics of one stage.
pub struct StageMetrics {
    registry: std::sync::Mutex<Registry>,
    /// Messages consumed from the input topic.
    pub consumed: Counter,
    /// Messages produced to output topics (delivery acknowledged).
    pub produced: Counter,
    /// Messages sent to the dead-letter topic, by error code.
    pub dead_lettered: Family<CodeLabel, Counter>,
    /// Errors by code, including retried ones.
    pub errors: Family<CodeLabel, Counter>,
    /// Messages being processed now.
    pub in_flight: Gauge,
    /// Time from consuming a message to having its outputs acknowledged.
    pub process_seconds: Histogram,
    /// Time to fetch one media item.
    pub fetch_seconds: Histogram,
    /// Time to decode and hash one media item.
    pub hash_seconds: Histogram,
    /// Unix time of the last poll that found the in-memory lists (index, text rules) at every
    /// list's committed version: `takedown_lists_synced_timestamp_seconds`; 0 before the first.
    pub lists_synced: Gauge,
    /// Times following the list store failed and was restarted:
    /// `takedown_list_follow_failures_total`.
    pub list_follow_failures: Counter,
    ready: AtomicBool,
}

impl StageMetrics {
    /// A registry for stage `stage` (metrics are named `takedown_<name>` with a `stage` label).
    pub fn new(stage: &str) -> Arc<Self> {
        let mut root = Registry::with_prefix_and_labels(
            "takedown",
            [(
                std::borrow::Cow::Borrowed("stage"),
                std::borrow::Cow::Owned(stage.to_string()),
            )]
            .into_iter(),
        );
        let m = StageMetrics {
            registry: std::sync::Mutex::new(Registry::default()),
            consumed: Counter::default(),
            produced: Counter::default(),
            dead_lettered: Family::default(),
            errors: Family::default(),
            in_flight: Gauge::default(),
            process_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            fetch_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            hash_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            lists_synced: Gauge::default(),
            list_follow_failures: Counter::default(),
            ready: AtomicBool::new(false),
        };
        root.register("messages_consumed", "Messages consumed", m.consumed.clone());
        root.register(
            "messages_produced",
            "Messages produced and acknowledged",
            m.produced.clone(),
        );
        root.register(
            "messages_dead_lettered",
            "Messages sent to the dead-letter topic",
            m.dead_lettered.clone(),
        );
        root.register("errors", "Errors by code", m.errors.clone());
        root.register("in_flight", "Messages being processed", m.in_flight.clone());
        root.register(
            "process_seconds",
            "Seconds from consume to acknowledged outputs",
            m.process_seconds.clone(),
        );
        root.register(
            "fetch_seconds",
            "Seconds to fetch one media item",
            m.fetch_seconds.clone(),
        );
        root.register(
            "hash_seconds",
            "Seconds to decode and hash one media item",
            m.hash_seconds.clone(),
        );
        root.register(
            "lists_synced_timestamp_seconds",
            "Unix time the in-memory lists were last confirmed current with the list store",
            m.lists_synced.clone(),
        );
        root.register(
            "list_follow_failures",
            "Times following the list store failed and was restarted",
            m.list_follow_failures.clone(),
        );
        *m.registry.lock().expect("registry lock") = root;
        Arc::new(m)
    }

    /// Counts an error by code.
    pub fn error(&self, code: takedown_core::ErrorCode) {
        self.errors
            .get_or_create(&CodeLabel {
                code: code.to_string(),
            })
            .inc();
    }

    /// Marks the stage ready (or not) for `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Whether the stage is ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().expect("registry lock");
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_with_stage_and_code_labels() {
        let m = StageMetrics::new("ingest");
        m.consumed.inc();
        m.error(takedown_core::ErrorCode::FetchForbidden);
        let text = m.render();
        assert!(
            text.contains("takedown_messages_consumed_total{stage=\"ingest\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("takedown_errors_total{stage=\"ingest\",code=\"fetch_forbidden\"} 1"),
            "{text}"
        );
    }
}
