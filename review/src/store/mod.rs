//! The review state in Redis, one module per aggregate.
//!
//! Cases are hashes; queues, leases and deadlines are sorted sets; the audit trail is a stream.
//! Every change is one Lua script, kept beside the Rust that runs it, so two moderators never
//! hold one case, a deadline fires once across replicas, and no change exists without its audit
//! entry. This file only declares the modules and re-exports their public types:
//! - [`handle`]: the store handle, its errors and options, case reads and the compare-and-set
//!   transition every aggregate writes through;
//! - [`cases`]: cases and the queue (matches, claims, decisions, suspension, the sweep);
//! - [`intake`]: removal orders, notices, complaints and Australian notices as received;
//! - [`outbox`]: takedown actions to publish and webhooks to deliver;
//! - [`feedback`]: reviewer feedback to the hash lists;
//! - [`holds`]: preservation, legal holds, embargo extension and purge;
//! - [`flaggers`]: the trusted-flagger registry;
//! - [`ledger`]: the report ledger's hooks (events for transparency reports);
//! - [`tokens`]: API tokens (stored hashed), their names and revocation;
//! - [`evidence`]: each case's captured evidence, the capture queue and retention schedule;
//! - [`queues`]: named queues: the routing configuration, each case's queue, claims and
//!   access by role;
//! - [`appeals`]: complaints as appeals: who may not decide them, what their page shows;
//! - [`qa`]: QA second reviews: the draw after a decision, the tasks, agreement rates.
//! - [`visibility`]: counts and case lists with the cases of queues a role may not see taken
//!   out.

pub mod appeals;
pub mod cases;
pub mod evidence;
pub mod feedback;
pub mod flaggers;
pub mod handle;
pub mod holds;
pub mod intake;
pub mod ledger;
pub mod outbox;
pub mod qa;
pub mod queues;
pub mod tokens;
pub mod visibility;

pub use cases::{Decided, MatchOutcome};
pub use handle::{CaseView, ReviewStore, StoreError, StoreOptions, deadline_member};
pub use intake::OrderRecord;
