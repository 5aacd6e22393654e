//! Command-line interface: the subcommands and their dispatch.
//!
//! Configuration precedence is file < `TAKEDOWN_*` environment < flags; flags that have an
//! environment form say so in `--help`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Find and remove terrorist content within legal deadlines.
#[derive(Parser, Debug)]
#[command(name = "takedown", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The roles and tools of the binary.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compute signals (PDQ, MD5, SHA-256, dHash, pHash) of image files, one record per file.
    Hash(crate::hash_cmd::HashArgs),
    /// Compare two images or videos (or their hash files): PDQ distance, vPDQ match percentages.
    Compare(crate::compare_cmd::CompareArgs),
    /// Import, export, inspect, curate and sync shared hash lists.
    Lists(crate::lists_cmd::ListsArgs),
    /// Consume posts, fetch and hash their media, produce post signals.
    Ingest(crate::stage_cmd::StageArgs),
    /// Consume post signals, match them against the lists, produce matches.
    Match(crate::stage_cmd::StageArgs),
    /// Serve the review API: cases, queue, legal deadlines, removal orders, audit.
    Review(Box<crate::review_cmd::ReviewArgs>),
    /// Check the review audit trail's hash chain.
    Audit(crate::review_cmd::AuditArgs),
    /// Manage the moderator web UI's accounts.
    Users(crate::review_cmd::UsersArgs),
    /// Compliance exports: DSA and TCO transparency reports, DSA statements of reasons.
    Report(crate::report_cmd::ReportArgs),
    /// Evidence tools: the evidence package of a case for an authority.
    Evidence(crate::evidence_cmd::EvidenceArgs),
    /// Run the whole pipeline on this machine with generated demo content.
    Demo(crate::demo_cmd::DemoArgs),
    /// Measure Takedown's parts.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// The benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Build the PDQ index from a hash file, run queries, check recall against brute force.
    Match(crate::bench_cmd::BenchMatchArgs),
    /// Write a reproducible realistic data set (entries and queries) for `bench match`.
    GenHashes(crate::bench_cmd::BenchGenArgs),
    /// Posts with inline JPEGs through broker, ingest and match: throughput and latency.
    Pipeline(crate::bench_pipeline::BenchPipelineArgs),
    /// The DSA and TCO reports over a generated year of decisions: time and peak memory.
    Reports(crate::bench_reports::BenchReportsArgs),
    /// Statements of reasons submitted to the local Transparency Database stand-in.
    Sor(crate::bench_reports::BenchSorArgs),
    /// vPDQ: hash a 60 s video (beside Meta's binding if set up) and match against 6M frames.
    Vpdq(crate::bench_vpdq::BenchVpdqArgs),
}

/// Sets up logging to stderr: JSON when `TAKEDOWN_LOG_FORMAT=json` (production), text
/// otherwise; the level from `TAKEDOWN_LOG` (default `info`). Log lines carry ids and codes,
/// never media bytes, post text or secrets.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TAKEDOWN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("TAKEDOWN_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Runs a parsed command line; the exit code says whether every item succeeded.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Hash(args) => crate::hash_cmd::run(&args),
        Command::Compare(args) => crate::compare_cmd::run(&args),
        Command::Lists(args) => crate::lists_cmd::run(args),
        Command::Ingest(args) => crate::stage_cmd::run(args, crate::stage_cmd::Role::Ingest),
        Command::Match(args) => crate::stage_cmd::run(args, crate::stage_cmd::Role::Match),
        Command::Review(args) => crate::review_cmd::run(*args),
        Command::Audit(args) => crate::review_cmd::run_audit(args),
        Command::Users(args) => crate::review_cmd::run_users(args),
        Command::Report(args) => crate::report_cmd::run(args),
        Command::Demo(args) => crate::demo_cmd::run(args),
        Command::Bench(BenchCommand::Reports(args)) => crate::bench_reports::run_reports(&args),
        Command::Bench(BenchCommand::Sor(args)) => crate::bench_reports::run_sor(&args),
        Command::Evidence(args) => crate::evidence_cmd::run(args),
        Command::Bench(BenchCommand::Pipeline(args)) => {
            crate::bench_pipeline::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Match(args)) => {
            crate::bench_cmd::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Vpdq(args)) => {
            crate::bench_vpdq::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::GenHashes(args)) => {
            crate::bench_cmd::run_gen(&args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
