//! `takedown review`: serves the review API and the moderator web UI and runs this replica's
//! sweeper, its `matches` consumer and its outbox publisher; `takedown review tokens add`
//! issues API tokens, `takedown users add` UI accounts, and `takedown audit verify` checks
//! the audit chain. `takedown demo` runs the same role in its own process through
//! [`serve_on`].
//!
//! Configuration precedence is environment (`TAKEDOWN_*`) < flags; the Redis URL is read from
//! the environment so credentials in it never appear in argv, and the webhook secret is read
//! from the environment only (`TAKEDOWN_WEBHOOK_SECRET`), never from a flag.

use anyhow::Context;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use takedown_core::clock::SystemClock;
use takedown_review::actions::{Publisher, PublisherConfig, Secret, WebhookConfig};
use takedown_review::intake_stage::MatchIntake;
use takedown_review::model::Role;
use takedown_review::store::{ReviewStore, StoreOptions};
use takedown_review::{audit, sweeper};
use takedown_review_ui::{api, web};

/// Serve the review queue, SLA engine and HTTP API.
#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    /// Address to listen on.
    #[arg(long, env = "TAKEDOWN_REVIEW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Redis URL (environment only: it may hold a password).
    #[arg(
        long,
        env = "TAKEDOWN_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Key prefix in Redis.
    #[arg(long, env = "TAKEDOWN_REVIEW_PREFIX", default_value = "td:review")]
    pub prefix: String,
    /// Claim lease, in seconds.
    #[arg(long, env = "TAKEDOWN_REVIEW_LEASE_SECS", default_value_t = 600)]
    pub lease_secs: i64,
    /// Longest the sweeper sleeps between passes, in milliseconds.
    #[arg(long, env = "TAKEDOWN_REVIEW_POLL_MS", default_value_t = 500)]
    pub poll_ms: u64,
    /// SLA profiles as a JSON file (`{"notice": {"enabled": true, "due_after": "36h"}}`);
    /// classes not named keep their legal defaults.
    #[arg(long, env = "TAKEDOWN_REVIEW_SLA")]
    pub sla: Option<std::path::PathBuf>,
    /// Kafka bootstrap servers; without them no matches are consumed and no takedown
    /// actions are published (they wait in the Redis outbox).
    #[arg(long, env = "TAKEDOWN_BROKERS", hide_env_values = true)]
    pub brokers: Option<String>,
    /// A file of librdkafka properties (`key=value` lines: `security.protocol`, `sasl.*`,
    /// `ssl.*`) for the matches consumer and the takedowns producer (TLS or SASL brokers).
    #[arg(long, env = "TAKEDOWN_KAFKA_PROPERTIES_FILE")]
    pub kafka_properties_file: Option<std::path::PathBuf>,
    /// Topic of matches to turn into cases (dead letters go to `<topic>.dlq`).
    #[arg(long, env = "TAKEDOWN_MATCHES_TOPIC", default_value = "matches")]
    pub matches_topic: String,
    /// Topic takedown actions are published to.
    #[arg(long, env = "TAKEDOWN_TAKEDOWNS_TOPIC", default_value = "takedowns")]
    pub takedowns_topic: String,
    /// Consumer group of the matches consumer.
    #[arg(long, env = "TAKEDOWN_GROUP_ID", default_value = "takedown-review")]
    pub group_id: String,
    /// Kafka consumer session timeout, in ms.
    #[arg(long, env = "TAKEDOWN_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
    /// Address of the consumer's /metrics, /livez and /readyz (off when not given).
    #[arg(long, env = "TAKEDOWN_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// URL takedown actions are also POSTed to, signed with HMAC-SHA256 under the secret in
    /// `TAKEDOWN_WEBHOOK_SECRET` (environment only).
    #[arg(long, env = "TAKEDOWN_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<String>,
    /// Key prefix of the hash-list store that receives reviewer feedback.
    #[arg(long, env = "TAKEDOWN_REDIS_PREFIX", default_value = "td")]
    pub lists_prefix: String,
    /// The provider's name in Annex II replies.
    #[arg(
        long,
        env = "TAKEDOWN_PROVIDER_NAME",
        default_value = "the hosting service provider"
    )]
    pub provider_name: String,
    /// Most URLs one removal order may name (each opens a one-hour case); larger orders get
    /// a 422 asking the authority to split them.
    #[arg(long, env = "TAKEDOWN_MAX_ORDER_URLS", default_value_t = 1_000)]
    pub max_order_urls: usize,
    /// The evidence store, its retention and the capture fetcher's limits.
    #[command(flatten)]
    pub evidence: crate::evidence_cmd::EvidenceSettings,
    /// The report directory of the `takedown report` jobs (ledger files, statements outbox),
    /// shown on the UI's reports page; without it the page is off.
    #[arg(long, env = "TAKEDOWN_REPORTS_DIR")]
    pub reports_dir: Option<std::path::PathBuf>,
    /// The reports' category and statement mapping (TOML; see docs/reports.md).
    #[arg(long, env = "TAKEDOWN_REPORTS_MAPPING")]
    pub reports_mapping: Option<std::path::PathBuf>,
    /// A tool instead of the server.
    #[command(subcommand)]
    pub command: Option<ReviewCommand>,
}

