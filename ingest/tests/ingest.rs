//! The ingest stage through a real broker: good, malformed and hostile posts, each accounted for.

use axum::Router;
use axum::routing::get;
use base64::Engine;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use takedown_core::messages::PostSignals;
use takedown_ingest::fetch::{Cidr, FetchPolicy};
use takedown_ingest::ingest_stage::{IngestConfig, IngestStage};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::runner::{self, RunnerConfig, header_text};
use takedown_local_services::fixtures::png_claiming;
use takedown_local_services::{KafkaBroker, unique_name};

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../testdata/pdq/images/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn post(id: &str, media: serde_json::Value) -> String {
    serde_json::json!({
        "post_id": id, "platform": "test", "author_id": "a1",
        "created_at": "2026-11-23T10:00:00Z", "text": "look https://example.com/x",
        "language": "de_AT", "media": media,
    })
    .to_string()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_is_hashed_or_dead_lettered_with_the_right_code() {
    let broker = KafkaBroker::start().unwrap();
    let (posts, signals) = (unique_name("posts"), unique_name("post-signals"));
    for t in [&posts, &signals, &format!("{posts}.dlq")] {
        broker.create_topic(t, 2).await.unwrap();
    }
    // A media host on loopback (allowed for this test only).
    let jpeg = testdata("bridge-mods/aaa-orig.jpg");
    let served = jpeg.clone();
    let app = Router::new()
        .route(
            "/img.jpg",
            get(move || {
                let b = served.clone();
                async move { b }
            }),
        )
        .route(
            "/slow.jpg",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let truncated = &jpeg[..jpeg.len() / 2];
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "good-inline",
            post(
                "good-inline",
                serde_json::json!([{"media_id": "m", "data_base64": b64(&jpeg)}]),
            ),
            None,
        ),
        (
            "good-fetched",
            post(
                "good-fetched",
                serde_json::json!([{"media_id": "m", "url": format!("{host}/img.jpg")}]),
            ),
            None,
        ),
        ("no-media", post("no-media", serde_json::json!([])), None),
        (
            "not-json",
            "{this is not json".to_string(),
            Some("invalid_message"),
        ),
        (
            "missing-field",
            r#"{"post_id":"missing-field","author_id":"a","created_at":"2026-11-23T10:00:00Z"}"#
                .to_string(),
            Some("invalid_message"),
        ),
        (
            "bomb",
            post(
                "bomb",
                serde_json::json!([{"media_id": "m", "data_base64": b64(&png_claiming(100_000, 100_000))}]),
            ),
            Some("dimensions_too_large"),
        ),
        (
            "truncated",
            post(
                "truncated",
                serde_json::json!([{"media_id": "m", "data_base64": b64(truncated)}]),
            ),
            Some("decode_failed"),
        ),
        (
            "ssrf",
            post(
                "ssrf",
                serde_json::json!([{"media_id": "m", "url": "http://169.254.169.254/latest/meta-data/"}]),
            ),
            Some("fetch_forbidden"),
        ),
        (
            "slow",
            post(
                "slow",
                serde_json::json!([{"media_id": "m", "url": format!("{host}/slow.jpg")}]),
            ),
            Some("fetch_failed"),
        ),
        (
            "mixed",
            post(
                "mixed",
                serde_json::json!([{"media_id": "ok", "data_base64": b64(&jpeg)}, {"media_id": "bad", "data_base64": "***"}]),
            ),
            Some("invalid_message"),
        ),
    ];
    let producer: FutureProducer = broker.producer_config().create().unwrap();
    for (key, value, _) in &cases {
        producer
            .send(
                FutureRecord::to(&posts).key(*key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }

    let mut config = IngestConfig::new(&signals);
    config.fetch = FetchPolicy {
        allow: vec![Cidr::parse("127.0.0.1/32:*").unwrap()],
        read_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_secs(1),
        attempts: 2,
        ..FetchPolicy::default()
    };
    let metrics = StageMetrics::new("ingest");
    let stage = Arc::new(IngestStage::new(config, metrics.clone()).unwrap());
    let mut rc = RunnerConfig::new(broker.bootstrap_servers(), &unique_name("ingest"), &posts);
    rc.consumer_settings = vec![("session.timeout.ms".into(), "6000".into())];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(runner::run(rc, stage, metrics.clone(), async {
        let _ = stopped.await;
    }));

    // Posts with any good part produce signals: good-inline, good-fetched, no-media, mixed, and
    // the bad-media posts (with their media's error recorded).
    let expected_signals = [
        "good-inline",
        "good-fetched",
        "no-media",
        "bomb",
        "truncated",
        "ssrf",
        "slow",
        "mixed",
    ];
    let expected_dead: usize = cases.iter().filter(|c| c.2.is_some()).count();
    let reader = |group: &str, topic: &str| {
        let c: StreamConsumer = broker
            .consumer_config(&unique_name(group))
            .create()
            .unwrap();
        c.subscribe(&[topic]).unwrap();
        c
    };
    let signals_reader = reader("sig", &signals);
    let mut got: HashMap<String, PostSignals> = HashMap::new();
    while got.len() < expected_signals.len() {
        let m = tokio::time::timeout(Duration::from_secs(60), signals_reader.recv())
            .await
            .expect("signals in time")
            .unwrap();
        let s: PostSignals = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert_eq!(m.key(), Some(s.post_id.as_bytes()), "keyed by post id");
        got.insert(s.post_id.clone(), s);
    }
    let dlq_reader = reader("dlq", &format!("{posts}.dlq"));
    let mut dead: HashMap<String, String> = HashMap::new();
    while dead.len() < expected_dead {
        let m = tokio::time::timeout(Duration::from_secs(60), dlq_reader.recv())
            .await
            .expect("dead letters in time")
            .unwrap();
        let key = String::from_utf8_lossy(m.key().unwrap()).to_string();
        assert_eq!(header_text(&m, "stage").as_deref(), Some("ingest"));
        dead.insert(key, header_text(&m, "error.code").unwrap());
    }
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();

    for (key, _, code) in &cases {
        assert_eq!(
            dead.get(*key).map(String::as_str),
            *code,
            "dead letter of {key}"
        );
    }
    let reference_pdq = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
    for id in ["good-inline", "good-fetched"] {
        let media = &got[id].media[0];
        let pdq = media
            .signals
            .iter()
            .find(|s| s.signal_type == takedown_core::SignalType::Pdq)
            .unwrap();
        assert_eq!(
            pdq.value, reference_pdq,
            "{id}: same hash as Meta's reference"
        );
        assert_eq!(got[id].urls, ["https://example.com/x"]);
        let text = got[id].text.as_ref().expect("the post's text travels on");
        assert_eq!(text.text, "look https://example.com/x");
        assert_eq!(text.cut_from, None);
        // The platform's language tag, in BCP 47's spelling, for the review's routing.
        assert_eq!(got[id].language.as_deref(), Some("de-AT"));
    }
    let mixed = &got["mixed"].media;
    assert!(
        mixed[0].error.is_none() && !mixed[0].signals.is_empty(),
        "the good image of a mixed post is hashed"
    );
    assert_eq!(
        mixed[1].error.as_ref().unwrap().code,
        takedown_core::ErrorCode::InvalidMessage
    );
    assert_eq!(
        got["ssrf"].media[0].error.as_ref().unwrap().code,
        takedown_core::ErrorCode::FetchForbidden
    );
    let text = metrics.render();
    assert!(
        text.contains("takedown_messages_consumed_total{stage=\"ingest\"} 10"),
        "{text}"
    );
}
