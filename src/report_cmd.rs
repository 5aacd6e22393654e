//! `takedown report`: the compliance exports. Each command first archives the review
//! engine's ledger stream from Redis into the report directory's monthly files (unless
//! `--offline`), then reads only the files, so reports stay exact after cases are purged.
//!
//! The Transparency Database token is read from `TAKEDOWN_SOR_TOKEN` or from the file named by
//! `TAKEDOWN_SOR_TOKEN_FILE`, never from a flag.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use takedown_reports::dsa_csv::{DsaMeta, default_qualitative, write_dsa};
use takedown_reports::dsa_figures::DsaFigures;
use takedown_reports::event::Event;
use takedown_reports::ledger::{Ledger, archive, stream_key};
use takedown_reports::mapping::Mapping;
use takedown_reports::outbox::{ClientConfig, Outbox, submit};
use takedown_reports::period::Period;

/// Compliance exports: DSA and TCO transparency reports, statements of reasons.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The report directory (ledger files, statements outbox).
    #[arg(long, env = "TAKEDOWN_REPORTS_DIR", default_value = "reports")]
    pub dir: PathBuf,
    /// Redis URL (environment only: it may hold a password).
    #[arg(
        long,
        env = "TAKEDOWN_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// The review engine's key prefix in Redis.
    #[arg(long, env = "TAKEDOWN_REVIEW_PREFIX", default_value = "td:review")]
    pub prefix: String,
    /// Do not archive the Redis ledger stream first (read the files only).
    #[arg(long)]
    pub offline: bool,
    /// The category and statement mapping (TOML; see docs/reports.md).
    #[arg(long, env = "TAKEDOWN_REPORTS_MAPPING")]
    pub mapping: Option<PathBuf>,
    /// The provider's name in the reports.
    #[arg(
        long,
        env = "TAKEDOWN_PROVIDER_NAME",
        default_value = "the hosting service provider"
    )]
    pub provider: String,
    /// What to do.
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// The report commands.
#[derive(clap::Subcommand, Debug)]
pub enum ReportCommand {
    /// Move the ledger stream from Redis into the monthly files.
    Archive,
    /// The DSA transparency report: the Commission's CSV parts 1–8 and 11.
    Dsa {
        /// `YYYY-MM-DD/YYYY-MM-DD`, both days included.
        #[arg(long)]
        period: String,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// The service's name (the Service column).
        #[arg(long, default_value = "")]
        service: String,
        /// Date of publication (default: today).
        #[arg(long)]
        published: Option<String>,
        /// Date of the latest previous report.
        #[arg(long)]
        previous: Option<String>,
    },
    /// The TCO Art. 7 yearly report: HTML, JSON, CSV and case ids per figure.
    Tco {
        /// The calendar year.
        #[arg(long)]
        year: i32,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// DSA Art. 17 statements of reasons.
    #[command(subcommand)]
    Sor(SorCommand),
}

/// Statement-of-reasons commands.
#[derive(clap::Subcommand, Debug)]
pub enum SorCommand {
    /// Print the period's statements as JSON lines.
    Export {
        /// `YYYY-MM-DD/YYYY-MM-DD`.
        #[arg(long)]
        period: String,
    },
    /// Submit pending statements to the Transparency Database.
    Submit {
        /// The database's base URL (production or the sandbox given at onboarding).
        #[arg(
            long,
            env = "TAKEDOWN_SOR_BASE_URL",
            default_value = "https://transparency.dsa.ec.europa.eu"
        )]
        base_url: String,
        /// Statements per call (at most 100).
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Attempts per batch on 429 and 5xx.
        #[arg(long, default_value_t = 8)]
        max_attempts: u32,
        /// First backoff in milliseconds (doubles per attempt).
        #[arg(long, default_value_t = 500)]
        backoff_ms: u64,
    },
    /// Pending, stored and refused statements.
    Status,
    /// Queue a refused statement again.
    Retry {
        /// Its puid.
        puid: String,
    },
}

fn token() -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("TAKEDOWN_SOR_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok(t.trim().to_string());
    }
    if let Ok(path) = std::env::var("TAKEDOWN_SOR_TOKEN_FILE") {
        let t = std::fs::read_to_string(&path)
            .with_context(|| format!("reading TAKEDOWN_SOR_TOKEN_FILE {path}"))?;
        return Ok(t.trim().to_string());
    }
    bail!("no Transparency Database token: set TAKEDOWN_SOR_TOKEN or TAKEDOWN_SOR_TOKEN_FILE")
}

/// The mapping file at `path` (TOML), or the default mapping.
pub(crate) fn load_mapping(path: Option<&std::path::Path>) -> anyhow::Result<Mapping> {
    match path {
        None => Ok(Mapping::default()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}", p.display()))
        }
    }
}

fn date(s: &str, what: &str) -> anyhow::Result<time::Date> {
    Ok(Period::parse(&format!("{s}/{s}"))
        .with_context(|| format!("--{what}"))?
        .from)
}