/// Tools of the review role.
#[derive(clap::Subcommand, Debug)]
pub enum ReviewCommand {
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// API token tools.
#[derive(clap::Subcommand, Debug)]
pub enum TokensCommand {
    /// Issue a token; it is printed once and only its SHA-256 is stored.
    Add {
        /// Account, authority or trusted-flagger account name.
        #[arg(long)]
        name: String,
        /// moderator, senior_moderator, legal, admin, auditor, authority_client,
        /// trusted_flagger or platform.
        #[arg(long)]
        role: Role,
    },
    /// Delete every token of a name; requests with them are refused from the next one on.
    Revoke {
        /// The token name.
        name: String,
    },
}

/// Where the review store is, for the one-shot tools (`audit`, `users`).
#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// Redis URL (environment only: it may hold a password).
    #[arg(
        long,
        env = "TAKEDOWN_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379",
        global = true
    )]
    pub redis_url: String,
    /// Key prefix of the review store.
    #[arg(
        long,
        env = "TAKEDOWN_REVIEW_PREFIX",
        default_value = "td:review",
        global = true
    )]
    pub prefix: String,
}

impl StoreArgs {
    async fn connect(self) -> anyhow::Result<ReviewStore> {
        let opts = StoreOptions {
            prefix: self.prefix,
            ..StoreOptions::default()
        };
        ReviewStore::connect(&self.redis_url, opts, Arc::new(SystemClock))
            .await
            .context("connecting to Redis")
    }
}

/// Check the audit trail.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
    /// Where the review store is.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Audit tools.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming each altered, missing or inserted entry.
    Verify,
}

/// Manage the web UI's local accounts.
#[derive(clap::Args, Debug)]
pub struct UsersArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UsersCommand,
    /// Where the review store is.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Account tools.
#[derive(clap::Subcommand, Debug)]
pub enum UsersCommand {
    /// Add an account, or reset its role and password. The password (at least 12
    /// characters) comes from `TAKEDOWN_USER_PASSWORD` or the first line of standard input,
    /// never from the command line; only its argon2id hash is stored.
    Add {
        /// Account name (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        name: String,
        /// moderator, senior_moderator, legal, admin or auditor.
        #[arg(long)]
        role: Role,
    },
    /// Disable an account: it cannot log in, and its sessions end at their next request.
    Disable {
        /// Account name.
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// Account name.
        name: String,
    },
    /// Change an account's role; its sessions end at their next request.
    SetRole {
        /// Account name.
        name: String,
        /// moderator, senior_moderator, legal, admin or auditor.
        #[arg(long)]
        role: Role,
    },
}

