//! `takedown lists …`: manage shared hash lists in the Redis store.
//!
//! Every subcommand talks to the store named by `--redis-url` (or `TAKEDOWN_REDIS_URL`); keys
//! live under `--redis-prefix` so several deployments can share one Redis. Summaries go to
//! stdout as JSON so scripts can read them; progress and human notes go to stderr.

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use takedown_hashlists::formats::{self, Format, PageInfo};
use takedown_hashlists::model::{ListId, ListMeta, Severity, parse_entry_key};
use takedown_hashlists::store::{ImportOptions, Store, StoreError};
use takedown_hashlists::sync::{HttpOptions, Source, SyncOptions, sync};

/// Where the store is.
#[derive(Args, Debug)]
pub struct StoreArgs {
    /// Redis URL of the list store.
    #[arg(
        long,
        env = "TAKEDOWN_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379/",
        global = true
    )]
    pub redis_url: String,
    /// Prefix of every Redis key Takedown writes.
    #[arg(
        long,
        env = "TAKEDOWN_REDIS_PREFIX",
        default_value = "td",
        global = true
    )]
    pub redis_prefix: String,
}

/// Arguments of `takedown lists`.
#[derive(Args, Debug)]
pub struct ListsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: ListsCommand,
}

/// Metadata flags shared by `create` and `import`.
#[derive(Args, Debug)]
struct MetaArgs {
    /// Human name (default: the id).
    #[arg(long)]
    name: Option<String>,
    /// Where the list comes from (gifct, tat, local, …).
    #[arg(long, default_value = "local")]
    source: String,
    /// Largest PDQ distance that matches.
    #[arg(long, default_value_t = takedown_hashlists::model::DEFAULT_PDQ_THRESHOLD)]
    threshold: u32,
    /// Severity of a match: low, medium, high, critical.
    #[arg(long, default_value = "medium")]
    severity: Severity,
    /// Labels for every match on the list (repeatable).
    #[arg(long = "label")]
    labels: Vec<String>,
    /// `block` (matches are reported) or `allow` (known-benign: suppresses matches).
    #[arg(long, default_value = "block")]
    kind: takedown_hashlists::model::ListKind,
    /// The PDQ convention of the list's hashes: `reference` (512x512 pre-resize, Meta's C++
    /// tool, `takedown hash`) or `full_size` (python-threatexchange, HMA). Default: full_size
    /// for a list created by importing plain, csv, tat or te, or with --source tat, gifct,
    /// te, threatexchange, hma or pytx; reference otherwise.
    #[arg(long)]
    pdq_convention: Option<takedown_core::PdqConvention>,
    /// Video (vPDQ) entries: minimum percent of a posted video's frames that must match.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    vpdq_query_match_percent: u8,
    /// Video (vPDQ) entries: minimum percent of the listed video's frames that must match.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    vpdq_compared_match_percent: u8,
}

impl MetaArgs {
    /// The metadata of a new list, whose convention defaults to `default_convention`.
    fn meta_with(&self, id: ListId, default_convention: takedown_core::PdqConvention) -> ListMeta {
        ListMeta {
            pdq_convention: self.pdq_convention.unwrap_or(default_convention),
            ..self.meta(id)
        }
    }

    fn meta(&self, id: ListId) -> ListMeta {
        let shared = ["tat", "gifct", "te", "threatexchange", "hma", "pytx"];
        let default_convention = if shared.contains(&self.source.to_ascii_lowercase().as_str()) {
            takedown_core::PdqConvention::FullSize
        } else {
            takedown_core::PdqConvention::Reference
        };
        ListMeta {
            pdq_convention: self.pdq_convention.unwrap_or(default_convention),
            name: self.name.clone().unwrap_or_else(|| id.to_string()),
            id,
            source: self.source.clone(),
            threshold: self.threshold,
            severity: self.severity,
            labels: self.labels.clone(),
            kind: self.kind,
            vpdq: takedown_hashlists::model::VpdqListThresholds {
                query_match_percent: self.vpdq_query_match_percent,
                compared_match_percent: self.vpdq_compared_match_percent,
            },
        }
    }
}

