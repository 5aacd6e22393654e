//! `takedown review`: serves the review API and runs this replica's sweeper.
//!
//! Configuration precedence is environment (`TAKEDOWN_*`) < flags; the Redis URL is read from
//! the environment so credentials in it never appear in argv.

use anyhow::Context;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use takedown_core::clock::SystemClock;
use takedown_review_ui::store::{ReviewStore, StoreOptions};
use takedown_review_ui::{api, sweeper};

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
}

/// Runs the review role until SIGINT/SIGTERM.
pub fn run(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ReviewArgs) -> anyhow::Result<()> {
    let sla = match &args.sla {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<takedown_review_ui::sla::SlaConfig>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
                .validated()?
        }
        None => Default::default(),
    };
    let opts = StoreOptions {
        prefix: args.prefix,
        lease: time::Duration::seconds(args.lease_secs),
        sla,
    };
    let store = ReviewStore::connect(&args.redis_url, opts, Arc::new(SystemClock))
        .await
        .context("connecting to Redis")?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(sweeper::run(
        store.clone(),
        std::time::Duration::from_millis(args.poll_ms),
        stop_rx,
    ));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    eprintln!("takedown review listening on {}", args.listen);
    axum::serve(listener, api::router(store))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop_tx.send(true);
        })
        .await?;
    sweeper.await??;
    Ok(())
}
