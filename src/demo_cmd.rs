//! `takedown demo`: the whole pipeline on this machine, with generated content.
//!
//! A newcomer's first command. It starts Redis and a broker, imports a demo list (generated
//! pictures and one text rule), runs the ingest and match stages and the review role (the
//! same wiring as `takedown review`: matches consumer, sweeper, outbox publisher, API and
//! moderator UI), creates a demo admin account with a random password printed once, files a
//! demo removal order, posts a mix of copies of the listed pictures (re-encoded, resized),
//! unrelated pictures, a post linking to the listed outlet and a truncated image, and prints
//! each match as it arrives, then a summary that says whether exactly the expected matches
//! came out and became cases. The media of each post is stored for the case page, where it
//! shows blurred until revealed.

use crate::local::{Services, Stages, Topics, jpeg, picture, png, post_json};
use crate::review_cmd::{self, ReviewArgs};
use anyhow::{Context, anyhow, bail};
use rand::distr::{Alphanumeric, SampleString};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::HashSet;
use std::io::Cursor;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use takedown_core::SignalType;
use takedown_core::messages::{Match, match_id};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta, Severity};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};
use takedown_review::model::{Role, derive_id};
use takedown_review::order::parse_order;
use takedown_review::store::{ReviewStore, StoreError};
use takedown_review_ui::web;

/// The demo list's text rule: links to a made-up outlet.
const OUTLET_RULE: &str = r"https?://outlet\.example/\S+";
/// Pictures on the demo list.
const LISTED: u64 = 8;
/// The demo's UI account (role admin: it may open every page and decide).
const ACCOUNT: &str = "demo";
/// The platform name on demo posts, part of each case id.
const PLATFORM: &str = "demo";

/// Run a local pipeline with demo content.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Number of demo posts.
    #[arg(long, default_value_t = 40)]
    pub posts: usize,
    /// Exit after the summary instead of running until Ctrl-C.
    #[arg(long)]
    pub exit_when_done: bool,
    /// Address of the moderator UI and review API (default: a free loopback port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub ui_addr: SocketAddr,
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
    // The demo's evidence lives in a directory of its own under a random key, removed at exit.
    let evidence_dir =
        std::env::temp_dir().join(format!("takedown-demo-evidence-{}", std::process::id()));
    let review_args = review_args(&args, &brokers, &redis_url, &topics, &evidence_dir);
    services
        .broker
        .create_topic(&review_args.takedowns_topic, 2)
        .await
        .context("creating the takedowns topic")?;

    let store = Store::connect(&redis_url, &review_args.lists_prefix).await?;
    let list = ListId::parse("demo").expect("valid list id");
    let entries = import_demo_list(&store, &list).await?;
    println!(
        "Imported list `demo`: {LISTED} generated pictures (PDQ) and the text rule {OUTLET_RULE:?}."
    );

    let stages = Stages::start(&brokers, &redis_url, "td", &topics, "demo").await?;
    let review = Review::start(review_args).await?;
    let order_url = format!("https://platform.example/p/{}", post_id(0));
    file_removal_order(&review.store, &order_url).await?;
    println!(
        "Ingest, match and review running; a demo removal order for {order_url} is due in 1 hour."
    );
    // The one place the password appears: the store keeps only its argon2id hash.
    println!(
        "Moderator UI  {}  account {ACCOUNT}  password {}  (shown once)",
        review.url, review.password
    );
    println!("Posting {} posts…", args.posts);

    let matches: StreamConsumer = services.broker.consumer_config("demo-reader").create()?;
    matches.subscribe(&[&topics.matches])?;
    let dead: StreamConsumer = services.broker.consumer_config("demo-dlq").create()?;
    dead.subscribe(&[&format!("{}.dlq", topics.posts)])?;

    let producer: FutureProducer = services.broker.producer_config().create()?;
    let mut expected = HashSet::new();
    let mut expected_cases = HashSet::new();
    let mut expected_dead = 0;
    let mut pushed = Vec::new();
    for i in 0..args.posts {
        let id = post_id(i);
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
                expected_cases.insert(case_id(&id, "text"));
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
        if let Kind::Reencoded(_) | Kind::Resized(_) = kind(i) {
            // What the platform's adapter would do: keep a copy of the matched media for
            // review. Stored before posting, so the case page has it from the start.
            let case = case_id(&id, "m1");
            pushed.push((case.clone(), media.clone()));
            expected_cases.insert(case);
        }
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
    let cases = wait_for_cases(&review.store, &expected_cases, deadline).await?;
    // What the platform's adapter would do for inline media: push a copy of the matched
    // media, which the case page then shows as a blurred preview until revealed.
    for (case, media) in pushed {
        if let Err(e) = review
            .evidence
            .push(&case, "demo-platform", Some("image/jpeg"), media)
            .await
        {
            println!("  could not store the media of {case}: {e}");
        }
    }
    println!(
        "Summary: {} posts; {} of {} expected matches, {} unexpected; {} of {} expected dead letters; {} of {} expected cases from matches.",
        args.posts,
        seen.len(),
        expected.len(),
        unexpected,
        dead_seen,
        expected_dead,
        cases,
        expected_cases.len(),
    );
    let complete = seen.len() == expected.len()
        && unexpected == 0
        && dead_seen == expected_dead
        && cases == expected_cases.len();
    if !args.exit_when_done {
        println!(
            "The pipeline keeps running (Kafka {brokers}, Redis {redis_url}, moderator UI {}); Ctrl-C stops it.",
            review.url
        );
        tokio::signal::ctrl_c().await?;
    }
    review.stop().await?;
    stages.stop().await?;
    let _ = std::fs::remove_dir_all(&evidence_dir);
    if !complete {
        bail!("the demo did not produce exactly the expected matches and cases");
    }
    Ok(ExitCode::SUCCESS)
}