#[derive(Subcommand, Debug)]
enum ListsCommand {
    /// Create a list, or update its metadata.
    Create {
        /// The list id.
        list: String,
        #[command(flatten)]
        meta: MetaArgs,
    },
    /// Import a file into a list (created if missing); all or nothing unless --skip-invalid.
    Import {
        /// The list id.
        list: String,
        /// The file's format: plain, csv, tat, te, jsonl, hma (an HMA 1.x state file
        /// `simple.<TYPE>.te`, its type taken from the file name).
        #[arg(long)]
        format: Format,
        /// The signal type of a plain file's bare hashes (lines without a type).
        #[arg(long)]
        signal_type: Option<takedown_core::SignalType>,
        /// Import the valid records even if some are invalid.
        #[arg(long)]
        skip_invalid: bool,
        /// The file is the whole list: delete entries it does not have.
        #[arg(long)]
        replace: bool,
        /// Longest line of a line format (plain, csv, jsonl), in bytes; a longer line is an
        /// invalid record.
        #[arg(long, default_value_t = formats::MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// Who imports (recorded with the version).
        #[arg(long, env = "USER", default_value = "cli")]
        actor: String,
        #[command(flatten)]
        meta: MetaArgs,
        /// The file.
        file: PathBuf,
    },
    /// Export a list's current entries.
    Export {
        /// The list id.
        list: String,
        /// Output format: plain, csv, tat, te, jsonl, hma (HMA 1.x state files: --out names
        /// a directory, which gets one `simple.<TYPE>.te` per signal type).
        #[arg(long)]
        format: Format,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List every list with its version and size.
    Ls,
    /// Show a list's metadata, state and recent versions.
    Show {
        /// The list id.
        list: String,
        /// How many recent versions to show.
        #[arg(long, default_value_t = 10)]
        versions: u64,
    },
    /// Print the changes between two versions as JSON lines.
    Diff {
        /// The list id.
        list: String,
        /// The older version.
        #[arg(long)]
        from: u64,
        /// The newer version (default: current).
        #[arg(long)]
        to: Option<u64>,
    },
    /// Disable an entry (a false positive) so it stops matching.
    Disable {
        /// The list id.
        list: String,
        /// The entry key, `<signal_type>:<hex>`.
        entry: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who.
        #[arg(long, env = "USER", default_value = "cli")]
        actor: String,
        /// Re-enable after this many days (default: for good).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Pull a list from its source (file:PATH, dir:PATH, or an http(s) URL of TAT pages).
    Sync {
        /// The list id.
        list: String,
        /// The source.
        #[arg(long)]
        source: String,
        /// Format of file and directory sources.
        #[arg(long, default_value = "tat")]
        format: Format,
        /// Bearer token for HTTP sources (from the environment only, never argv).
        #[arg(skip = std::env::var("TAKEDOWN_SYNC_TOKEN").ok())]
        token: Option<String>,
        /// Skip invalid records instead of failing the page.
        #[arg(long)]
        skip_invalid: bool,
        /// Allow a plain http:// source on a loopback host (a local mirror, tests). Otherwise
        /// HTTP sources must be https://; the token never goes anywhere else.
        #[arg(long)]
        allow_insecure_loopback: bool,
        /// Largest page accepted from an HTTP source, in bytes.
        #[arg(long, default_value_t = formats::MAX_DOCUMENT_BYTES)]
        max_page_bytes: u64,
        /// Who syncs.
        #[arg(long, env = "USER", default_value = "cli")]
        actor: String,
    },
}

fn list_id(text: &str) -> anyhow::Result<ListId> {
    ListId::parse(text).map_err(|e| anyhow!(e.0))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Runs `takedown lists …`.
pub fn run(args: ListsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: ListsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&args.store.redis_url, &args.store.redis_prefix)
        .await
        .context("connecting to the list store")?;
    match args.command {
        ListsCommand::Create { list, meta } => {
            let meta = meta.meta(list_id(&list)?);
            store.put_list(&meta).await?;
            print_json(&meta)?;
        }
        ListsCommand::Import {
            list,
            format,
            signal_type,
            skip_invalid,
            replace,
            max_line_bytes,
            actor,
            meta,
            file,
        } => {
            let id = list_id(&list)?;
            let created = match store.meta(&id).await {
                Ok(_) => false,
                Err(StoreError::NoSuchList(_)) => {
                    let convention = format.default_pdq_convention();
                    store
                        .put_list(&meta.meta_with(id.clone(), convention))
                        .await?;
                    true
                }
                Err(e) => return Err(e.into()),
            };
            let handle = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = if std::io::stderr().is_terminal() {
                let bar = ProgressBar::new(size);
                bar.set_style(ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )?);
                bar
            } else {
                ProgressBar::hidden()
            };
            let (signal_type, video) = match (format, signal_type) {
                (Format::Hma, None) => {
                    let name = file.file_name().map(|n| n.to_string_lossy().to_string());
                    let name = name.unwrap_or_default();
                    let (t, video) =
                        formats::hma::type_from_file_name(&name).map_err(|e| anyhow!(e.0))?;
                    (Some(t), video)
                }
                (_, given) => (given, false),
            };
            let limits = formats::ReadOptions {
                max_line_bytes,
                signal_type,
                video,
                ..formats::ReadOptions::default()
            };
            let parsed =
                formats::read_with(format, BufReader::new(progress.wrap_read(handle)), limits)
                    .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let options = ImportOptions {
                skip_invalid,
                replace,
                actor,
                checkpoint: None,
            };
            let result = store.import(&id, parsed.records, &options).await;
            progress.finish_and_clear();
            if created && result.is_err() {
                // A failed import into a new list leaves no list behind.
                store.remove_if_unused(&id).await?;
            }
            match result {
                Ok(summary) => {
                    for e in &summary.errors {
                        eprintln!("{}: {e} (skipped)", file.display());
                    }
                    for w in &summary.warnings {
                        eprintln!("{}: warning: {w}", file.display());
                    }
                    print_json(&summary)?;
                }
                Err(StoreError::Invalid { invalid, errors }) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    if invalid as usize > errors.len() {
                        eprintln!("… and {} more", invalid as usize - errors.len());
                    }
                    bail!(
                        "{invalid} invalid record(s) in {}; nothing was imported (use --skip-invalid to import the rest)",
                        file.display()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        ListsCommand::Export { list, format, out } => {
            let id = list_id(&list)?;
            let state = store.state(&id).await?;
            let (version, entries) = store.snapshot(&id).await?;
            // The checkpoint of the list's source, if it has one (a TAT export names its own
            // from the entries; the list version is no source checkpoint).
            let page = PageInfo {
                checkpoint: state.checkpoint.clone(),
                next: None,
                count: Some(entries.len() as u64),
            };
            if format == Format::Hma {
                let dir = out.ok_or_else(|| anyhow!("--format hma needs --out DIR"))?;
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let mut names: Vec<String> = entries.iter().map(formats::hma::file_name).collect();
                names.sort();
                names.dedup();
                for name in names {
                    let path = dir.join(&name);
                    let mut sink = std::io::BufWriter::new(
                        std::fs::File::create(&path)
                            .with_context(|| format!("creating {}", path.display()))?,
                    );
                    let of_type = entries
                        .iter()
                        .filter(|e| formats::hma::file_name(e) == name);
                    formats::write(format, of_type, &mut sink, &page)?;
                    sink.flush()?;
                }
                eprintln!(
                    "exported {} entries of {} at version {version}",
                    entries.len(),
                    id
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            formats::write(format, entries.iter(), &mut sink, &page)?;
            sink.flush()?;
            eprintln!(
                "exported {} entries of {} at version {version}",
                entries.len(),
                state.meta.id
            );
        }
        ListsCommand::Ls => {
            for id in store.list_ids().await? {
                let s = store.state(&id).await?;
                print_json(&serde_json::json!({
                    "id": s.meta.id, "name": s.meta.name, "source": s.meta.source,
                    "version": s.version, "entries": s.entries, "checkpoint": s.checkpoint,
                    "threshold": s.meta.threshold, "severity": s.meta.severity,
                }))?;
            }
        }
        ListsCommand::Show { list, versions } => {
            let id = list_id(&list)?;
            let state = store.state(&id).await?;
            let recent = store
                .versions(
                    &id,
                    state.version.saturating_sub(versions) + 1,
                    state.version,
                )
                .await?;
            print_json(&serde_json::json!({ "state": state, "versions": recent }))?;
        }
        ListsCommand::Diff { list, from, to } => {
            let id = list_id(&list)?;
            let to = match to {
                Some(t) => t,
                None => store.version(&id).await?,
            };
            for (version, changes) in store.changes(&id, from, to).await? {
                for change in changes {
                    print_json(&serde_json::json!({ "version": version, "change": change }))?;
                }
            }
        }
        ListsCommand::Disable {
            list,
            entry,
            reason,
            actor,
            days,
        } => {
            let id = list_id(&list)?;
            let (t, v) = parse_entry_key(&entry).map_err(|e| anyhow!(e.0))?;
            let key = takedown_hashlists::model::entry_key(t, &v);
            let until =
                days.map(|d| takedown_hashlists::store::now_ms() + i64::from(d) * 86_400_000);
            let version = store.disable(&id, &key, &reason, &actor, until).await?;
            print_json(&serde_json::json!({ "list": id, "entry": key, "version": version }))?;
        }
        ListsCommand::Sync {
            list,
            source,
            format,
            token,
            skip_invalid,
            allow_insecure_loopback,
            max_page_bytes,
            actor,
        } => {
            let id = list_id(&list)?;
            let source = Source::parse(&source, format, token)
                .map_err(|e| anyhow!(e))?
                .with_http_options(HttpOptions {
                    allow_insecure_loopback,
                    max_page_bytes,
                    ..HttpOptions::default()
                });
            let options = SyncOptions {
                skip_invalid,
                max_pages: None,
            };
            let summary = sync(&store, &id, &source, &actor, &options).await?;
            print_json(&summary)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
