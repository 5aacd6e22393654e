//! Compliance exports: what a compliance officer must file, computed from a ledger that
//! outlives the cases it counts.
//!
//! - [`event`]: the events a report counts, without personal data.
//! - [`ledger`]: where they are kept (a Redis stream drained into monthly JSON-lines files).
//! - [`period`]: reporting periods.
//! - [`mapping`]: the configurable mappings the law leaves open (categories, content types,
//!   sources).
//! - [`stats`]: medians, hours, ratios and number formats.
//! - [`dsa_figures`] and [`dsa_csv`]: the DSA transparency report (Commission CSV parts).
//! - [`sor`] and [`validate`]: DSA Art. 17 statements of reasons and the Transparency
//!   Database's field rules; [`outbox`]: their durable, idempotent submission.
//! - [`tco`]: the TCO Art. 7 yearly transparency report.
//! - [`monthly`]: month-by-month removals and times to action (the reports page's charts).
//! - [`pending`]: the outbox's pending count in Redis (the review role's gauge);
//!   [`pending_count`]: that count kept up to date incrementally (the review role's tick).
//!
//! See `docs/reports.md`.

pub mod dsa_csv;
pub mod dsa_figures;
pub mod event;
pub mod ledger;
pub mod mapping;
pub mod monthly;
pub mod outbox;
pub mod pending;
pub mod pending_count;
pub mod period;
pub mod sor;
pub mod stats;
pub mod tco;
pub mod validate;
