//! The HTTP surfaces of the review engine ([`takedown_review`]): what authorities, flaggers,
//! platforms and moderators talk to.
//!
//! - [`api`]: the HTTP JSON API (OpenAPI document included) with hashed API tokens and roles.
//! - [`web`]: the server-rendered moderator web UI (local accounts, sessions, CSRF, blurred
//!   media, keyboard-driven review).
//!
//! See `docs/review.md` and `docs/ui.md`.

pub mod api;
pub mod web;
