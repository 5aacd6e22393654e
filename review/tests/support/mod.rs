//! Helpers shared by the review engine's integration tests and the API's (which include this
//! file by path): a store on a real Redis with a manual clock, matches, decisions, orders,
//! and a reader of Kafka topics.

#![allow(dead_code)] // each test binary uses a subset

use std::sync::Arc;
use takedown_core::SignalType;
use takedown_core::clock::ManualClock;
use takedown_core::messages::{Match, match_id};
use takedown_local_services::{RedisServer, unique_name};
use takedown_review::model::{DecisionInput, Ground, Outcome};
use takedown_review::store::{ReviewStore, StoreOptions};
use time::OffsetDateTime;
use time::macros::datetime;

pub const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

pub async fn store_at(redis: &RedisServer, prefix: &str, clock: Arc<ManualClock>) -> ReviewStore {
    let opts = StoreOptions {
        prefix: prefix.to_string(),
        ..StoreOptions::default()
    };
    ReviewStore::connect(&redis.url(), opts, clock)
        .await
        .unwrap()
}

pub async fn store(redis: &RedisServer) -> (ReviewStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (
        store_at(redis, &unique_name("rv"), clock.clone()).await,
        clock,
    )
}

pub fn a_match(post: &str, media: &str, list: &str, entry_hex: &str, severity: &str) -> Match {
    let entry = format!("pdq:{entry_hex}");
    Match {
        schema: 1,
        match_id: match_id(post, media, list, &entry),
        post_id: post.into(),
        platform: "web".into(),
        post_url: Some(format!("https://example.org/{post}")),
        media_url: None,
        media_id: media.into(),
        signal_type: SignalType::Pdq,
        list_id: list.into(),
        entry,
        labels: vec!["gifct:label".into()],
        severity: severity.into(),
        distance: 3,
        query_hash: "ab".repeat(32),
        list_hash: entry_hex.into(),
        matched_at: T0,
        video: None,
        post_text: None,
        language: None,
    }
}

/// "Not terrorist content" with `why` as the justification, no exemption.
pub fn not_terrorist(why: &str) -> DecisionInput {
    DecisionInput {
        outcome: Outcome::NotTerroristContent { exemption: None },
        grounds: vec![],
        tos_clauses: vec![],
        justification: why.into(),
    }
}

pub fn remove() -> DecisionInput {
    DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![Ground::Incitement],
        tos_clauses: vec!["4.2".into()],
        justification: String::new(),
    }
}

pub fn order_json(urls: &[&str], reference: &str) -> Vec<u8> {
    serde_json::json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:50:00Z",
            "reference": reference},
        "section_b": {"urls": urls, "grounds": ["art2_7_a"], "reasons": "glorification"},
        "section_c": {"do_not_inform": true}
    })
    .to_string()
    .into_bytes()
}

/// Reads up to `expected` records of `topic` within `within`: (key, payload, dead-letter
/// headers).
pub async fn read_topic(
    broker: &takedown_local_services::KafkaBroker,
    topic: &str,
    expected: usize,
    within: std::time::Duration,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use takedown_ingest::runner::header_text;
    let consumer: StreamConsumer = broker
        .consumer_config(&unique_name("reader"))
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < expected {
        let Ok(Ok(m)) = tokio::time::timeout_at(deadline, consumer.recv()).await else {
            break;
        };
        out.push((
            String::from_utf8_lossy(m.key().unwrap_or_default()).to_string(),
            String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
            header_text(&m, "error.code"),
            header_text(&m, "error.message"),
        ));
    }
    out
}

pub fn clock_now(s: &ReviewStore) -> OffsetDateTime {
    s.clock().now()
}
