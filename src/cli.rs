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
    /// Import, export, inspect, curate and sync shared hash lists.
    Lists(crate::lists_cmd::ListsArgs),
}

/// Runs a parsed command line; the exit code says whether every item succeeded.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Hash(args) => crate::hash_cmd::run(&args),
        Command::Lists(args) => crate::lists_cmd::run(args),
    }
}
