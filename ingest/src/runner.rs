//! The Kafka stage runner: at-least-once processing with dead letters.
//!
//! Every stage (ingest, match, review) is a consumer group that reads one topic, does work per
//! message, and produces results. The runner owns the delivery guarantees so stages only
//! describe their work:
//! - an input offset is stored only after every output of that message (or its dead letter) is
//!   acknowledged by the broker, and only once every earlier offset of its partition is done
//!   ([`crate::tracker`]); stored offsets are committed periodically;
//! - on partition revoke, in-flight work of the revoked partitions is drained and offsets are
//!   committed synchronously before the partitions go; on shutdown, all in-flight work is;
//! - in-flight work is bounded (`max_in_flight`): when full, the runner stops taking messages;
//! - a message the stage rejects goes to the dead-letter topic with its original key and bytes
//!   and headers naming the stage, error code and message, and the offset moves on;
//! - the producer is idempotent (`enable.idempotence`), and produce failures are retried, never
//!   skipped.
//!
//! The runner needs a multi-threaded Tokio runtime: a revoke blocks one worker while the others
//! finish the revoked partitions' work.

use crate::metrics::{CodeLabel, StageMetrics};
use crate::tracker::{OffsetTracker, TopicPartition};
use rdkafka::Message;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use takedown_core::ErrorCode;
use tokio::sync::Semaphore;

/// One consumed message, owned.
#[derive(Debug, Clone)]
pub struct Input {
    /// Source topic.
    pub topic: String,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
    /// The key, if any.
    pub key: Option<Vec<u8>>,
    /// The value (empty for a tombstone).
    pub payload: Vec<u8>,
}

/// A record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Destination topic.
    pub topic: String,
    /// The key (the post id, so one post's messages stay in order).
    pub key: String,
    /// The value.
    pub payload: Vec<u8>,
}

/// Why a stage rejected a message (wholly or partly): it goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The stable error code.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// Outputs to produce all the same (the good part of a partly bad message), before the
    /// dead letter.
    pub partial: Vec<Output>,
}

impl Rejection {
    /// A rejection with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            partial: Vec::new(),
        }
    }

    /// The same rejection, producing `outputs` too.
    pub fn with_partial(mut self, outputs: Vec<Output>) -> Self {
        self.partial = outputs;
        self
    }
}

/// The work of a stage, one message at a time.
pub trait Stage: Send + Sync + 'static {
    /// The stage's name, in dead-letter headers and metrics.
    fn name(&self) -> &'static str;

    /// Processes one message: outputs to produce, or a rejection for the dead-letter topic.
    /// Transient failures (a media host down) are retried inside the stage; what it returns
    /// is final.
    fn process(&self, input: Input) -> impl Future<Output = Result<Vec<Output>, Rejection>> + Send;
}

/// Errors that stop the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Kafka client setup or subscription failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// How a runner connects and how much it takes on.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Consumer group id.
    pub group_id: String,
    /// Topic to consume.
    pub input_topic: String,
    /// Dead-letter topic (conventionally `<input>.dlq`).
    pub dlq_topic: String,
    /// Most messages processed at once.
    pub max_in_flight: usize,
    /// How long a revoke or shutdown waits for in-flight work.
    pub drain_timeout: Duration,
    /// Extra consumer settings (e.g. `session.timeout.ms`).
    pub consumer_settings: Vec<(String, String)>,
    /// Extra producer settings.
    pub producer_settings: Vec<(String, String)>,
}

impl RunnerConfig {
    /// Defaults: 64 in flight, 30 s drain, `<input>.dlq`.
    pub fn new(brokers: &str, group_id: &str, input_topic: &str) -> Self {
        RunnerConfig {
            brokers: brokers.to_string(),
            group_id: group_id.to_string(),
            input_topic: input_topic.to_string(),
            dlq_topic: format!("{input_topic}.dlq"),
            max_in_flight: 64,
            drain_timeout: Duration::from_secs(30),
            consumer_settings: Vec::new(),
            producer_settings: Vec::new(),
        }
    }
}

