//! `takedown demo`: the whole pipeline on this machine, with generated content.
//!
//! A newcomer's first command. It starts Redis and a broker, imports a demo list (generated
//! pictures and one text rule), runs the ingest and match stages, posts a mix of copies of the
//! listed pictures (re-encoded, resized), unrelated pictures, a post linking to the listed
//! outlet and a truncated image, and prints each match as it arrives, then a summary that says
//! whether exactly the expected matches came out.

use crate::local::{Services, Stages, Topics, jpeg, picture, png, post_json};
use anyhow::{Context, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::HashSet;
use std::io::Cursor;
use std::process::ExitCode;
use std::time::Duration;
use takedown_core::SignalType;
use takedown_core::messages::{Match, match_id};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta, Severity};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};

/// The demo list's text rule: links to a made-up outlet.
const OUTLET_RULE: &str = r"https?://outlet\.example/\S+";
/// Pictures on the demo list.
const LISTED: u64 = 8;

/// Run a local pipeline with demo content.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Number of demo posts.
    #[arg(long, default_value_t = 40)]
    pub posts: usize,
    /// Exit after the summary instead of running until Ctrl-C.
    #[arg(long)]
    pub exit_when_done: bool,
}

/// What a demo post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A listed picture re-encoded as JPEG quality 70.
    Reencoded(u64),
    /// A listed picture at half size.
    Resized(u64),
    /// A picture not on the list.
    Unrelated,
    /// An unrelated picture, with a link to the listed outlet in the text.
    ListedLink,
    /// A JPEG cut in half: goes to the dead-letter topic.
    Truncated,
}

fn kind(i: usize) -> Kind {
    let listed = i as u64 % LISTED;
    match i % 5 {
        0 => Kind::Reencoded(listed),
        1 => Kind::Resized(listed),
        2 => Kind::Unrelated,
        3 => Kind::ListedLink,
        _ if i % 10 == 9 => Kind::Truncated,
        _ => Kind::Unrelated,
    }
}

