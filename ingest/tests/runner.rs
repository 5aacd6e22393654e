//! The stage runner against a real Kafka-compatible broker: outputs and dead letters, offsets
//! committed only for finished work, and consumers in one group sharing partitions.

use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use takedown_core::ErrorCode;
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::runner::{self, Input, Output, Rejection, RunnerConfig, Stage, header_text};
use takedown_local_services::{KafkaBroker, unique_name};
use tokio::sync::oneshot;

/// Upper-cases payloads into `out`, prefixed with `tag:` when a tag is set (so outputs say which
/// consumer made them); rejects payloads starting with "poison".
struct Upper {
    out: String,
    delay: Duration,
    tag: &'static str,
}

impl Stage for Upper {
    fn name(&self) -> &'static str {
        "upper"
    }

    async fn process(&self, input: Input) -> Result<Vec<Output>, Rejection> {
        tokio::time::sleep(self.delay).await;
        let text = String::from_utf8_lossy(&input.payload).to_string();
        if text.starts_with("poison") {
            return Err(Rejection::new(
                ErrorCode::InvalidMessage,
                format!("bad payload at {}", input.offset),
            ));
        }
        Ok(vec![Output {
            topic: self.out.clone(),
            key: String::from_utf8_lossy(input.key.as_deref().unwrap_or_default()).to_string(),
            payload: if self.tag.is_empty() {
                text.to_uppercase()
            } else {
                format!("{}:{}", self.tag, text.to_uppercase())
            }
            .into_bytes(),
        }])
    }
}

async fn produce_all(broker: &KafkaBroker, topic: &str, items: &[(String, String)]) {
    let producer: FutureProducer = broker.producer_config().create().unwrap();
    for (key, value) in items {
        producer
            .send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
}

/// Reads until `expected` messages arrived or `within` passed.
async fn read_topic(
    broker: &KafkaBroker,
    topic: &str,
    expected: usize,
    within: Duration,
) -> Vec<(String, String, HashMap<String, String>)> {
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
        let mut headers = HashMap::new();
        for h in ["stage", "error.code", "error.message", "source.offset"] {
            if let Some(v) = header_text(&m, h) {
                headers.insert(h.to_string(), v);
            }
        }
        out.push((
            String::from_utf8_lossy(m.key().unwrap_or_default()).to_string(),
            String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
            headers,
        ));
    }
    out
}

fn config(broker: &KafkaBroker, group: &str, input: &str) -> RunnerConfig {
    let mut c = RunnerConfig::new(broker.bootstrap_servers(), group, input);
    c.max_in_flight = 16;
    c.consumer_settings = vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
    ];
    c
}