/// State shared by the consumer context (rebalance callbacks) and the processing tasks.
struct Shared {
    /// In-flight offsets per partition.
    tracker: Mutex<OffsetTracker>,
    /// Signalled whenever an offset finishes, so a revoke can wait for its partitions.
    finished: Condvar,
    drain_timeout: Duration,
    metrics: Arc<StageMetrics>,
}

/// Consumer context that drains and commits revoked partitions before they go.
struct DrainContext {
    shared: Arc<Shared>,
}

impl ClientContext for DrainContext {}

impl ConsumerContext for DrainContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(list) = rebalance else {
            return;
        };
        let revoked: Vec<TopicPartition> = list
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let deadline = Instant::now() + self.shared.drain_timeout;
        let mut tracker = self.shared.tracker.lock().expect("tracker lock");
        while revoked.iter().any(|tp| tracker.in_flight(tp) > 0) {
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(
                    partitions = ?revoked,
                    "Revoke drain timed out; unfinished messages will be redelivered."
                );
                break;
            }
            tracker = self
                .shared
                .finished
                .wait_timeout(tracker, deadline - now)
                .expect("tracker lock")
                .0;
        }
        for tp in &revoked {
            tracker.forget(tp);
        }
        drop(tracker);
        // librdkafka commits stored offsets on revoke itself while `enable.auto.commit` is on;
        // this commit is synchronous and also holds when a deployment turns periodic commits
        // off (ingest/tests/runner.rs covers both).
        if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
            // "No offset" just means nothing new was stored since the last commit.
            tracing::debug!(error = %e, "Commit on revoke returned an error.");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            tracing::info!(partitions = list.count(), "Partitions assigned.");
            self.shared.metrics.set_ready(true);
        }
    }
}

fn input_of(m: &BorrowedMessage<'_>) -> Input {
    Input {
        topic: m.topic().to_string(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
    }
}

/// Runs `stage` until `shutdown` completes, then drains in-flight work and commits.
pub async fn run<S: Stage>(
    config: RunnerConfig,
    stage: Arc<S>,
    metrics: Arc<StageMetrics>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunnerError> {
    let shared = Arc::new(Shared {
        tracker: Mutex::new(OffsetTracker::default()),
        finished: Condvar::new(),
        drain_timeout: config.drain_timeout,
        metrics: metrics.clone(),
    });
    let mut consumer_config = ClientConfig::new();
    consumer_config
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "range,roundrobin")
        // librdkafka's default (500 ms) is how long a fetch may wait for data to arrive; some
        // Kafka-compatible brokers hold every fetch that long, which would add up to half a
        // second per stage to a post's time to match. 50 ms bounds it at a few idle fetches a second.
        .set("fetch.wait.max.ms", "50");
    for (k, v) in &config.consumer_settings {
        consumer_config.set(k, v);
    }
    let consumer: Arc<StreamConsumer<DrainContext>> =
        Arc::new(consumer_config.create_with_context(DrainContext {
            shared: shared.clone(),
        })?);
    let mut producer_config = ClientConfig::new();
    producer_config
        .set("bootstrap.servers", &config.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "lz4");
    for (k, v) in &config.producer_settings {
        producer_config.set(k, v);
    }
    let producer: FutureProducer = producer_config.create()?;
    consumer.subscribe(&[&config.input_topic])?;

    let permits = Arc::new(Semaphore::new(config.max_in_flight));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            p = permits.clone().acquire_owned() => p.expect("semaphore never closes"),
        };
        let message = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            m = consumer.recv() => m,
        };
        let input = match message {
            Ok(m) => input_of(&m),
            Err(e) => {
                tracing::warn!(error = %e, "Kafka consumer error.");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let tp: TopicPartition = (input.topic.clone(), input.partition);
        shared
            .tracker
            .lock()
            .expect("tracker lock")
            .begin(&tp, input.offset);
        metrics.consumed.inc();
        metrics.in_flight.inc();
        let task = Task {
            stage: stage.clone(),
            producer: producer.clone(),
            consumer: consumer.clone(),
            shared: shared.clone(),
            dlq_topic: config.dlq_topic.clone(),
        };
        tokio::spawn(async move {
            task.handle(input).await;
            drop(permit);
        });
    }

    // Shutdown: take every permit (all work done) or give up after the drain timeout.
    let drained = tokio::time::timeout(
        config.drain_timeout,
        permits.acquire_many(config.max_in_flight as u32),
    )
    .await;
    if drained.is_err() {
        tracing::warn!("Shutdown drain timed out; unfinished messages will be redelivered.");
    }
    if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(error = %e, "Final commit returned an error.");
    }
    consumer.unsubscribe();
    Ok(())
}

