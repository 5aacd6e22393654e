//! Takedown: find terrorist content in public posts and remove it within legal deadlines.
//!
//! One binary, many roles; each role is a subcommand. This library holds the command
//! implementations so that tests can drive them without a process where that is simpler.

pub mod bench_cmd;
pub mod bench_pipeline;
pub mod bench_reports;
pub mod bench_vpdq;
pub mod cli;
pub mod compare_cmd;
pub mod demo_cmd;
pub mod evidence_cmd;
pub mod hash_cmd;
pub mod health;
pub mod kafka_props;
pub mod lists_cmd;
pub mod local;
pub mod report_cmd;
pub mod review_cmd;
pub mod review_gauges;
pub mod serve;
pub mod stage_cmd;