fn spawn_runner(
    cfg: RunnerConfig,
    stage: Upper,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        runner::run(cfg, Arc::new(stage), StageMetrics::new("upper"), async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (stop, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_and_dead_letters_then_nothing_redelivered() {
    let broker = KafkaBroker::start().unwrap();
    let (input, out) = (unique_name("in"), unique_name("out"));
    broker.create_topic(&input, 3).await.unwrap();
    broker.create_topic(&out, 3).await.unwrap();
    broker
        .create_topic(&format!("{input}.dlq"), 1)
        .await
        .unwrap();
    let items: Vec<(String, String)> = (0..60)
        .map(|i| {
            (
                format!("post-{i}"),
                if i % 10 == 3 {
                    format!("poison {i}")
                } else {
                    format!("hello {i}")
                },
            )
        })
        .collect();
    produce_all(&broker, &input, &items).await;

    let group = unique_name("upper");
    let (stop, handle) = spawn_runner(
        config(&broker, &group, &input),
        Upper {
            out: out.clone(),
            delay: Duration::ZERO,
            tag: "",
        },
    );
    let outputs = read_topic(&broker, &out, 54, Duration::from_secs(60)).await;
    let dead = read_topic(&broker, &format!("{input}.dlq"), 6, Duration::from_secs(30)).await;
    stop.send(()).unwrap();
    handle.await.unwrap();

    let got: HashSet<(String, String)> = outputs
        .iter()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let want: HashSet<(String, String)> = items
        .iter()
        .filter(|(_, v)| !v.starts_with("poison"))
        .map(|(k, v)| (k.clone(), v.to_uppercase()))
        .collect();
    assert_eq!(got, want, "every good message, keyed by post");
    assert_eq!(outputs.len(), 54, "no duplicates without failures");
    assert_eq!(dead.len(), 6);
    for (key, value, headers) in &dead {
        assert!(value.starts_with("poison"), "original bytes kept: {value}");
        assert!(key.starts_with("post-"));
        assert_eq!(headers["stage"], "upper");
        assert_eq!(headers["error.code"], "invalid_message");
        assert!(headers["error.message"].starts_with("bad payload at"));
    }

    // Offsets were committed: the same group, restarted, finds nothing to do.
    produce_all(&broker, &input, &[("post-late".into(), "late".into())]).await;
    let (stop, handle) = spawn_runner(
        config(&broker, &group, &input),
        Upper {
            out: out.clone(),
            delay: Duration::ZERO,
            tag: "",
        },
    );
    let after = read_topic(&broker, &out, 56, Duration::from_secs(10)).await;
    stop.send(()).unwrap();
    handle.await.unwrap();
    assert_eq!(after.len(), 55, "only the new message was processed");
    assert_eq!(after.iter().filter(|(_, v, _)| v == "LATE").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumers_share_partitions_and_lose_nothing_across_a_rebalance() {
    rebalance_without_loss_or_duplicates(&[]).await;
}

/// With periodic commits off, only the runner's own synchronous commit on revoke (and on
/// shutdown) saves the first consumer's progress: without it the partitions that move start
/// over from the beginning on the second consumer. (With them on, librdkafka also commits
/// stored offsets on revoke, which hides a missing commit.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_on_revoke_hands_over_progress_without_periodic_commits() {
    rebalance_without_loss_or_duplicates(&[("enable.auto.commit", "false")]).await;
}

/// Two consumers of one group over 200 messages, the second joining mid-stream: every message
/// processed, both consumers working, none processed twice. `extra` goes into both consumers'
/// settings.
async fn rebalance_without_loss_or_duplicates(extra: &[(&str, &str)]) {
    let broker = KafkaBroker::start().unwrap();
    let (input, out) = (unique_name("in"), unique_name("out"));
    broker.create_topic(&input, 4).await.unwrap();
    broker.create_topic(&out, 4).await.unwrap();
    let items: Vec<(String, String)> = (0..200)
        .map(|i| (format!("post-{i}"), format!("m{i}")))
        .collect();
    produce_all(&broker, &input, &items).await;

    // Everything that reaches `out`, as it arrives.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader: StreamConsumer = broker
        .consumer_config(&unique_name("reader"))
        .create()
        .unwrap();
    reader.subscribe(&[&out]).unwrap();
    let reading = tokio::spawn(async move {
        while let Ok(m) = reader.recv().await {
            let v = String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string();
            if seen_tx.send(v).is_err() {
                break;
            }
        }
    });

    // Two messages at a time, 100 ms each: one consumer alone needs ~10 s for all 200, so work
    // is still outstanding when the second one has joined.
    let group = unique_name("shared");
    let stage_config = || {
        let mut c = config(&broker, &group, &input);
        c.max_in_flight = 2;
        c.consumer_settings
            .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        c
    };
    let slow = Duration::from_millis(100);
    let (stop_a, a) = spawn_runner(
        stage_config(),
        Upper {
            out: out.clone(),
            delay: slow,
            tag: "a",
        },
    );
    let mut outputs: Vec<String> = Vec::new();
    let receive = |outputs: &mut Vec<String>, v: Option<String>| {
        outputs.push(v.expect("reader running"));
    };
    // The second consumer joins only once A's outputs prove it is working, and before it is done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while outputs.len() < 10 {
        let v = tokio::time::timeout_at(deadline, seen.recv())
            .await
            .expect("the first consumer produces outputs");
        receive(&mut outputs, v);
    }
    assert!(
        outputs.len() < items.len() / 2,
        "mid-stream: {} of {} done when the second consumer starts",
        outputs.len(),
        items.len()
    );
    let (stop_b, b) = spawn_runner(
        stage_config(),
        Upper {
            out: out.clone(),
            delay: slow,
            tag: "b",
        },
    );
    let distinct = |outputs: &[String]| {
        outputs
            .iter()
            .map(|v| v.split_once(':').map_or(v.as_str(), |(_, m)| m))
            .collect::<HashSet<&str>>()
            .len()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while distinct(&outputs) < items.len() {
        let Ok(v) = tokio::time::timeout_at(deadline, seen.recv()).await else {
            panic!(
                "{} of {} messages processed in time",
                distinct(&outputs),
                items.len()
            );
        };
        receive(&mut outputs, v);
    }
    // Both stop (draining and committing); then every output they ever produced is read.
    stop_a.send(()).unwrap();
    stop_b.send(()).unwrap();
    a.await.unwrap();
    b.await.unwrap();
    let counter: StreamConsumer = broker
        .consumer_config(&unique_name("count"))
        .create()
        .unwrap();
    let mut produced = 0;
    for partition in 0..4 {
        let (low, high) = counter
            .fetch_watermarks(&out, partition, Duration::from_secs(10))
            .unwrap();
        produced += (high - low) as usize;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while outputs.len() < produced {
        let v = tokio::time::timeout_at(deadline, seen.recv())
            .await
            .expect("every produced output is read");
        receive(&mut outputs, v);
    }
    reading.abort();

    let mut by_consumer: HashMap<&str, usize> = HashMap::new();
    let mut got: HashMap<&str, usize> = HashMap::new();
    for v in &outputs {
        let (tag, message) = v.split_once(':').expect("tagged output");
        *by_consumer.entry(tag).or_default() += 1;
        *got.entry(message).or_default() += 1;
    }
    let want: HashSet<String> = items.iter().map(|(_, v)| v.to_uppercase()).collect();
    let got_set: HashSet<String> = got.keys().map(|m| m.to_string()).collect();
    assert_eq!(got_set, want, "every message processed");
    assert!(
        by_consumer.get("a").copied().unwrap_or(0) > 0
            && by_consumer.get("b").copied().unwrap_or(0) > 0,
        "both consumers worked: {by_consumer:?}"
    );
    // Drain-then-commit on revoke: the partitions that moved to B start after A's last
    // finished message, so nothing is processed twice.
    let twice: Vec<&&str> = got
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(m, _)| m)
        .collect();
    assert!(
        twice.is_empty(),
        "processed more than once: {twice:?} ({by_consumer:?})"
    );
    println!("outputs by consumer: {by_consumer:?}");
}