/// What a processing task needs.
struct Task<S> {
    stage: Arc<S>,
    producer: FutureProducer,
    consumer: Arc<StreamConsumer<DrainContext>>,
    shared: Arc<Shared>,
    dlq_topic: String,
}

impl<S: Stage> Task<S> {
    async fn handle(self, input: Input) {
        let started = Instant::now();
        let (topic, partition, offset) = (input.topic.clone(), input.partition, input.offset);
        let metrics = self.shared.metrics.clone();
        match self.stage.process(input.clone()).await {
            Ok(outputs) => self.produce_outputs(&outputs).await,
            Err(rejection) => {
                self.produce_outputs(&rejection.partial).await;
                tracing::info!(
                    stage = self.stage.name(),
                    code = %rejection.code,
                    topic = %topic,
                    partition,
                    offset,
                    "Message dead-lettered: {}.",
                    rejection.message
                );
                metrics.error(rejection.code);
                metrics
                    .dead_lettered
                    .get_or_create(&CodeLabel {
                        code: rejection.code.to_string(),
                    })
                    .inc();
                let headers = OwnedHeaders::new()
                    .insert(Header {
                        key: "stage",
                        value: Some(self.stage.name()),
                    })
                    .insert(Header {
                        key: "error.code",
                        value: Some(rejection.code.as_str()),
                    })
                    .insert(Header {
                        key: "error.message",
                        value: Some(&rejection.message),
                    })
                    .insert(Header {
                        key: "source.topic",
                        value: Some(&topic),
                    })
                    .insert(Header {
                        key: "source.partition",
                        value: Some(&partition.to_string()),
                    })
                    .insert(Header {
                        key: "source.offset",
                        value: Some(&offset.to_string()),
                    });
                let dlq = self.dlq_topic.clone();
                self.produce(&dlq, input.key.as_deref(), &input.payload, Some(headers))
                    .await;
            }
        }
        metrics
            .process_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.in_flight.dec();
        self.finish(&(topic, partition), offset);
    }

    /// Produces a stage's outputs, each acknowledged before the next.
    async fn produce_outputs(&self, outputs: &[Output]) {
        for out in outputs {
            self.produce(&out.topic, Some(out.key.as_bytes()), &out.payload, None)
                .await;
            self.shared.metrics.produced.inc();
        }
    }

    /// Produces one record, retrying until the broker acknowledges it.
    async fn produce(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: Option<OwnedHeaders>,
    ) {
        let mut backoff = Duration::from_millis(50);
        loop {
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).payload(payload);
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(h) = &headers {
                record = record.headers(h.clone());
            }
            match self.producer.send(record, Duration::from_secs(30)).await {
                Ok(_) => return,
                Err((e, _)) => {
                    self.shared.metrics.error(ErrorCode::Io);
                    tracing::warn!(error = %e, topic, "Produce failed; retrying.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn finish(&self, tp: &TopicPartition, offset: i64) {
        let mut tracker = self.shared.tracker.lock().expect("tracker lock");
        if let Some(done) = tracker.finish(tp, offset)
            && let Err(e) = self.consumer.store_offset(&tp.0, tp.1, done)
        {
            // The partition was revoked meanwhile: its new owner redelivers.
            tracing::debug!(error = %e, topic = %tp.0, partition = tp.1, "Offset not stored.");
        }
        drop(tracker);
        self.shared.finished.notify_all();
    }
}

/// Reads a header of a consumed message as text (for tools and tests reading dead letters).
pub fn header_text(message: &impl Message, name: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}