fn listed_picture(n: u64) -> image::RgbImage {
    picture(100 + n, 640, 480)
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    println!("Starting Redis and a Kafka-compatible broker on loopback…");
    let services = Services::start()?;
    let brokers = services.broker.bootstrap_servers().to_string();
    let redis_url = services.redis.url();
    println!("  Redis  {redis_url}\n  Kafka  {brokers}");
    let topics = Topics::standard();
    topics.create(&services.broker, 2).await?;

    let prefix = "td";
    let store = Store::connect(&redis_url, prefix).await?;
    let list = ListId::parse("demo").expect("valid list id");
    let entries = import_demo_list(&store, &list).await?;
    println!(
        "Imported list `demo`: {LISTED} generated pictures (PDQ) and the text rule {OUTLET_RULE:?}."
    );

    let stages = Stages::start(&brokers, &redis_url, prefix, &topics, "demo").await?;
    println!(
        "Ingest and match stages running. Posting {} posts…",
        args.posts
    );

    let matches: StreamConsumer = services.broker.consumer_config("demo-reader").create()?;
    matches.subscribe(&[&topics.matches])?;
    let dead: StreamConsumer = services.broker.consumer_config("demo-dlq").create()?;
    dead.subscribe(&[&format!("{}.dlq", topics.posts)])?;

    let producer: FutureProducer = services.broker.producer_config().create()?;
    let mut expected = HashSet::new();
    let mut expected_dead = 0;
    for i in 0..args.posts {
        let id = format!("post-{i:03}");
        let (text, media) = match kind(i) {
            Kind::Reencoded(n) => {
                expected.insert(match_id(&id, "m1", "demo", &entries[n as usize]));
                ("a picture".to_string(), jpeg(&listed_picture(n), 70))
            }
            Kind::Resized(n) => {
                expected.insert(match_id(&id, "m1", "demo", &entries[n as usize]));
                (
                    "a smaller picture".to_string(),
                    jpeg(&picture(100 + n, 320, 240), 85),
                )
            }
            Kind::Unrelated => (
                "holiday".to_string(),
                jpeg(&picture(10_000 + i as u64, 640, 480), 85),
            ),
            Kind::ListedLink => {
                let rule = format!("text_regex:{OUTLET_RULE}");
                expected.insert(match_id(&id, "text", "demo", &rule));
                (
                    format!("watch https://outlet.example/v/{i}"),
                    jpeg(&picture(20_000 + i as u64, 640, 480), 85),
                )
            }
            Kind::Truncated => {
                expected_dead += 1;
                let whole = jpeg(&picture(30_000 + i as u64, 640, 480), 85);
                ("broken".to_string(), whole[..whole.len() / 2].to_vec())
            }
        };
        producer
            .send(
                FutureRecord::to(&topics.posts)
                    .key(&id)
                    .payload(&post_json(&id, &text, &media)),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .context("posting")?;
    }

    let mut seen = HashSet::new();
    let mut unexpected = 0;
    let mut dead_seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while (seen.len() < expected.len() || dead_seen < expected_dead)
        && tokio::time::Instant::now() < deadline
    {
        tokio::select! {
            m = matches.recv() => {
                let m = m?;
                let found: Match = serde_json::from_slice(m.payload().unwrap_or_default())?;
                println!(
                    "match  {}  media {:<4} {:<10} distance {:>2}  list {}  entry {}",
                    found.post_id,
                    found.media_id,
                    found.signal_type.as_str(),
                    found.distance,
                    found.list_id,
                    shorten(&found.entry),
                );
                if expected.contains(&found.match_id) {
                    seen.insert(found.match_id);
                } else {
                    unexpected += 1;
                }
            }
            m = dead.recv() => {
                let m = m?;
                let code = takedown_ingest::runner::header_text(&m, "error.code").unwrap_or_default();
                let key = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
                println!("dead letter  {key}  {code}");
                dead_seen += 1;
            }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
    println!(
        "Summary: {} posts; {} of {} expected matches, {} unexpected; {} of {} expected dead letters.",
        args.posts,
        seen.len(),
        expected.len(),
        unexpected,
        dead_seen,
        expected_dead
    );
    let complete = seen.len() == expected.len() && unexpected == 0 && dead_seen == expected_dead;
    if !args.exit_when_done {
        println!(
            "The pipeline keeps running (Kafka {brokers}, Redis {redis_url}); Ctrl-C stops it."
        );
        tokio::signal::ctrl_c().await?;
    }
    stages.stop().await?;
    if !complete {
        bail!("the demo did not produce exactly the expected matches");
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports the demo list and returns its PDQ entry keys, by picture number.
async fn import_demo_list(store: &Store, list: &ListId) -> anyhow::Result<Vec<String>> {
    let mut meta = ListMeta::new(list.clone(), "demo list (generated pictures)");
    meta.severity = Severity::High;
    meta.labels = vec!["demo".into()];
    store.put_list(&meta).await?;
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let mut text = String::new();
    let mut keys = Vec::new();
    for n in 0..LISTED {
        let signals = computer.compute(&png(&listed_picture(n)), &[SignalType::Pdq])?;
        let hash = signals.pdq.context("PDQ of a demo picture")?.hash;
        text.push_str(&format!("pdq {hash}\n"));
        keys.push(format!("pdq:{hash}"));
    }
    text.push_str(&format!("text_regex {OUTLET_RULE}\n"));
    let records = formats::read(Format::Plain, Cursor::new(text.into_bytes()))?.records;
    let options = ImportOptions {
        actor: "demo".into(),
        ..ImportOptions::default()
    };
    store.import(list, records, &options).await?;
    Ok(keys)
}

fn shorten(entry: &str) -> String {
    if entry.len() > 28 {
        format!("{}…", &entry[..28])
    } else {
        entry.to_string()
    }
}
