//! Video posts through the ingest stage on a real broker: a video is recognised by its bytes
//! (not its URL or declared type) and gets vPDQ, MD5 and SHA-256; a broken one is dead-lettered
//! with its code.

use axum::Router;
use axum::routing::get;
use base64::Engine;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use takedown_core::SignalType;
use takedown_core::messages::PostSignals;
use takedown_core::vpdq::{parse_reference_file, parse_signal_string};
use takedown_ingest::fetch::{Cidr, FetchPolicy};
use takedown_ingest::ingest_stage::{IngestConfig, IngestStage};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::runner::{self, RunnerConfig, header_text};
use takedown_local_services::{KafkaBroker, unique_name};

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../testdata/vpdq/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn post(id: &str, media: serde_json::Value) -> String {
    serde_json::json!({
        "post_id": id, "platform": "test", "author_id": "a1",
        "created_at": "2026-11-23T10:00:00Z", "media": media,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_posts_get_vpdq_or_a_dead_letter() {
    let broker = KafkaBroker::start().unwrap();
    let (posts, signals) = (unique_name("posts"), unique_name("post-signals"));
    for t in [&posts, &signals, &format!("{posts}.dlq")] {
        broker.create_topic(t, 1).await.unwrap();
    }
    let video = testdata("videos/doorknob-hd-no-bar.mp4");
    let served = video.clone();
    // Served under an image name: the stage must look at the bytes.
    let app = Router::new().route(
        "/photo.jpg",
        get(move || {
            let b = served.clone();
            async move { b }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut junk = video[..64].to_vec();
    junk.extend(std::iter::repeat_n(0x5a, 4096));
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let cases = [
        (
            "fetched",
            post(
                "fetched",
                serde_json::json!([{"media_id": "v", "url": format!("{host}/photo.jpg"), "content_type": "image/jpeg"}]),
            ),
        ),
        (
            "corrupt",
            post(
                "corrupt",
                serde_json::json!([{"media_id": "v", "data_base64": b64(&junk)}]),
            ),
        ),
    ];
    let producer: FutureProducer = broker.producer_config().create().unwrap();
    for (key, value) in &cases {
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
    let reader = |topic: &str| {
        let c: StreamConsumer = broker
            .consumer_config(&unique_name("read"))
            .create()
            .unwrap();
        c.subscribe(&[topic]).unwrap();
        c
    };
    let signals_reader = reader(&signals);
    let mut got: HashMap<String, PostSignals> = HashMap::new();
    while got.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(60), signals_reader.recv())
            .await
            .expect("signals in time")
            .unwrap();
        let s: PostSignals = serde_json::from_slice(m.payload().unwrap()).unwrap();
        got.insert(s.post_id.clone(), s);
    }
    let dlq = reader(&format!("{posts}.dlq"));
    let dead = tokio::time::timeout(Duration::from_secs(60), dlq.recv())
        .await
        .expect("dead letter in time")
        .map(|m| (m.key().map(<[u8]>::to_vec), header_text(&m, "error.code")))
        .unwrap();
    // Stop the stage before asserting: a stage left running when the test's broker is gone
    // would hang the test's shutdown instead of failing it.
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(dead.0.as_deref(), Some(&b"corrupt"[..]));
    assert_eq!(dead.1.as_deref(), Some("decode_failed"));

    let media = &got["fetched"].media[0];
    assert!(media.error.is_none(), "{:?}", media.error);
    let value = |t: SignalType| {
        media
            .signals
            .iter()
            .find(|s| s.signal_type == t)
            .map(|s| s.value.clone())
            .unwrap_or_else(|| panic!("{t} signal"))
    };
    // `md5sum testdata/vpdq/videos/doorknob-hd-no-bar.mp4`
    assert_eq!(value(SignalType::Md5), "9108849f0d0bb6d3c40844f4eb72767b");
    assert_eq!(value(SignalType::Sha256).len(), 64);
    // One hash a second: the reference's frames 0, 30, 60, 90, within a few bits where usable.
    let frames = parse_signal_string(&value(SignalType::Vpdq)).unwrap();
    let reference: Vec<_> = parse_reference_file(
        &String::from_utf8(testdata("hashes/doorknob-hd-no-bar.txt")).unwrap(),
    )
    .unwrap()
    .into_iter()
    .filter(|f| f.frame_number % 30 == 0)
    .collect();
    assert_eq!(frames.len(), reference.len());
    for (ours, theirs) in frames.iter().zip(&reference) {
        assert_eq!(ours.timestamp, theirs.timestamp);
        if theirs.quality >= 50 {
            assert!(ours.hash.distance(&theirs.hash) <= 8);
        }
    }
    let corrupt = got["corrupt"].media[0].error.as_ref().unwrap();
    assert_eq!(corrupt.code, takedown_core::ErrorCode::DecodeFailed);
}