/// Reads the new account's password from the environment or standard input (without echo
/// on a terminal).
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if let Ok(pw) = std::env::var("TAKEDOWN_USER_PASSWORD") {
        return Ok(pw);
    }
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    if tty {
        eprint!("Password (not shown): ");
        let _ = stty("-echo");
    }
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if tty {
        let _ = stty("echo");
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs `takedown users`.
pub fn run_users(args: UsersArgs) -> anyhow::Result<ExitCode> {
    let password = match &args.command {
        UsersCommand::Add { .. } => Some(read_password()?),
        _ => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = args.store.connect().await?;
        match args.command {
            UsersCommand::Add { name, role } => {
                web::add_user(&store, &name, role, &password.unwrap_or_default(), "cli")
                    .await
                    .with_context(|| format!("adding account {name}"))?;
                eprintln!("Account {name} ({role:?}) saved.");
            }
            UsersCommand::Disable { name } => {
                web::set_disabled(&store, &name, true, "cli")
                    .await
                    .with_context(|| format!("disabling account {name}"))?;
                eprintln!("Account {name} disabled; its sessions are over.");
            }
            UsersCommand::Enable { name } => {
                web::set_disabled(&store, &name, false, "cli")
                    .await
                    .with_context(|| format!("enabling account {name}"))?;
                eprintln!("Account {name} enabled.");
            }
            UsersCommand::SetRole { name, role } => {
                web::set_role(&store, &name, role, "cli")
                    .await
                    .with_context(|| format!("changing the role of {name}"))?;
                eprintln!("Account {name} is now {role:?}; its sessions are over.");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `takedown audit`.
pub fn run_audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = args.store.connect().await?;
        match args.command {
            AuditCommand::Verify => {
                let v = audit::verify(&store)
                    .await
                    .context("reading the audit trail")?;
                let head = audit::head(&store).await?;
                println!(
                    "{} entries: {} sealed and intact, {} not sealed yet; head {}",
                    v.entries,
                    v.sealed_ok,
                    v.unsealed,
                    head.map_or("none".to_string(), |(id, hash)| format!("{id} {hash}"))
                );
                if v.ok() {
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!("audit trail TAMPERED: {} problem(s)", v.problems.len());
                for p in &v.problems {
                    eprintln!("  {p}");
                }
                Ok(ExitCode::from(1))
            }
        }
    })
}

/// Runs the review role until SIGINT/SIGTERM.
pub fn run(mut args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match args.command.take() {
        Some(ReviewCommand::Tokens(TokensCommand::Add { name, role })) => {
            runtime.block_on(async {
                let store = connect(&args).await?;
                let token = api::add_token(&store, &name, role).await?;
                eprintln!("Token for {name} ({role:?}); it is shown once and stored only hashed:");
                println!("{token}");
                anyhow::Ok(())
            })?;
        }
        Some(ReviewCommand::Tokens(TokensCommand::Revoke { name })) => {
            let gone = runtime.block_on(async {
                let store = connect(&args).await?;
                anyhow::Ok(takedown_review::store::tokens::revoke(&store, &name).await?)
            })?;
            eprintln!("Revoked {gone} token(s) of {name}.");
            if gone == 0 {
                return Ok(ExitCode::from(1));
            }
        }
        None => runtime.block_on(serve(args))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the review store `args` describe (prefix, lease, SLA profiles).
pub async fn connect(args: &ReviewArgs) -> anyhow::Result<ReviewStore> {
    let sla = match &args.sla {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<takedown_review::sla::SlaConfig>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
                .validated()?
        }
        None => Default::default(),
    };
    let opts = StoreOptions {
        prefix: args.prefix.clone(),
        lease: time::Duration::seconds(args.lease_secs),
        sla,
    };
    ReviewStore::connect(&args.redis_url, opts, Arc::new(SystemClock))
        .await
        .context("connecting to Redis")
}

async fn serve(args: ReviewArgs) -> anyhow::Result<()> {
    let store = connect(&args).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    serve_on(&args, store, listener, shutdown_signal()).await
}

/// Runs a review replica until `shutdown` completes: the sweeper; with `args.brokers`, the
/// `matches` consumer and the outbox publisher; and the API with the moderator UI on
/// `listener` (`args.listen` is not bound again). Then it stops the background tasks and
/// waits for them. `takedown review` and `takedown demo` both run the role through here.
pub async fn serve_on(
    args: &ReviewArgs,
    store: ReviewStore,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let webhook = match &args.webhook_url {
        Some(url) => {
            let secret = Secret::from_env("TAKEDOWN_WEBHOOK_SECRET")
                .context("--webhook-url needs the HMAC secret in TAKEDOWN_WEBHOOK_SECRET")?;
            Some(WebhookConfig::new(url, secret))
        }
        None => None,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let evidence_metrics = takedown_review::evidence::EvidenceMetrics::new();
    let worker = args.evidence.worker(&store, evidence_metrics.clone())?;
    let evidence_task = tokio::spawn(worker.clone().run(
        std::time::Duration::from_millis(args.poll_ms),
        stop_rx.clone(),
    ));
    let sweeper = tokio::spawn(sweeper::run(
        store.clone(),
        std::time::Duration::from_millis(args.poll_ms),
        stop_rx.clone(),
    ));
    let mut kafka_tasks = Vec::new();
    match &args.brokers {
        Some(brokers) => {
            let lists =
                takedown_hashlists::store::Store::connect(&args.redis_url, &args.lists_prefix)
                    .await
                    .context("connecting to the hash-list store for reviewer feedback")?;
            let kafka_properties = crate::kafka_props::load(args.kafka_properties_file.as_deref())?;
            let mut config = PublisherConfig::new(brokers, &args.takedowns_topic);
            config.webhook = webhook;
            config.producer_settings = kafka_properties.clone();
            let publisher = Publisher::new(store.clone(), config, Some(lists))?;
            kafka_tasks.push(tokio::spawn(publisher.run(stop_rx.clone())));

            let metrics = takedown_ingest::metrics::StageMetrics::new("review");
            if let Some(addr) = args.metrics_addr {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics address {addr}"))?;
                let mut gauges = crate::review_gauges::ReviewGauges::default();
                if let Some(dir) = &args.reports_dir {
                    let mapping = crate::report_cmd::load_mapping(args.reports_mapping.as_deref())?;
                    gauges = gauges.with_reports(dir, mapping);
                }
                let gauges = Arc::new(gauges);
                let (poller, polled, stopped) = (gauges.clone(), store.clone(), stop_rx.clone());
                kafka_tasks.push(tokio::spawn(
                    async move { poller.run(polled, stopped).await },
                ));
                let m = evidence_metrics.clone();
                // The evidence counters have no end marker; the gauges' one ends the text.
                let extra: crate::health::Extra =
                    Arc::new(move || format!("{}{}", m.render(), gauges.render()));
                let router = crate::health::router_with(&metrics, Some(extra));
                tokio::spawn(crate::serve::serve(
                    listener,
                    router,
                    std::future::pending(),
                ));
            }
            let mut rc = takedown_ingest::runner::RunnerConfig::new(
                brokers,
                &args.group_id,
                &args.matches_topic,
            );
            rc.consumer_settings = vec![(
                "session.timeout.ms".into(),
                args.session_timeout_ms.to_string(),
            )];
            rc.consumer_settings
                .extend(kafka_properties.iter().cloned());
            rc.producer_settings = kafka_properties;
            let stage = Arc::new(MatchIntake::new(store.clone()));
            let mut stopped = stop_rx.clone();
            kafka_tasks.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.changed().await;
                };
                if let Err(e) = takedown_ingest::runner::run(rc, stage, metrics, shutdown).await {
                    tracing::error!("The matches consumer stopped: {e}.");
                }
            }));
        }
        None => {
            if webhook.is_some() {
                anyhow::bail!(
                    "--webhook-url needs --brokers: actions reach the webhook after Kafka"
                );
            }
            tracing::warn!(
                "No --brokers: matches are not consumed and takedown actions stay in the outbox."
            );
        }
    }
    let addr = listener
        .local_addr()
        .context("reading the listen address")?;
    tracing::info!(listen = %addr, "Review API listening.");
    let options = api::ApiOptions {
        provider_name: args.provider_name.clone(),
        order_limits: takedown_review::order::OrderLimits {
            max_urls: args.max_order_urls,
            ..Default::default()
        },
        evidence: Some(worker.clone()),
    };
    // The moderator UI beside the API; its list-entry pages curate the same hash lists.
    let lists = takedown_hashlists::store::Store::connect(&args.redis_url, &args.lists_prefix)
        .await
        .context("connecting to the hash-list store for the UI's list pages")?;
    let reports = match &args.reports_dir {
        None => None,
        Some(dir) => Some(web::ReportsConfig {
            dir: dir.clone(),
            mapping: crate::report_cmd::load_mapping(args.reports_mapping.as_deref())?,
            provider: args.provider_name.clone(),
        }),
    };
    let ui = web::WebConfig {
        lists: Some(lists),
        evidence: Some(worker.evidence().clone()),
        reports,
        ..web::WebConfig::default()
    };
    let app = api::router_with(store.clone(), options).merge(web::router(store, ui));
    // The peer address is the login throttle's source: `serve` gives every request its
    // `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` did.
    crate::serve::serve(listener, app, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    })
    .await?;
    for task in kafka_tasks {
        task.await?;
    }
    sweeper.await??;
    evidence_task.await?;
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
