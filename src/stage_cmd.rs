//! `takedown ingest` and `takedown match`: the streaming roles.
//!
//! Settings come from a TOML file (`--config`), overridden by `TAKEDOWN_*` environment
//! variables, overridden by flags; the file rejects unknown keys so a typo is an error, not a
//! silently ignored setting. Each role serves `/metrics`, `/livez` and `/readyz`, and on SIGTERM
//! or Ctrl-C stops taking messages, finishes what it has, commits, and exits.

use anyhow::{Context, anyhow};
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use takedown_hashlists::store::{Store, StoreError};
use takedown_ingest::fetch::{Cidr, FetchPolicy};
use takedown_ingest::ingest_stage::{IngestConfig, IngestStage};
use takedown_ingest::list_feed::{ListSink, follow_until_loaded};
use takedown_ingest::match_stage::{MatchStage, Matcher};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::pdq_conventions::PdqConventions;
use takedown_ingest::runner::{self, RunnerConfig};
use takedown_ingest::text_rules::TextRules;
use takedown_matcher::PreResize;

/// The settings file: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    brokers: Option<String>,
    group_id: Option<String>,
    input_topic: Option<String>,
    output_topic: Option<String>,
    metrics_addr: Option<SocketAddr>,
    max_in_flight: Option<usize>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    allow_fetch: Option<Vec<String>>,
    allow_ip_literals: Option<bool>,
    max_media_bytes: Option<usize>,
    max_video_bytes: Option<usize>,
    fetch_timeout_ms: Option<u64>,
    video_fetch_timeout_ms: Option<u64>,
    pdq_full_size: Option<bool>,
    session_timeout_ms: Option<u32>,
    text_rules: Option<bool>,
}

/// Flags (and their environment variables) of the streaming roles.
#[derive(Args, Debug)]
pub struct StageArgs {
    /// TOML settings file (flags and environment override it).
    #[arg(long, env = "TAKEDOWN_CONFIG")]
    config: Option<PathBuf>,
    /// Kafka bootstrap servers.
    #[arg(long, env = "TAKEDOWN_BROKERS", hide_env_values = true)]
    brokers: Option<String>,
    /// Consumer group id (default: takedown-<role>).
    #[arg(long, env = "TAKEDOWN_GROUP_ID")]
    group_id: Option<String>,
    /// Input topic (default: posts for ingest, post-signals for match).
    #[arg(long, env = "TAKEDOWN_INPUT_TOPIC")]
    input_topic: Option<String>,
    /// Output topic (default: post-signals for ingest, matches for match).
    #[arg(long, env = "TAKEDOWN_OUTPUT_TOPIC")]
    output_topic: Option<String>,
    /// Address of /metrics, /livez and /readyz (default 127.0.0.1:9464).
    #[arg(long, env = "TAKEDOWN_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Messages processed at once (default 64).
    #[arg(long, env = "TAKEDOWN_MAX_IN_FLIGHT")]
    max_in_flight: Option<usize>,
    /// Redis URL of the list store (match, and ingest for text rules).
    #[arg(long, env = "TAKEDOWN_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Prefix of the list store's keys (match, and ingest for text rules).
    #[arg(long, env = "TAKEDOWN_REDIS_PREFIX")]
    redis_prefix: Option<String>,
    /// Address ranges media may be fetched from although not public (ingest; repeatable or
    /// comma-separated, e.g. an internal CDN), each with an optional port:
    /// `10.0.0.0/8:8080`, `[fd00::]/8:443`, `:*` for any port; without one, 80 and 443 only.
    #[arg(long, env = "TAKEDOWN_ALLOW_FETCH", value_delimiter = ',')]
    allow_fetch: Vec<String>,
    /// Allow media URLs that name hosts by IP address (ingest).
    #[arg(long, env = "TAKEDOWN_ALLOW_IP_LITERALS")]
    allow_ip_literals: Option<bool>,
    /// Largest media item, in bytes (ingest, default 50 MiB).
    #[arg(long, env = "TAKEDOWN_MAX_MEDIA_BYTES")]
    max_media_bytes: Option<usize>,
    /// Largest video, in bytes (ingest, default 512 MiB): fetched media whose first bytes are
    /// a video container may be this large, and so may the file handed to FFmpeg.
    #[arg(long, env = "TAKEDOWN_MAX_VIDEO_BYTES")]
    max_video_bytes: Option<usize>,
    /// Deadline of one whole fetch (connect, redirects, headers, body, retries), in ms
    /// (ingest, default 10000).
    #[arg(long, env = "TAKEDOWN_FETCH_TIMEOUT_MS")]
    fetch_timeout_ms: Option<u64>,
    /// The same deadline when the body is a video (sniffed from its first bytes), in ms
    /// (ingest, default 120000); connecting and retries stay within --fetch-timeout-ms.
    #[arg(long, env = "TAKEDOWN_VIDEO_FETCH_TIMEOUT_MS")]
    video_fetch_timeout_ms: Option<u64>,
    /// Hash large images at full size (pytx/HMA convention) instead of the 512×512 pre-resize
    /// when the loaded lists do not decide: ingest follows each list's PDQ convention, and
    /// this one applies with no list loaded, and as the first of two when both are in use.
    #[arg(long, env = "TAKEDOWN_PDQ_FULL_SIZE")]
    pdq_full_size: Option<bool>,
    /// Kafka consumer session timeout, in ms (default 10000).
    #[arg(long, env = "TAKEDOWN_SESSION_TIMEOUT_MS")]
    session_timeout_ms: Option<u32>,
    /// Apply the lists' text rules to post text (ingest, default true; needs the list store).
    #[arg(long, env = "TAKEDOWN_TEXT_RULES")]
    text_rules: Option<bool>,
    /// A file of librdkafka properties (`key=value` lines: `security.protocol`, `sasl.*`,
    /// `ssl.*`) for every Kafka client of the role: how to reach a broker over TLS or SASL.
    #[arg(long, env = "TAKEDOWN_KAFKA_PROPERTIES_FILE")]
    kafka_properties_file: Option<PathBuf>,
}

