//! The `matches` consumer of `takedown review`: each match becomes (or joins) a case.
//!
//! It is a [`Stage`] of the ingest crate's Kafka runner, so it inherits the pipeline's
//! delivery rules: an offset is stored only after the case is written to Redis, a malformed
//! match goes to `matches.dlq` with the field named, and a redelivered match changes nothing
//! (the store keys cases and matches by content-derived ids). Redis being down is transient:
//! the stage retries with backoff rather than dead-lettering good matches.

use crate::store::{MatchOutcome, ReviewStore, StoreError};
use std::time::Duration;
use takedown_core::ErrorCode;
use takedown_core::messages::{self, Match};
use takedown_ingest::runner::{Input, Output, Rejection, Stage};

/// Turns `matches` messages into cases.
pub struct MatchIntake {
    store: ReviewStore,
}

impl MatchIntake {
    /// A stage writing into `store`.
    pub fn new(store: ReviewStore) -> Self {
        MatchIntake { store }
    }
}

/// Checks what serde cannot: values the case needs that are present but unusable.
pub fn check_match(m: &Match) -> Result<(), Rejection> {
    let invalid = |field: &str, why: &str| {
        Err(Rejection::new(
            ErrorCode::InvalidValue,
            format!("invalid match message: {field}: {why}"),
        ))
    };
    for (field, value) in [
        ("match_id", &m.match_id),
        ("post_id", &m.post_id),
        ("platform", &m.platform),
        ("media_id", &m.media_id),
        ("list_id", &m.list_id),
        ("entry", &m.entry),
    ] {
        if value.trim().is_empty() {
            return invalid(field, "must not be empty");
        }
    }
    if !["low", "medium", "high", "critical"].contains(&m.severity.as_str()) {
        return invalid("severity", "one of low, medium, high, critical");
    }
    Ok(())
}

impl MatchIntake {
    /// Queues the evidence capture of a case the match just opened: only matched posts are
    /// fetched again (see [`crate::evidence`]). Queuing is idempotent, so a redelivered match
    /// retried here queues nothing twice.
    async fn capture_after(
        &self,
        recorded: Result<(String, MatchOutcome), StoreError>,
        m: &Match,
    ) -> Result<(), StoreError> {
        let (case_id, outcome) = recorded?;
        if outcome == MatchOutcome::Created
            && let Some(url) = m.media_url.as_deref().or(m.post_url.as_deref())
        {
            self.store.enqueue_capture(&case_id, url).await?;
        }
        Ok(())
    }
}

impl Stage for MatchIntake {
    fn name(&self) -> &'static str {
        "review"
    }

    async fn process(&self, input: Input) -> Result<Vec<Output>, Rejection> {
        let m: Match = messages::parse("match", &input.payload)
            .map_err(|e| Rejection::new(e.code(), e.to_string()))?;
        check_match(&m)?;
        let mut backoff = Duration::from_millis(100);
        loop {
            match self
                .capture_after(self.store.ingest_match(&m).await, &m)
                .await
            {
                Ok(()) => return Ok(Vec::new()),
                Err(StoreError::Redis(e)) => {
                    tracing::warn!(match_id = %m.match_id, error = %e,
                        "Recording the match failed; retrying.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    return Err(Rejection::new(
                        ErrorCode::InvalidValue,
                        format!("match {}: {e}", m.match_id),
                    ));
                }
            }
        }
    }
}
