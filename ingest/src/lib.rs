//! The streaming stages: Kafka consumers that fetch and hash post media (`ingest`) and match
//! the resulting signals against the index (`match`), with at-least-once delivery and
//! dead-letter topics.
//!
//! - [`runner`]: the stage runner every consumer uses (ack-gated offsets, DLQ, drain on revoke);
//! - [`tracker`]: which offsets are safe to commit;
//! - [`metrics`]: Prometheus metrics and health endpoints;
//! - [`fetch`]: media fetching with the SSRF guard;
//! - [`ingest_stage`]: posts to signals;
//! - [`video_media`]: vPDQ and digests of media that are videos;
//! - [`text_rules`]: the lists' regular expressions applied to post text;
//! - [`pdq_conventions`]: which PDQ conventions the loaded lists need;
//! - [`match_stage`]: signals to matches, with the index kept current with the lists;
//! - [`video_index`]: the listed videos (vPDQ entries), kept current like the index;
//! - [`list_feed`]: keeps the index and the text rules current with the list store.

pub mod fetch;
pub mod ingest_stage;
pub mod list_feed;
pub mod match_stage;
pub mod metrics;
pub mod pdq_conventions;
pub mod runner;
pub mod text_rules;
pub mod tracker;
pub mod video_index;
pub mod video_media;
