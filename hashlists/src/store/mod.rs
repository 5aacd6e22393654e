//! The versioned hash-list store in Redis.
//!
//! A list is metadata, a hash of current entries, a change log and a version. Writers (imports,
//! syncs, curation) hold the list's lock, stage their changes in the change log under the next
//! version number, and then commit: one Lua script checks the lock and the expected version,
//! moves the version (and the sync checkpoint, never backwards) forward, records what the version
//! did, and publishes it. Only after that are the staged changes applied to the entries hash
//! ("materialised", by a script inside Redis). Readers therefore never see half an import:
//! - matchers follow the change log up to the committed version;
//! - a cold reader scans the entries hash and replays the log from the materialised version to
//!   the committed one (changes are whole-entry upserts and deletes, so replay is idempotent).
//!
//! Beside the log, a writer keeps a staging hash of the latest state of each key it staged, so
//! a later record of the same import compares with what an earlier one staged. When the list
//! was empty (the initial load of a large list), the staging hash is the new entries hash: the
//! commit script renames it into place, so the entries are written once, not copied from the
//! log afterwards.
//!
//! A writer that dies leaves staged log entries above the committed version and a staging hash
//! (invisible, removed by the next writer) or a committed version not yet materialised
//! (finished by the next writer, and replayed by readers meanwhile). Nothing committed is lost
//! and nothing uncommitted shows.
//!
//! Keys share the hash tag `{<list id>}` so one list lives in one Redis Cluster slot.
//!
//! The parts, each beside the Lua it runs:
//! - `handle`: the [`Store`] handle, [`StoreError`], key names and shared helpers;
//! - `lease`: the write lock and sync lease ([`Lease`]);
//! - `lists`: creating, reading and removing lists ([`ListState`]);
//! - `reader`: what followers read: versions ([`VersionInfo`]), the change log, snapshots;
//! - `materialize`: applying committed versions to the entries hash;
//! - `writer`: staging and commit ([`Writer`], [`Store::import`]);
//! - `curation`: disable, expire disablements, reviewer feedback ([`Verdict`], [`Feedback`]);
//! - `search`: entries by key prefix and label, a bounded page at a time, in one list or
//!   all ([`EntryQuery`], [`Store::search_all_lists`]).

mod curation;
mod handle;
mod lease;
mod lists;
mod materialize;
mod reader;
mod search;
mod writer;

pub use curation::{Feedback, Verdict};
pub use handle::{Store, StoreError, now_ms};
pub use lease::Lease;
pub use lists::ListState;
pub use reader::{VersionEvent, VersionInfo};
pub use search::{AllCursor, AllPage, EntryPage, EntryQuery};
pub use writer::{ImportOptions, ImportSummary, Writer};