fn post_id(i: usize) -> String {
    format!("post-{i:03}")
}

/// The id of the case a match on `post`'s `media` opens (the store derives it the same way).
fn case_id(post: &str, media: &str) -> String {
    derive_id("m", &[PLATFORM, post, media])
}

/// The review role's settings in the demo: its Redis and broker, its own consumer group, a
/// short session timeout, no webhook.
fn review_args(
    args: &DemoArgs,
    brokers: &str,
    redis_url: &str,
    topics: &Topics,
    evidence_dir: &std::path::Path,
) -> ReviewArgs {
    ReviewArgs {
        listen: args.ui_addr,
        redis_url: redis_url.to_string(),
        prefix: "td:review".into(),
        lease_secs: 600,
        poll_ms: 500,
        sla: None,
        brokers: Some(brokers.to_string()),
        kafka_properties_file: None,
        matches_topic: topics.matches.clone(),
        takedowns_topic: "takedowns".into(),
        group_id: "demo-review".into(),
        session_timeout_ms: 6_000,
        metrics_addr: None,
        webhook_url: None,
        lists_prefix: "td".into(),
        provider_name: "the demo platform".into(),
        max_order_urls: 1_000,
        evidence: crate::evidence_cmd::EvidenceSettings {
            evidence_url: format!("file://{}", evidence_dir.display()),
            evidence_not_terrorist_days: 30,
            allow_fetch: Vec::new(),
            allow_ip_literals: false,
            evidence_keys: Some(takedown_evidence::Keyring::random()),
        },
        reports_dir: None,
        reports_mapping: None,
        command: None,
    }
}

/// The review role running in this process, with the demo account.
struct Review {
    store: ReviewStore,
    /// Pushes media as the platform would.
    evidence: takedown_review::evidence::EvidenceWorker,
    /// The UI's address, as a URL.
    url: String,
    /// The demo account's password (random, printed once).
    password: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Review {
    /// Opens the store, adds the demo account and serves the role on `args.listen`.
    async fn start(args: ReviewArgs) -> anyhow::Result<Review> {
        let store = review_cmd::connect(&args).await?;
        let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
        web::add_user(&store, ACCOUNT, Role::Admin, &password, "demo")
            .await
            .context("adding the demo account")?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding the UI address {}", args.listen))?;
        let url = format!("http://{}/", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let evidence = args
            .evidence
            .worker(&store, takedown_review::evidence::EvidenceMetrics::new())?;
        let served = store.clone();
        let task =
            tokio::spawn(
                async move { review_cmd::serve_on(&args, served, listener, shutdown).await },
            );
        Ok(Review {
            store,
            evidence,
            url,
            password,
            stop,
            task,
        })
    }

    /// Stops serving and waits for the consumer, publisher and sweeper to finish.
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| anyhow!("review task: {e}"))?
            .context("the review role")
    }
}

/// Files a removal order from a demo authority for `url`, received now: its case heads the
/// queue with the one-hour countdown.
async fn file_removal_order(store: &ReviewStore, url: &str) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    let issued_at = now
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting now")?;
    let body = serde_json::json!({
        "section_a": {
            "issuing_member_state": "FR",
            "issuing_authority": "Demo authority (generated)",
            "addressee": "Demo platform",
            "contact_point": "tco@platform.example",
            "member_state_of_establishment": "IE",
            "issued_at": issued_at,
            "reference": "DEMO-1",
        },
        "section_b": {
            "urls": [url],
            "grounds": ["art2_7_a"],
            "reasons": "demo order: the post is a generated picture",
        },
        "section_c": {"do_not_inform": false},
    })
    .to_string();
    let order = parse_order(body.as_bytes())
        .map_err(|errors| anyhow!("the demo order is invalid: {errors:?}"))?;
    store
        .receive_order(body.as_bytes(), order, "demo-authority", now)
        .await
        .context("filing the demo removal order")?;
    Ok(())
}

/// Waits until every case in `ids` exists (the review role's matches consumer writes them)
/// or `deadline` passes; returns how many exist.
async fn wait_for_cases(
    store: &ReviewStore,
    ids: &HashSet<String>,
    deadline: tokio::time::Instant,
) -> anyhow::Result<usize> {
    loop {
        let mut found = 0;
        for id in ids {
            match store.case(id).await {
                Ok(_) => found += 1,
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e).context("reading a case"),
            }
        }
        if found == ids.len() || tokio::time::Instant::now() >= deadline {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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
