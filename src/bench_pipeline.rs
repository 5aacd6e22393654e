//! `takedown bench pipeline`: posts through the broker, ingest and match, measured end to end.
//!
//! Two phases on one machine, everything included (broker, Redis, both stages, the producer
//! and the reader all share its cores, as on a single-node deployment):
//!
//! 1. **Throughput**: `--posts` posts with inline 640×480 JPEGs (half of them re-encoded copies
//!    of listed pictures) are sent as fast as the producer goes; the rate is the number of
//!    posts over the time until the last one's signals and every expected match came out.
//! 2. **Latency**: posts are sent at a steady rate (`--rate`, default half the measured
//!    throughput) for `--latency-secs`; each matching post's latency is from its send to its
//!    match being read back from `matches`.
//!
//! The last line of output is one JSON object with the figures.

use crate::local::{Services, Stages, Topics, jpeg, picture, post_json};
use anyhow::{Context, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};
use takedown_core::{PdqHash, SignalType};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};

/// Pictures on the list that posts copy, and as many that are not listed.
const PICTURES: u64 = 32;

/// Measure posts through the whole pipeline.
#[derive(clap::Args, Debug)]
pub struct BenchPipelineArgs {
    /// Posts in the throughput phase.
    #[arg(long, default_value_t = 2000)]
    pub posts: usize,
    /// Partitions of each topic.
    #[arg(long, default_value_t = 2)]
    pub partitions: i32,
    /// Random PDQ entries on the list besides the pictures the posts copy.
    #[arg(long, default_value_t = 100_000)]
    pub list_size: usize,
    /// Posts per second in the latency phase (default: half the measured throughput).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Length of the latency phase, in seconds.
    #[arg(long, default_value_t = 20)]
    pub latency_secs: u64,
}

/// Post payloads made once, outside the timing.
struct Corpus {
    /// JPEG bytes of listed pictures (re-encoded) and unrelated ones, alternating.
    media: Vec<Vec<u8>>,
}

impl Corpus {
    fn build() -> Corpus {
        let mut media = Vec::new();
        for n in 0..PICTURES {
            media.push(jpeg(&picture(100 + n, 640, 480), 80));
            media.push(jpeg(&picture(50_000 + n, 640, 480), 85));
        }
        Corpus { media }
    }

    /// Post `i`'s payload and whether it should match.
    fn post(&self, phase: &str, i: usize) -> (String, Vec<u8>, bool) {
        let id = format!("{phase}-{i:06}");
        let m = i % self.media.len();
        (
            id.clone(),
            post_json(&id, "bench", &self.media[m]),
            m.is_multiple_of(2),
        )
    }
}

/// Runs the benchmark and prints its figures.
pub fn run(args: BenchPipelineArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(bench(args))
}

async fn import_list(store: &Store, list_size: usize) -> anyhow::Result<()> {
    let list = ListId::parse("bench").expect("valid list id");
    store
        .put_list(&ListMeta::new(list.clone(), "bench"))
        .await?;
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let mut text = String::new();
    for n in 0..PICTURES {
        let bytes = crate::local::png(&picture(100 + n, 640, 480));
        let hash = computer.compute(&bytes, &[SignalType::Pdq])?.pdq;
        text.push_str(&format!("pdq {}\n", hash.context("PDQ")?.hash));
    }
    let mut x: u64 = 0x5eed_0f7a_6b00;
    for _ in 0..list_size {
        let mut words = [0u64; 4];
        for w in &mut words {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *w = x;
        }
        text.push_str(&format!("pdq {}\n", PdqHash { words }));
    }
    let records = formats::read(Format::Plain, Cursor::new(text.into_bytes()))?.records;
    let options = ImportOptions {
        actor: "bench".into(),
        ..ImportOptions::default()
    };
    store.import(&list, records, &options).await?;
    Ok(())
}

/// What the reader saw: post ids with signals, and matches with the time they were read.
#[derive(Default)]
struct Seen {
    signals: HashSet<String>,
    matches: HashMap<String, Instant>,
}

async fn read_outputs(reader: StreamConsumer, topics: Topics, seen: Arc<std::sync::Mutex<Seen>>) {
    loop {
        let Ok(m) = reader.recv().await else { continue };
        let now = Instant::now();
        let Ok(value) =
            serde_json::from_slice::<serde_json::Value>(m.payload().unwrap_or_default())
        else {
            continue;
        };
        let Some(post) = value.get("post_id").and_then(|p| p.as_str()) else {
            continue;
        };
        let mut seen = seen.lock().expect("seen lock");
        if m.topic() == topics.signals {
            seen.signals.insert(post.to_string());
        } else {
            seen.matches.entry(post.to_string()).or_insert(now);
        }
    }
}

async fn send(
    producer: &FutureProducer,
    topic: &str,
    id: &str,
    payload: &[u8],
) -> anyhow::Result<()> {
    producer
        .send(
            FutureRecord::to(topic).key(id).payload(payload),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)
        .context("producing a post")?;
    Ok(())
}