/// Publishes the outbox's pending count for the review role's `takedown_sor_outbox_pending`
/// gauge (not with `--offline`); a failure is logged, the command's own result stands.
async fn publish_pending(
    conn: Option<&mut redis::aio::MultiplexedConnection>,
    prefix: &str,
    pending: u64,
) {
    let Some(conn) = conn else { return };
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    if let Err(e) = takedown_reports::pending::publish(conn, prefix, pending, now_ms).await {
        tracing::warn!(error = %e, "Publishing the statements outbox's pending count failed.");
    }
}

/// Runs a report command.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(args))
}

async fn run_async(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(&args.dir)?;
    let map = load_mapping(args.mapping.as_deref())?;
    // Parse periods before touching Redis: bad input fails fast.
    let period = match &args.command {
        ReportCommand::Dsa { period, .. } | ReportCommand::Sor(SorCommand::Export { period }) => {
            Some(Period::parse(period)?)
        }
        ReportCommand::Tco { year, .. } => Some(Period::year(*year)?),
        _ => None,
    };
    let mut redis_conn = None;
    if !args.offline {
        let client = redis::Client::open(args.redis_url.as_str())?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .context("connecting to Redis (or use --offline)")?;
        let done = archive(&mut conn, &stream_key(&args.prefix), &ledger).await?;
        if done.dead > 0 {
            tracing::warn!(
                dead = done.dead,
                "Ledger stream entries that are not events went to the dead-letter stream."
            );
        }
        if matches!(args.command, ReportCommand::Archive) {
            println!(
                "archived {} events ({} dead letters)",
                done.events, done.dead
            );
        }
        redis_conn = Some(conn);
    }
    match args.command {
        ReportCommand::Archive => {}
        ReportCommand::Dsa {
            out,
            service,
            published,
            previous,
            ..
        } => {
            let period = period.context("period")?;
            let mut figures = DsaFigures::default();
            let stats = ledger.scan(Some(&period), |e| figures.add(&map, e))?;
            let published = match published {
                Some(p) => date(&p, "published")?,
                None => time::OffsetDateTime::now_utc().date(),
            };
            let previous = previous.map(|p| date(&p, "previous")).transpose()?;
            let meta = DsaMeta {
                provider: args.provider.clone(),
                service,
                published,
                previous,
                qualitative: default_qualitative(),
            };
            let files = write_dsa(&out, &period, &figures, &meta)?;
            eprintln!(
                "{} events in {period}; wrote {} files to {}",
                stats.events,
                files.len(),
                out.display()
            );
        }
        ReportCommand::Tco { year, out } => {
            let r = takedown_reports::tco::write_tco(&ledger, year, &args.provider, &out)?;
            for f in &r.figures {
                eprintln!("({}) {}: {}", f.id, f.label, f.value);
            }
        }
        ReportCommand::Sor(SorCommand::Export { .. }) => {
            let period = period.context("period")?;
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut err = None;
            ledger.scan(Some(&period), |e| {
                if let Event::Decision(d) = e
                    && let Some(s) = takedown_reports::sor::statement(d, &map)
                    && let Err(e) = writeln!(out, "{s}")
                {
                    err.get_or_insert(e);
                }
            })?;
            if let Some(e) = err {
                return Err(e.into());
            }
            out.flush()?;
        }
        ReportCommand::Sor(SorCommand::Submit {
            base_url,
            batch,
            max_attempts,
            backoff_ms,
        }) => {
            let cfg = ClientConfig {
                base_url,
                token: token()?,
                batch,
                max_attempts,
                backoff: std::time::Duration::from_millis(backoff_ms),
            };
            let outbox = Outbox::open(&args.dir)?;
            // What the reports page queued again goes out with this run.
            if let Some(conn) = redis_conn.as_mut() {
                takedown_reports::pending::apply_retries(conn, &args.prefix, &outbox).await?;
            }
            let result = submit(&ledger, &map, &outbox, &cfg).await;
            // Whatever the run achieved, the review gauges learn what is left.
            let left = outbox.pending(&ledger, &map, |_| {})?;
            publish_pending(redis_conn.as_mut(), &args.prefix, left).await;
            let done = result?;
            println!(
                "stored {}, already stored {}, refused by the database {}, refused locally {}, retries {}",
                done.stored, done.duplicates, done.refused, done.refused_locally, done.retries
            );
            if done.refused + done.refused_locally > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        ReportCommand::Sor(SorCommand::Status) => {
            let outbox = Outbox::open(&args.dir)?;
            if let Some(conn) = redis_conn.as_mut() {
                takedown_reports::pending::apply_retries(conn, &args.prefix, &outbox).await?;
            }
            let s = outbox.status(&ledger, &map)?;
            publish_pending(redis_conn.as_mut(), &args.prefix, s.pending).await;
            println!(
                "pending {}\nstored {}\nrefused {}",
                s.pending,
                s.stored.len(),
                s.refused.len()
            );
            for (puid, errors, by) in &s.refused {
                println!("refused {puid} by {by}: {}", serde_json::to_string(errors)?);
            }
        }
        ReportCommand::Sor(SorCommand::Retry { puid }) => {
            if !Outbox::open(&args.dir)?.retry(&puid)? {
                bail!("{puid} is not a refused statement");
            }
            println!("{puid} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}