/// Settings after merging file, environment and flags.
#[derive(Debug)]
struct Settings {
    brokers: String,
    group_id: String,
    input_topic: String,
    output_topic: String,
    metrics_addr: SocketAddr,
    max_in_flight: usize,
    redis_url: String,
    redis_prefix: String,
    allow_fetch: Vec<Cidr>,
    allow_ip_literals: bool,
    max_media_bytes: usize,
    max_video_bytes: usize,
    fetch_timeout: Duration,
    video_fetch_timeout: Duration,
    pdq_full_size: bool,
    session_timeout_ms: u32,
    text_rules: bool,
    kafka_properties: Vec<(String, String)>,
}

/// Which streaming role.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// Posts to signals.
    Ingest,
    /// Signals to matches.
    Match,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Match => "match",
        }
    }
}

fn resolve(args: StageArgs, role: Role) -> anyhow::Result<Settings> {
    let file: FileSettings = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?
        }
        None => FileSettings::default(),
    };
    let (input, output) = match role {
        Role::Ingest => ("posts", "post-signals"),
        Role::Match => ("post-signals", "matches"),
    };
    let allow = if args.allow_fetch.is_empty() {
        file.allow_fetch.unwrap_or_default()
    } else {
        args.allow_fetch
    };
    Ok(Settings {
        brokers: args
            .brokers
            .or(file.brokers)
            .unwrap_or_else(|| "127.0.0.1:9092".into()),
        group_id: args
            .group_id
            .or(file.group_id)
            .unwrap_or_else(|| format!("takedown-{}", role.name())),
        input_topic: args
            .input_topic
            .or(file.input_topic)
            .unwrap_or_else(|| input.into()),
        output_topic: args
            .output_topic
            .or(file.output_topic)
            .unwrap_or_else(|| output.into()),
        metrics_addr: args
            .metrics_addr
            .or(file.metrics_addr)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9464))),
        max_in_flight: args.max_in_flight.or(file.max_in_flight).unwrap_or(64),
        redis_url: args
            .redis_url
            .or(file.redis_url)
            .unwrap_or_else(|| "redis://127.0.0.1:6379/".into()),
        redis_prefix: args
            .redis_prefix
            .or(file.redis_prefix)
            .unwrap_or_else(|| "td".into()),
        allow_fetch: allow
            .iter()
            .map(|c| Cidr::parse(c).map_err(|e| anyhow!("allow_fetch: {e}")))
            .collect::<anyhow::Result<_>>()?,
        allow_ip_literals: args
            .allow_ip_literals
            .or(file.allow_ip_literals)
            .unwrap_or(false),
        max_media_bytes: args
            .max_media_bytes
            .or(file.max_media_bytes)
            .unwrap_or(50 * 1024 * 1024),
        max_video_bytes: args
            .max_video_bytes
            .or(file.max_video_bytes)
            .unwrap_or(takedown_video::VideoLimits::default().max_bytes as usize),
        fetch_timeout: Duration::from_millis(
            args.fetch_timeout_ms
                .or(file.fetch_timeout_ms)
                .unwrap_or(10_000),
        ),
        video_fetch_timeout: Duration::from_millis(
            args.video_fetch_timeout_ms
                .or(file.video_fetch_timeout_ms)
                .unwrap_or(120_000),
        ),
        pdq_full_size: args.pdq_full_size.or(file.pdq_full_size).unwrap_or(false),
        session_timeout_ms: args
            .session_timeout_ms
            .or(file.session_timeout_ms)
            .unwrap_or(10_000),
        text_rules: args.text_rules.or(file.text_rules).unwrap_or(true),
        kafka_properties: crate::kafka_props::load(args.kafka_properties_file.as_deref())?,
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("Shutdown requested; draining in-flight messages.");
}

