//! The review engine: human review of what the pipeline found and what authorities ordered,
//! under the deadlines the law sets. It serves no HTTP: the JSON API and the moderator web UI
//! are `takedown-review-ui`, on top of this crate.
//!
//! - [`sla`]: the legal clocks as pure functions of an injected [`takedown_core::clock::Clock`]
//!   (removal order one hour, Annex III suspension and restart, embargo, complaints,
//!   preservation).
//! - [`model`]: cases, sources, priorities, decisions, takedown actions, roles.
//! - [`field`]: the field-named validation error every intake parser returns.
//! - [`order`]: TCO removal orders (Annex I validation, Annex II and III replies).
//! - [`annexes`]: the Annex II reply and Annex III draft of a stored order.
//! - [`store`]: the Redis state, one module per aggregate: cases and the queue, intake records,
//!   outbox and webhooks, feedback, holds and purge, the flagger registry.
//! - [`audit`]: the append-only, hash-chained audit trail and its verification.
//! - [`intake`]: DSA notices and complaints, validated field by field.
//! - [`flaggers`]: the registry of DSA Art. 22 trusted flaggers that decides which notices are
//!   trusted, with per-flagger counts for transparency reports.
//! - [`au_notice`]: Australian removal notices (Online Safety Act 2021 s109/s110).
//! - [`intake_stage`]: the `matches` consumer (a stage of the ingest crate's Kafka runner).
//! - [`actions`]: publishing takedown actions to Kafka (and an optional webhook), reviewer
//!   feedback to the hash lists.
//! - [`sweeper`]: the task that fires deadlines as they fall due.
//! - [`evidence`]: capturing each case's media into the evidence store, pushed media, and
//!   purging evidence when its retention ends.
//! - [`evidence_package`]: the archive of a case's evidence and audit trail for authorities.
//! - [`routing`]: named queues, their roles and the ordered rules that route new cases.
//! - [`appeals`]: a complaint's outcome (uphold, reverse, partially reverse) as a decision.
//! - [`qa`]: which decisions get a blind second review, and agreement.
//!
//! See `docs/review.md`.

pub mod actions;
pub mod annexes;
pub mod appeals;
pub mod au_notice;
pub mod audit;
pub mod evidence;
pub mod evidence_package;
pub mod field;
pub mod flaggers;
pub mod intake;
pub mod intake_stage;
pub mod model;
pub mod order;
pub mod qa;
pub mod routing;
pub mod sla;
pub mod store;
pub mod sweeper;
