//! Human review of what the pipeline found and what authorities ordered, under the deadlines
//! the law sets.
//!
//! - [`sla`]: the legal clocks as pure functions of an injected [`takedown_core::clock::Clock`]
//!   (removal order one hour, Annex III suspension and restart, embargo, complaints,
//!   preservation).
//! - [`model`]: cases, sources, priorities, decisions, takedown actions, roles.
//! - [`order`]: TCO removal orders (Annex I validation, Annex II and III replies).
//! - [`store`]: the Redis state: idempotent case creation, the priority queue with leases,
//!   deadlines fired exactly once across replicas, decisions with their outbox, preservation.
//! - [`audit`]: the append-only, hash-chained audit trail and its verification.
//! - [`intake`]: DSA notices and complaints, validated field by field.
//! - [`flaggers`]: the registry of DSA Art. 22 trusted flaggers that decides which notices are
//!   trusted, with per-flagger counts for transparency reports.
//! - [`au_notice`]: Australian removal notices (Online Safety Act 2021 s109/s110).
//! - [`intake_stage`]: the `matches` consumer (a stage of the ingest crate's Kafka runner).
//! - [`actions`]: publishing takedown actions to Kafka (and an optional webhook), reviewer
//!   feedback to the hash lists.
//! - [`api`]: the HTTP JSON API with hashed API tokens and roles.
//!
//! See `docs/review.md`.

pub mod actions;
pub mod api;
pub mod au_notice;
pub mod audit;
pub mod flaggers;
pub mod intake;
pub mod intake_stage;
mod lua;
pub mod model;
pub mod order;
pub mod sla;
pub mod store;
pub mod sweeper;
pub mod web;
