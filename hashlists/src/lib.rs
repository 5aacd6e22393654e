//! Shared hash lists: import, validation, versioning and sync.
//!
//! Platforms receive hashes of known terrorist content from GIFCT (through ThreatExchange), Tech
//! Against Terrorism and HMA exports, and keep lists of their own. This crate turns those formats
//! into validated, versioned lists in Redis that matchers follow:
//! - [`model`]: lists, entries, changes;
//! - [`formats`]: the file formats, with per-record errors naming line or JSON path;
//! - [`store`]: the versioned Redis store (atomic versions, change log, curation, feedback);
//! - [`sync`]: pulling lists from sources with checkpoints and a per-list lock;
//! - [`checkpoint`]: the order of source checkpoints (`1704085200,124` after `…,99`);
//! - [`follow`]: how a matcher learns of new versions and loads a list cold.

pub mod checkpoint;
pub mod follow;
pub mod formats;
mod key_filter;
pub mod model;
pub mod store;
pub mod sync;
mod vpdq_value;

pub use model::{Change, Entry, ListId, ListMeta, Severity};