/// Waits until every post in `ids` has signals and every one in `matching` a match.
async fn wait_for(
    seen: &std::sync::Mutex<Seen>,
    ids: &[String],
    matching: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        {
            let seen = seen.lock().expect("seen lock");
            let signals = ids.iter().filter(|i| seen.signals.contains(*i)).count();
            let matches = matching
                .iter()
                .filter(|i| seen.matches.contains_key(*i))
                .count();
            if signals == ids.len() && matches == matching.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "timed out: {signals} of {} signals, {matches} of {} matches",
                    ids.len(),
                    matching.len()
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn bench(args: BenchPipelineArgs) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "Starting Redis and the broker; importing {} list entries…",
        args.list_size
    );
    let services = Services::start()?;
    let brokers = services.broker.bootstrap_servers().to_string();
    let redis_url = services.redis.url();
    let topics = Topics::standard();
    topics.create(&services.broker, args.partitions).await?;
    let store = Store::connect(&redis_url, "td").await?;
    import_list(&store, args.list_size).await?;
    let corpus = Corpus::build();
    let stages = Stages::start(&brokers, &redis_url, "td", &topics, "bench").await?;

    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let reader: StreamConsumer = services
        .broker
        .consumer_config("bench-reader")
        .set("fetch.wait.max.ms", "10")
        .create()?;
    reader.subscribe(&[&topics.signals, &topics.matches])?;
    let read_task = tokio::spawn(read_outputs(reader, topics.clone(), seen.clone()));
    let producer: FutureProducer = services
        .broker
        .producer_config()
        .set("linger.ms", "1")
        .create()?;

    // Warm up: the consumer groups join and the blocking pool spins up.
    eprintln!("Warming up…");
    let mut ids = Vec::new();
    let mut matching = Vec::new();
    for i in 0..32 {
        let (id, payload, hit) = corpus.post("warm", i);
        send(&producer, &topics.posts, &id, &payload).await?;
        if hit {
            matching.push(id.clone());
        }
        ids.push(id);
    }
    wait_for(&seen, &ids, &matching, Duration::from_secs(120)).await?;

    eprintln!("Throughput: {} posts…", args.posts);
    let posts: Vec<(String, Vec<u8>, bool)> =
        (0..args.posts).map(|i| corpus.post("tput", i)).collect();
    let ids: Vec<String> = posts.iter().map(|p| p.0.clone()).collect();
    let matching: Vec<String> = posts.iter().filter(|p| p.2).map(|p| p.0.clone()).collect();
    let started = Instant::now();
    let sends = posts
        .iter()
        .map(|(id, payload, _)| send(&producer, &topics.posts, id, payload));
    futures_util::future::try_join_all(sends).await?;
    wait_for(&seen, &ids, &matching, Duration::from_secs(600)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let throughput = args.posts as f64 / elapsed;
    eprintln!(
        "  {throughput:.0} posts/s ({:.0} per core)",
        throughput / cores as f64
    );

    let rate = args.rate.unwrap_or(throughput / 2.0);
    let count = (rate * args.latency_secs as f64).ceil() as usize;
    eprintln!("Latency: {count} posts at {rate:.0} posts/s…");
    let posts: Vec<(String, Vec<u8>, bool)> = (0..count).map(|i| corpus.post("lat", i)).collect();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let phase_start = tokio::time::Instant::now();
    let mut in_flight = Vec::new();
    for (i, (id, payload, _)) in posts.iter().enumerate() {
        tokio::time::sleep_until(phase_start + interval.mul_f64(i as f64)).await;
        sent_at.insert(id.clone(), Instant::now());
        let producer = producer.clone();
        let (topic, id, payload) = (topics.posts.clone(), id.clone(), payload.clone());
        in_flight.push(tokio::spawn(async move {
            send(&producer, &topic, &id, &payload).await
        }));
    }
    for task in in_flight {
        task.await??;
    }
    let ids: Vec<String> = posts.iter().map(|p| p.0.clone()).collect();
    let matching: Vec<String> = posts.iter().filter(|p| p.2).map(|p| p.0.clone()).collect();
    wait_for(&seen, &ids, &matching, Duration::from_secs(600)).await?;
    let mut latencies: Vec<f64> = {
        let seen = seen.lock().expect("seen lock");
        matching
            .iter()
            .map(|id| (seen.matches[id] - sent_at[id]).as_secs_f64() * 1000.0)
            .collect()
    };
    latencies.sort_by(f64::total_cmp);
    read_task.abort();
    stages.stop().await?;

    let result = serde_json::json!({
        "cores": cores,
        "posts": args.posts,
        "media": "inline 640x480 JPEG",
        "list_entries": args.list_size as u64 + PICTURES,
        "partitions": args.partitions,
        "throughput_posts_s": (throughput * 10.0).round() / 10.0,
        "throughput_per_core": (throughput / cores as f64 * 10.0).round() / 10.0,
        "latency_rate_posts_s": (rate * 10.0).round() / 10.0,
        "latency_samples": latencies.len(),
        "p50_ms": (percentile(&latencies, 50.0) * 10.0).round() / 10.0,
        "p99_ms": (percentile(&latencies, 99.0) * 10.0).round() / 10.0,
        "max_ms": (latencies.last().copied().unwrap_or(f64::NAN) * 10.0).round() / 10.0,
    });
    println!("{result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
