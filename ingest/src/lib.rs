//! The streaming stages: Kafka consumers that fetch and hash post media (`ingest`) and match the
//! resulting signals against the index (`match`), with at-least-once delivery and dead-letter
//! topics. It is empty until the pipeline issue lands.
