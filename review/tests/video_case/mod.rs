//! A video post through the real broker becomes a case: a list holds a video as a `vpdq` entry
//! (imported from a pytx CSV with Meta's reference hashes), a post carries that video re-encoded
//! by nobody but hashed by us, and ingest → match → review, each a Kafka stage on a real broker
//! with the list store and the cases in a real Redis, opens a case whose match names the
//! matched stretch of the video. An unrelated video on the same run matches nothing.

use crate::support::*;
use base64::Engine;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;
use takedown_core::SignalType;
use takedown_core::messages::{Match, PostSignals, SecondsRange};
use takedown_core::vpdq::{parse_reference_file, to_signal_string};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta, Severity};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_ingest::ingest_stage::{IngestConfig, IngestStage};
use takedown_ingest::list_feed::follow_until_loaded;
use takedown_ingest::match_stage::{MatchStage, Matcher};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::runner::{self, RunnerConfig};
use takedown_local_services::{KafkaBroker, RedisServer, unique_name};
use takedown_review::intake_stage::MatchIntake;

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../testdata/vpdq/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn post(id: &str, video: &[u8]) -> String {
    serde_json::json!({
        "post_id": id, "platform": "test", "author_id": "a1",
        "created_at": "2026-11-23T10:00:00Z",
        "media": [{"media_id": "v", "data_base64":
            base64::engine::general_purpose::STANDARD.encode(video)}],
    })
    .to_string()
}

/// Three seconds of FFmpeg's test pattern: a video no list holds.
fn unrelated_video() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30:duration=3",
        ])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(path).unwrap()
}

fn runner_config(broker: &KafkaBroker, group: &str, topic: &str) -> RunnerConfig {
    let mut rc = RunnerConfig::new(broker.bootstrap_servers(), &unique_name(group), topic);
    rc.consumer_settings = vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
    ];
    rc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_post_through_the_real_broker_becomes_a_case() {
    let broker = KafkaBroker::start().unwrap();
    let redis = RedisServer::start().unwrap();
    let (posts, signals, matches) = (
        unique_name("posts"),
        unique_name("post-signals"),
        unique_name("matches"),
    );
    for t in [&posts, &signals, &matches] {
        broker.create_topic(t, 1).await.unwrap();
        broker.create_topic(&format!("{t}.dlq"), 1).await.unwrap();
    }

    // The list: doorknob as Meta's reference hashed it (every frame), as a pytx CSV row.
    let lists = Store::connect(&redis.url(), &unique_name("td"))
        .await
        .unwrap();
    let list = ListId::parse("videos").unwrap();
    let mut meta = ListMeta::new(list.clone(), "pytx");
    meta.severity = Severity::Critical;
    lists.put_list(&meta).await.unwrap();
    let reference = parse_reference_file(
        &String::from_utf8(testdata("hashes/doorknob-hd-no-bar.txt")).unwrap(),
    )
    .unwrap();
    let listed = to_signal_string(&reference);
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["vpdq", &listed, "collab", "terrorism", ""])
        .unwrap();
    let records = formats::read(Format::Csv, Cursor::new(csv.into_inner().unwrap()))
        .unwrap()
        .records;
    let options = ImportOptions {
        actor: "test".into(),
        ..ImportOptions::default()
    };
    lists.import(&list, records, &options).await.unwrap();
    let (_, stored) = lists.snapshot(&list).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].signal_type, SignalType::Vpdq);

    let matcher = Matcher::default();
    follow_until_loaded(
        matcher.clone(),
        lists.clone(),
        Duration::from_secs(3600),
        StageMetrics::new("match"),
    )
    .await
    .unwrap();
    assert_eq!(
        matcher.videos(),
        1,
        "the listed video is in the video index"
    );

    let (review, _) = store(&redis).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let ingest = Arc::new(
        IngestStage::new(IngestConfig::new(&signals), StageMetrics::new("ingest")).unwrap(),
    );
    let runs = [
        tokio::spawn(runner::run(
            runner_config(&broker, "ingest", &posts),
            ingest,
            StageMetrics::new("ingest"),
            until(stopped.clone()),
        )),
        tokio::spawn(runner::run(
            runner_config(&broker, "match", &signals),
            Arc::new(MatchStage::new(matcher.clone(), &matches)),
            StageMetrics::new("match"),
            until(stopped.clone()),
        )),
        tokio::spawn(runner::run(
            runner_config(&broker, "review", &matches),
            Arc::new(MatchIntake::new(review.clone())),
            StageMetrics::new("review"),
            until(stopped.clone()),
        )),
    ];

    let producer: rdkafka::producer::FutureProducer = broker.producer_config().create().unwrap();
    for (key, video) in [
        ("unrelated", unrelated_video()),
        ("listed", testdata("videos/doorknob-hd-no-bar.mp4")),
    ] {
        producer
            .send(
                rdkafka::producer::FutureRecord::to(&posts)
                    .key(key)
                    .payload(&post(key, &video)),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }

    let found = read_topic(&broker, &matches, 1, Duration::from_secs(120)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while review.counts().await.unwrap().0 < 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let signals_seen = read_topic(&broker, &signals, 2, Duration::from_secs(60)).await;
    stop.send(true).unwrap();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    // Asserted only now: a failure with the stages still running would hang, not fail.
    assert_eq!(found.len(), 1, "one match in time");
    let m: Match = serde_json::from_str(&found[0].1).unwrap();

    assert_eq!(m.post_id, "listed");
    assert_eq!(m.signal_type, SignalType::Vpdq);
    assert_eq!(m.list_id, "videos");
    assert_eq!(m.entry, stored[0].key());
    assert_eq!(m.severity, "critical");
    // Our one-hash-a-second frames 0 and 1 s have quality 100 and 68 (2 s and 3 s are below 50
    // and ignored); both are within a few bits of the reference's frames 0 and 30.
    let video = m
        .video
        .as_ref()
        .expect("a video match says how much matched");
    assert_eq!(video.query_match_percent, 100.0);
    assert_eq!(
        video.query_ranges,
        [SecondsRange {
            start: 0.0,
            end: 1.0
        }]
    );
    assert!(video.compared_match_percent > 0.0 && video.compared_match_percent < 100.0);

    // The case: opened by the review stage from that match.
    assert_eq!(review.counts().await.unwrap().0, 1, "one open case");
    let (case, outcome) = review.ingest_match(&m).await.unwrap();
    assert_eq!(outcome, takedown_review::store::MatchOutcome::Duplicate);
    let view = review.case(&case).await.unwrap();
    assert_eq!(view.matches.len(), 1);
    assert_eq!(view.matches[0].entry, stored[0].key());
    assert_eq!(
        view.matches[0].video.as_ref(),
        Some(video),
        "the case keeps the matched stretches"
    );

    // The unrelated post was hashed and matched nothing.
    let unrelated: PostSignals = signals_seen
        .iter()
        .map(|(_, payload, _, _)| serde_json::from_str::<PostSignals>(payload).unwrap())
        .find(|s| s.post_id == "unrelated")
        .expect("the unrelated post's signals");
    assert!(
        unrelated.media[0]
            .signals
            .iter()
            .any(|s| s.signal_type == SignalType::Vpdq)
    );
    assert!(matcher.match_post(&unrelated).is_empty());
}
