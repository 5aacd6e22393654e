//! `takedown evidence …` and the evidence set-up of the review role: opening the store (a
//! missing key stops the start, nothing is ever stored unencrypted) and the capture worker's
//! fetcher (ingest's SSRF guard with the same limits).

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use takedown_core::clock::SystemClock;
use takedown_evidence::retention::RetentionPolicy;
use takedown_evidence::{EvidenceStore, Keyring, Location};
use takedown_ingest::fetch::{Cidr, FetchPolicy, Fetcher};
use takedown_review::evidence::{EvidenceMetrics, EvidenceWorker};
use takedown_review::store::{ReviewStore, StoreOptions};

/// The evidence settings of the review role.
#[derive(clap::Args, Debug, Clone)]
pub struct EvidenceSettings {
    /// The evidence store: `file:///absolute/dir` or `s3://bucket/prefix` (S3 credentials,
    /// region and endpoint from the `AWS_*` environment). Objects are encrypted with the key(s)
    /// in `TAKEDOWN_EVIDENCE_KEY` or the file `TAKEDOWN_EVIDENCE_KEY_FILE` names (required).
    #[arg(
        long,
        env = "TAKEDOWN_EVIDENCE_URL",
        hide_env_values = true,
        default_value = "file:///var/lib/takedown/evidence"
    )]
    pub evidence_url: String,
    /// Days the evidence of cases decided "not terrorist content" is kept (unless held).
    #[arg(
        long,
        env = "TAKEDOWN_EVIDENCE_NOT_TERRORIST_DAYS",
        default_value_t = 30
    )]
    pub evidence_not_terrorist_days: i64,
    /// Address ranges evidence may be fetched from although not public, as for ingest's
    /// `--allow-fetch` (`10.0.0.0/8:8080`, `:*` for any port).
    #[arg(long, env = "TAKEDOWN_ALLOW_FETCH", value_delimiter = ',')]
    pub allow_fetch: Vec<String>,
    /// Allow evidence URLs that name hosts by IP address.
    #[arg(long, env = "TAKEDOWN_ALLOW_IP_LITERALS", default_value_t = false)]
    pub allow_ip_literals: bool,
    /// Keys given by the caller instead of the environment (the demo's random key).
    #[arg(skip)]
    pub evidence_keys: Option<Keyring>,
}

impl EvidenceSettings {
    /// Opens the evidence store: keys from [`EvidenceSettings::evidence_keys`] or else the
    /// environment.
    pub fn open(&self) -> anyhow::Result<EvidenceStore> {
        let location = Location::parse(&self.evidence_url)?;
        let keys = match &self.evidence_keys {
            Some(keys) => keys.clone(),
            None => Keyring::from_env()?,
        };
        EvidenceStore::open(&location, keys).context("opening the evidence store")
    }

    /// The review role's capture worker over `store`.
    pub fn worker(
        &self,
        store: &ReviewStore,
        metrics: Arc<EvidenceMetrics>,
    ) -> anyhow::Result<EvidenceWorker> {
        let evidence = self.open()?;
        let allow = self
            .allow_fetch
            .iter()
            .map(|c| Cidr::parse(c).map_err(|e| anyhow::anyhow!("--allow-fetch: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let fetcher = Fetcher::new(FetchPolicy {
            allow,
            allow_ip_literals: self.allow_ip_literals,
            ..FetchPolicy::default()
        })
        .context("building the evidence fetcher")?;
        anyhow::ensure!(
            self.evidence_not_terrorist_days > 0,
            "--evidence-not-terrorist-days must be at least 1"
        );
        let policy = RetentionPolicy {
            not_terrorist: time::Duration::days(self.evidence_not_terrorist_days),
        };
        Ok(EvidenceWorker::new(
            store.clone(),
            evidence,
            fetcher,
            policy,
            metrics,
        ))
    }
}

/// Evidence tools.
#[derive(clap::Args, Debug)]
pub struct EvidenceArgs {
    /// Redis URL of the review store (environment only: it may hold a password).
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
    /// The evidence store (see `takedown review --help`); keys from `TAKEDOWN_EVIDENCE_KEY`
    /// or `TAKEDOWN_EVIDENCE_KEY_FILE`.
    #[arg(
        long,
        env = "TAKEDOWN_EVIDENCE_URL",
        hide_env_values = true,
        default_value = "file:///var/lib/takedown/evidence",
        global = true
    )]
    pub evidence_url: String,
    /// The hosting service provider's name, for the Annex II reply in a package.
    #[arg(
        long,
        env = "TAKEDOWN_PROVIDER_NAME",
        default_value = "the hosting service provider",
        global = true
    )]
    pub provider_name: String,
    /// What to do.
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

/// The evidence tools.
#[derive(clap::Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Write a case's evidence package (originals, hashes, post context, audit entries with
    /// their chain hashes, Annex I) as one tar archive for an authority.
    Export {
        /// The case.
        case_id: String,
        /// The archive to write (refused if it exists).
        #[arg(long)]
        out: PathBuf,
        /// Who asks for it, recorded in the audit trail.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

/// Runs `takedown evidence …`.
pub fn run(args: EvidenceArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        match args.command {
            EvidenceCommand::Export {
                case_id,
                out,
                actor,
            } => {
                let evidence = EvidenceStore::from_url_and_env(&args.evidence_url)
                    .context("opening the evidence store")?;
                let opts = StoreOptions {
                    prefix: args.prefix,
                    ..StoreOptions::default()
                };
                let store = ReviewStore::connect(&args.redis_url, opts, Arc::new(SystemClock))
                    .await
                    .context("connecting to Redis")?;
                let tar = takedown_review::evidence_package::build(
                    &store,
                    &evidence,
                    &case_id,
                    &actor,
                    &args.provider_name,
                )
                .await
                .with_context(|| format!("building the evidence package of {case_id}"))?;
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                file.write_all(&tar)
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("writing {}", out.display()))?;
                eprintln!(
                    "Wrote the evidence package of {case_id} to {} ({} bytes).",
                    out.display(),
                    tar.len()
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
