//! A whole pipeline on one machine, for the demo and the end-to-end benchmark.
//!
//! `takedown demo` and `takedown bench pipeline` need the same things: a Redis and a
//! Kafka-compatible broker (the ones the test suite starts), the topics, the ingest and match
//! stages running in this process exactly as `takedown ingest` and `takedown match` run them,
//! and generated pictures to post. Generated, never real: the demo must be safe to run in
//! front of anyone.

use anyhow::{Context, anyhow};
use base64::Engine;
use image::{ImageEncoder, Rgb, RgbImage};
use std::sync::Arc;
use std::time::Duration;
use takedown_hashlists::store::{Store, StoreError};
use takedown_ingest::ingest_stage::{IngestConfig, IngestStage};
use takedown_ingest::list_feed::follow_until_loaded;
use takedown_ingest::match_stage::{MatchStage, Matcher};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::pdq_conventions::PdqConventions;
use takedown_ingest::runner::{self, RunnerConfig};
use takedown_ingest::text_rules::TextRules;
use takedown_local_services::{KafkaBroker, RedisServer};
use tokio::task::JoinHandle;

/// Redis and a broker on free loopback ports, stopped when dropped.
pub struct Services {
    /// The Redis server (list store).
    pub redis: RedisServer,
    /// The Kafka-compatible broker.
    pub broker: KafkaBroker,
}

impl Services {
    /// Starts both (Tansu from `scripts/install-test-deps`, or `TAKEDOWN_TEST_KAFKA`).
    pub fn start() -> anyhow::Result<Self> {
        let redis = RedisServer::start().context("starting Redis")?;
        let broker = KafkaBroker::start().context("starting the broker")?;
        Ok(Services { redis, broker })
    }
}

/// The pipeline's topics (each with its dead-letter topic where a stage reads it).
#[derive(Debug, Clone)]
pub struct Topics {
    /// Posts in.
    pub posts: String,
    /// Signals between ingest and match.
    pub signals: String,
    /// Matches out.
    pub matches: String,
}

impl Topics {
    /// The default names.
    pub fn standard() -> Self {
        Topics {
            posts: "posts".into(),
            signals: "post-signals".into(),
            matches: "matches".into(),
        }
    }

    /// Creates the topics and the stages' dead-letter topics with `partitions` partitions.
    pub async fn create(&self, broker: &KafkaBroker, partitions: i32) -> anyhow::Result<()> {
        for topic in [
            self.posts.clone(),
            self.signals.clone(),
            self.matches.clone(),
            format!("{}.dlq", self.posts),
            format!("{}.dlq", self.signals),
        ] {
            broker
                .create_topic(&topic, partitions)
                .await
                .with_context(|| format!("creating topic {topic}"))?;
        }
        Ok(())
    }
}

/// The ingest and match stages running in this process.
pub struct Stages {
    stop: tokio::sync::watch::Sender<bool>,
    runners: Vec<JoinHandle<Result<(), runner::RunnerError>>>,
    followers: Vec<JoinHandle<Result<(), StoreError>>>,
}

impl Stages {
    /// Starts both stages on `brokers`, with lists (and text rules) from the store at
    /// `redis_url` under `prefix`; returns once the lists are loaded.
    pub async fn start(
        brokers: &str,
        redis_url: &str,
        prefix: &str,
        topics: &Topics,
        group_prefix: &str,
    ) -> anyhow::Result<Stages> {
        let store = Store::connect(redis_url, prefix)
            .await
            .context("connecting to the list store")?;
        let rules = TextRules::default();
        let conventions = PdqConventions::default();
        let matcher = Matcher::default();
        let poll = Duration::from_secs(5);
        let (ingest_metrics, match_metrics) =
            (StageMetrics::new("ingest"), StageMetrics::new("match"));
        let followers = vec![
            follow_until_loaded(
                (rules.clone(), conventions.clone()),
                store.clone(),
                poll,
                ingest_metrics.clone(),
            )
            .await?,
            follow_until_loaded(matcher.clone(), store, poll, match_metrics.clone()).await?,
        ];
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let shutdown = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let ingest = IngestStage::new(IngestConfig::new(&topics.signals), ingest_metrics.clone())?
            .with_text_rules(rules)
            .with_pdq_conventions(conventions);
        let ingest_config =
            RunnerConfig::new(brokers, &format!("{group_prefix}-ingest"), &topics.posts);
        let match_config =
            RunnerConfig::new(brokers, &format!("{group_prefix}-match"), &topics.signals);
        let runners = vec![
            tokio::spawn(runner::run(
                ingest_config,
                Arc::new(ingest),
                ingest_metrics,
                shutdown(),
            )),
            tokio::spawn(runner::run(
                match_config,
                Arc::new(MatchStage::new(matcher, &topics.matches)),
                match_metrics,
                shutdown(),
            )),
        ];
        Ok(Stages {
            stop,
            runners,
            followers,
        })
    }

    /// Drains and stops both stages.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for r in self.runners {
            r.await.map_err(|e| anyhow!("stage task: {e}"))??;
        }
        for f in self.followers {
            f.abort();
        }
        Ok(())
    }
}

/// A generated picture: an 8×8 grid of colour blocks under a diagonal gradient, different for
/// every `seed`. Perceptually distinct seeds hash far apart; the same seed at another size or
/// JPEG quality hashes close.
pub fn picture(seed: u64, width: u32, height: u32) -> RgbImage {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cells: Vec<[u8; 3]> = (0..64)
        .map(|_| {
            let v = next();
            [v as u8, (v >> 8) as u8, (v >> 16) as u8]
        })
        .collect();
    RgbImage::from_fn(width, height, |px, py| {
        let cell = cells[((py * 8 / height) * 8 + px * 8 / width) as usize];
        let shade = ((px + py) * 48 / (width + height)) as u8;
        Rgb(cell.map(|c| c.saturating_add(shade)))
    })
}

/// `img` as a JPEG of `quality` (1–100).
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    encode(
        img,
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality),
    );
    out
}

/// `img` as a PNG.
pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    encode(img, image::codecs::png::PngEncoder::new(&mut out));
    out
}

fn encode(img: &RgbImage, encoder: impl ImageEncoder) {
    encoder
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding to memory cannot fail");
}

/// A post (schema of `docs/messages.md`) with `text` and one inline media item `m1`.
pub fn post_json(post_id: &str, text: &str, media: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema": 1,
        "post_id": post_id,
        "platform": "demo",
        "author_id": "demo-author",
        "created_at": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formatting now"),
        "url": format!("https://platform.example/p/{post_id}"),
        "text": text,
        "media": [{
            "media_id": "m1",
            "content_type": "image/jpeg",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(media),
        }],
    }))
    .expect("serialising a post")
}

#[cfg(test)]
mod tests {
    use super::*;
    use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};

    #[test]
    fn copies_hash_close_and_other_seeds_far() {
        let mut c = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
        let mut pdq = |bytes: &[u8]| {
            c.compute(bytes, &[takedown_core::SignalType::Pdq])
                .unwrap()
                .pdq
                .unwrap()
                .hash
        };
        let original = pdq(&png(&picture(1, 640, 480)));
        let copy = pdq(&jpeg(&picture(1, 320, 240), 60));
        let other = pdq(&jpeg(&picture(2, 640, 480), 90));
        // Within the default list threshold, which the demo and the benchmark rely on.
        assert!(
            original.distance(&copy) <= 31,
            "{}",
            original.distance(&copy)
        );
        assert!(
            original.distance(&other) > 64,
            "{}",
            original.distance(&other)
        );
    }
}