/// Loads every list into `sink` and keeps it current in the background. Processing messages
/// before the lists are loaded would miss matches, so this returns only once they are.
async fn follow_lists<S: ListSink>(
    s: &Settings,
    sink: S,
    metrics: &Arc<StageMetrics>,
) -> anyhow::Result<tokio::task::JoinHandle<Result<(), StoreError>>> {
    let store = Store::connect(&s.redis_url, &s.redis_prefix)
        .await
        .context("connecting to the list store")?;
    follow_until_loaded(sink, store, Duration::from_secs(30), metrics.clone())
        .await
        .context("loading the lists")
}

/// Runs a streaming role until SIGTERM.
pub fn run(args: StageArgs, role: Role) -> anyhow::Result<ExitCode> {
    let settings = resolve(args, role)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(settings, role))?;
    Ok(ExitCode::SUCCESS)
}

async fn run_async(s: Settings, role: Role) -> anyhow::Result<()> {
    let metrics = StageMetrics::new(role.name());
    let listener = tokio::net::TcpListener::bind(s.metrics_addr)
        .await
        .with_context(|| format!("binding the metrics address {}", s.metrics_addr))?;
    let router = crate::health::router(&metrics);
    tokio::spawn(crate::serve::serve(
        listener,
        router,
        std::future::pending(),
    ));
    tracing::info!(
        role = role.name(),
        input = %s.input_topic,
        output = %s.output_topic,
        metrics = %s.metrics_addr,
        "Starting."
    );
    let mut config = RunnerConfig::new(&s.brokers, &s.group_id, &s.input_topic);
    config.max_in_flight = s.max_in_flight;
    config.consumer_settings = vec![(
        "session.timeout.ms".into(),
        s.session_timeout_ms.to_string(),
    )];
    config
        .consumer_settings
        .extend(s.kafka_properties.iter().cloned());
    config.producer_settings = s.kafka_properties.clone();
    match role {
        Role::Ingest => {
            let mut ingest = IngestConfig::new(&s.output_topic);
            ingest.limits.max_input_bytes = s.max_media_bytes;
            ingest.video.vpdq.limits.max_bytes = s.max_video_bytes as u64;
            ingest.pre_resize = if s.pdq_full_size {
                PreResize::FullSize
            } else {
                PreResize::Reference
            };
            ingest.fetch = FetchPolicy {
                allow: s.allow_fetch.clone(),
                allow_ip_literals: s.allow_ip_literals,
                max_bytes: s.max_media_bytes,
                max_video_bytes: s.max_video_bytes,
                total_timeout: s.fetch_timeout,
                video_total_timeout: s.video_fetch_timeout,
                ..FetchPolicy::default()
            };
            let mut stage = IngestStage::new(ingest, metrics.clone())?;
            let follow = if s.text_rules {
                let rules = TextRules::default();
                let conventions = PdqConventions::default();
                let follow =
                    follow_lists(&s, (rules.clone(), conventions.clone()), &metrics).await?;
                tracing::info!(rules = rules.len(), "Text rules loaded.");
                stage = stage
                    .with_text_rules(rules)
                    .with_pdq_conventions(conventions);
                Some(follow)
            } else {
                None
            };
            runner::run(config, Arc::new(stage), metrics, shutdown_signal()).await?;
            if let Some(follow) = follow {
                follow.abort();
            }
        }
        Role::Match => {
            let matcher = Matcher::default();
            let follow = follow_lists(&s, matcher.clone(), &metrics).await?;
            tracing::info!("Lists loaded.");
            let stage = Arc::new(MatchStage::new(matcher, &s.output_topic));
            runner::run(config, stage, metrics, shutdown_signal()).await?;
            follow.abort();
        }
    }
    tracing::info!("Stopped cleanly.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: StageArgs,
    }

    #[test]
    fn flags_override_the_file_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("takedown.toml");
        std::fs::write(
            &path,
            "brokers = \"file:1\"\ninput_topic = \"from-file\"\nmax_in_flight = 8\n",
        )
        .unwrap();
        let w = Wrapper::parse_from([
            "x",
            "--config",
            path.to_str().unwrap(),
            "--brokers",
            "flag:2",
        ]);
        let s = resolve(w.args, Role::Ingest).unwrap();
        assert_eq!(
            (s.brokers.as_str(), s.input_topic.as_str(), s.max_in_flight),
            ("flag:2", "from-file", 8)
        );
        assert_eq!(s.output_topic, "post-signals");

        std::fs::write(&path, "brokerz = \"typo\"\n").unwrap();
        let w = Wrapper::parse_from(["x", "--config", path.to_str().unwrap()]);
        let err = resolve(w.args, Role::Match).unwrap_err().to_string();
        assert!(err.contains("brokerz"), "{err}");
    }
}
