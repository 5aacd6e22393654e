//! Capturing, checking and purging the evidence of cases (TCO Art. 5 verification, Art. 6
//! preservation).
//!
//! Capture costs nothing for posts that do not match: the ingest stage keeps no media, and the
//! review role fetches a case's media again only once a case exists, through ingest's
//! SSRF-guarded [`Fetcher`] with the same limits (refused addresses, redirects checked hop by
//! hop, size cap, deadlines). Hash-match cases capture their media URL; orders, notices and
//! Australian notices capture each URL (the page itself where it is not media). A failure is
//! recorded on the case with its stable code and retried with exponential backoff (30 s
//! doubling to 6 h, [`MAX_ATTEMPTS`] in all); a refused address is not retried, since it will
//! be refused again. Platforms can also push media ([`EvidenceWorker::push`]), checked
//! against the case's hashes.
//!
//! Retention runs in the same task with the store's injected clock: each case with evidence is
//! looked at when its next check falls due ([`takedown_evidence::retention`]); evidence that
//! must go is deleted from the object store (objects shared with another case stay until the
//! last one lets go) and the purge is audited.

use crate::model::{Case, CaseState, Outcome};
use crate::store::evidence::{DueCapture, EvidenceItem, ItemChange, ItemSource, ItemStatus};
use crate::store::{ReviewStore, StoreError};
use futures_util::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use takedown_core::SignalType;
use takedown_evidence::retention::{CaseFate, Disposition, RetentionPolicy};
use takedown_evidence::{EvidenceError, EvidenceStore};
use takedown_ingest::fetch::{FetchError, Fetcher};
use tokio::sync::watch;

/// Attempts per URL before a capture stays failed.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait before attempt `attempt + 1` after `attempt` failed ones: 30 s doubling, at most 6 h.
pub fn backoff(attempt: u32) -> time::Duration {
    let secs = 30i64.saturating_mul(1i64 << attempt.saturating_sub(1).min(20));
    time::Duration::seconds(secs.min(6 * 3600))
}

/// Label naming the failure code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The stable error code.
    pub code: String,
}

/// The evidence metrics of the review role.
pub struct EvidenceMetrics {
    registry: Registry,
    /// Failed capture attempts by code: `takedown_evidence_capture_failures_total`.
    pub capture_failures: Family<CodeLabel, Counter>,
    /// Stored captures: `takedown_evidence_captures_total`.
    pub captures: Counter,
    /// Cases whose evidence was purged: `takedown_evidence_purges_total`.
    pub purges: Counter,
}

impl EvidenceMetrics {
    /// Fresh counters.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("takedown_evidence");
        let capture_failures = Family::<CodeLabel, Counter>::default();
        let captures = Counter::default();
        let purges = Counter::default();
        registry.register(
            "capture_failures",
            "Failed evidence capture attempts, by error code",
            capture_failures.clone(),
        );
        registry.register("captures", "Evidence captures stored", captures.clone());
        registry.register("purges", "Cases whose evidence was purged", purges.clone());
        Arc::new(EvidenceMetrics {
            registry,
            capture_failures,
            captures,
            purges,
        })
    }

    /// The counters in Prometheus text format (without the `# EOF` line, so it can be appended
    /// to another registry's output).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        out
    }
}

/// Why pushed media was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The case does not exist or is purged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bytes match none of the case's hashes.
    #[error("the media matches none of the case's hashes ({0})")]
    HashMismatch(String),
    /// The evidence store failed.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
}

/// What the capture task needs.
#[derive(Clone)]
pub struct EvidenceWorker {
    store: ReviewStore,
    evidence: EvidenceStore,
    fetcher: Fetcher,
    policy: RetentionPolicy,
    metrics: Arc<EvidenceMetrics>,
}

impl std::fmt::Debug for EvidenceWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceWorker")
            .field("evidence", &self.evidence)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Where a case stands for the retention rules at `now`.
pub fn fate(case: &Case, now: time::OffsetDateTime) -> CaseFate {
    if case.state == CaseState::Purged {
        return CaseFate::Purged;
    }
    if let Some(p) = &case.preservation {
        return CaseFate::Preserved(p.purge_at());
    }
    match &case.decision {
        Some(d) if matches!(d.input.outcome, Outcome::NotTerroristContent { .. }) => {
            CaseFate::NotTerrorist {
                decided_at: d.decided_at,
                held: case
                    .evidence_holds
                    .iter()
                    .any(|h| h.until.is_none_or(|until| until > now)),
            }
        }
        _ => CaseFate::Pending,
    }
}

impl EvidenceWorker {
    /// A worker over `store` writing to `evidence`, fetching with `fetcher`.
    pub fn new(
        store: ReviewStore,
        evidence: EvidenceStore,
        fetcher: Fetcher,
        policy: RetentionPolicy,
        metrics: Arc<EvidenceMetrics>,
    ) -> Self {
        EvidenceWorker {
            store,
            evidence,
            fetcher,
            policy,
            metrics,
        }
    }

    /// The evidence store.
    pub fn evidence(&self) -> &EvidenceStore {
        &self.evidence
    }

    /// Attempts every capture due now (at most `limit`, `parallel` at a time); returns how
    /// many were attempted.
    pub async fn capture_due(&self, limit: usize, parallel: usize) -> Result<usize, StoreError> {
        let due = self.store.due_captures(limit).await?;
        let n = due.len();
        let mut results = futures_util::stream::iter(due)
            .map(|d| async move { self.capture_one(&d).await })
            .buffer_unordered(parallel.max(1));
        while let Some(r) = results.next().await {
            r?;
        }
        Ok(n)
    }

    /// Fetches and stores one due capture, recording the outcome on the case.
    pub async fn capture_one(&self, due: &DueCapture) -> Result<(), StoreError> {
        let Some(mut item) = self.store.evidence_item(&due.case_id, &due.url).await? else {
            return self.store.drop_capture(due).await;
        };
        if item.status == ItemStatus::Captured || item.status == ItemStatus::Purged {
            return self.store.drop_capture(due).await;
        }
        let now = self.store.clock().now();
        item.attempts += 1;
        let outcome = match self.fetcher.fetch(&due.url).await {
            Ok(bytes) => {
                let ev = self.evidence.clone();
                let declared = sniff_page(&bytes);
                let stored =
                    match tokio::task::spawn_blocking(move || ev.prepare(&bytes, declared)).await {
                        Ok(Ok(prepared)) => self.evidence.write(prepared).await,
                        Ok(Err(e)) => Err(e),
                        Err(e) => Err(EvidenceError::Backend(format!("capture task: {e}"))),
                    };
                stored.map_err(|e| (e.code().to_string(), e.to_string(), true))
            }
            Err(e) => Err((
                e.code().as_str().to_string(),
                e.to_string(),
                !matches!(e, FetchError::Forbidden(_)),
            )),
        };
        let action = match outcome {
            Ok(stored) => {
                self.metrics.captures.inc();
                item.status = ItemStatus::Captured;
                item.sha256 = Some(stored.sha256);
                item.content_type = Some(stored.content_type);
                item.size = Some(stored.size);
                item.has_preview = stored.has_preview;
                item.keyframes_ms = stored.keyframes_ms;
                item.captured_at = Some(now);
                item.error_code = None;
                item.error = None;
                item.next_attempt_at = None;
                "evidence.captured"
            }
            Err((code, message, retry)) => {
                self.metrics
                    .capture_failures
                    .get_or_create(&CodeLabel { code: code.clone() })
                    .inc();
                tracing::warn!(case = %due.case_id, code = %code, attempt = item.attempts,
                    "Capturing evidence failed.");
                item.status = ItemStatus::Failed;
                item.next_attempt_at =
                    (retry && item.attempts < MAX_ATTEMPTS).then(|| now + backoff(item.attempts));
                item.error_code = Some(code);
                item.error = Some(message);
                "evidence.capture_failed"
            }
        };
        let retain_at = item.sha256.is_some().then_some(now);
        self.store
            .record_evidence(
                &due.case_id,
                ItemChange {
                    key: &due.url,
                    item: &item,
                    action,
                    actor: "system",
                    retain_at,
                },
            )
            .await
    }

    /// Stores media the platform pushed for a case, after checking it against the case's
    /// hashes (when the case has matches whose signals can be checked: exact digests, PDQ
    /// within distance 31, a video's vPDQ matching at pytx's thresholds).
    pub async fn push(
        &self,
        case_id: &str,
        actor: &str,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<EvidenceItem, PushError> {
        let view = self.store.case(case_id).await?;
        if view.case.state == CaseState::Purged {
            return Err(StoreError::State("the case was purged").into());
        }
        let checks: Vec<(SignalType, String)> = view
            .matches
            .iter()
            .filter_map(|m| {
                let ty: SignalType = m.entry.split(':').next()?.parse().ok()?;
                Some((ty, m.query_hash.to_ascii_lowercase()))
            })
            .collect();
        let ev = self.evidence.clone();
        let declared = content_type.map(str::to_string);
        let (prepared, verdict) = tokio::task::spawn_blocking(move || {
            let verdict = check_hashes(&bytes, &checks);
            (ev.prepare(&bytes, declared.as_deref()), verdict)
        })
        .await
        .map_err(|e| EvidenceError::Backend(format!("push task: {e}")))?;
        verdict.map_err(PushError::HashMismatch)?;
        let stored = self.evidence.write(prepared?).await?;
        let now = self.store.clock().now();
        let key = format!("push:{}", stored.sha256);
        let item = EvidenceItem {
            source: ItemSource::Push,
            url: None,
            status: ItemStatus::Captured,
            sha256: Some(stored.sha256),
            content_type: Some(stored.content_type),
            size: Some(stored.size),
            has_preview: stored.has_preview,
            keyframes_ms: stored.keyframes_ms,
            captured_at: Some(now),
            attempts: 1,
            error_code: None,
            error: None,
            next_attempt_at: None,
        };
        self.store
            .record_evidence(
                case_id,
                ItemChange {
                    key: &key,
                    item: &item,
                    action: "evidence.pushed",
                    actor,
                    retain_at: Some(now),
                },
            )
            .await?;
        self.metrics.captures.inc();
        Ok(item)
    }

    /// Applies the retention rules to every case whose check is due (at most `limit`);
    /// returns the cases whose evidence was purged.
    pub async fn retention_due(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut purged = Vec::new();
        for case_id in self.store.due_retention(limit).await? {
            let now = self.store.clock().now();
            let fate = match self.store.case(&case_id).await {
                Ok(view) => fate(&view.case, now),
                Err(StoreError::NotFound(_)) => CaseFate::Purged,
                Err(e) => return Err(e),
            };
            match self.policy.disposition(fate, now) {
                Disposition::KeepUntil(at) => self.store.retain_until(&case_id, at).await?,
                Disposition::Purge => {
                    if self.purge_case(&case_id, fate).await? {
                        purged.push(case_id);
                    }
                }
            }
        }
        Ok(purged)
    }

    /// Deletes a case's evidence bytes (objects no other case uses), then marks its records
    /// purged with an audit entry. Bytes go first: if this stops half-way the retention entry
    /// is still there and the next pass finishes the job.
    async fn purge_case(&self, case_id: &str, fate: CaseFate) -> Result<bool, StoreError> {
        for (_, item) in self.store.evidence_items(case_id).await? {
            let Some(sha) = item.sha256.as_deref() else {
                continue;
            };
            if item.status == ItemStatus::Purged {
                continue;
            }
            let refs = self.store.evidence_refs(sha).await?;
            // Bytes another case still refers to stay.
            if refs.iter().all(|c| c == case_id)
                && let Err(e) = self.evidence.delete(sha).await
            {
                tracing::error!(case = %case_id, code = e.code(),
                    "Deleting evidence failed; the purge is retried on the next pass.");
                return Ok(false);
            }
        }
        let cause = match fate {
            CaseFate::Purged | CaseFate::Preserved(_) => "preservation ended (TCO Art. 6)",
            CaseFate::NotTerrorist { .. } => "not terrorist content: retention period ended",
            CaseFate::Pending => "retention ended",
        };
        let n = self.store.purge_evidence_records(case_id, cause).await?;
        if n > 0 {
            self.metrics.purges.inc();
        }
        Ok(n > 0)
    }

    /// Captures and applies retention until `stop` turns true, every `poll`.
    pub async fn run(self, poll: Duration, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            if let Err(e) = self.capture_due(64, 4).await {
                tracing::error!(error = %e, "Evidence capture pass failed.");
            }
            if let Err(e) = self.retention_due(256).await {
                tracing::error!(error = %e, "Evidence retention pass failed.");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// The content type of a fetched body that is not an image: HTML if it looks like a page.
fn sniff_page(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    if text.contains("<html") || text.contains("<!doctype html") {
        Some("text/html")
    } else if std::str::from_utf8(head).is_ok() {
        Some("text/plain")
    } else {
        None
    }
}

/// Whether `bytes` agree with at least one of the case's match hashes; `Ok` when none can be
/// checked (no matches, or only signals this check does not compute).
pub fn check_hashes(bytes: &[u8], checks: &[(SignalType, String)]) -> Result<(), String> {
    use takedown_matcher::decode::DecodeLimits;
    use takedown_matcher::signals::SignalComputer;
    let wanted: Vec<SignalType> = checks
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| {
            matches!(
                t,
                SignalType::Md5
                    | SignalType::Sha256
                    | SignalType::Sha512
                    | SignalType::Pdq
                    | SignalType::Vpdq
            )
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // A video is checked against the case's vPDQ matches as the matcher matched it (pytx's
    // thresholds), and its digests against the exact ones.
    let video = wanted.contains(&SignalType::Vpdq)
        && takedown_video::sniff::is_video(&bytes[..bytes.len().min(512)]);
    let vpdq_agrees = |want: &str| {
        let Ok(listed) = takedown_core::vpdq::parse_signal_string(want) else {
            return false;
        };
        match takedown_video::hash_bytes(bytes, &takedown_video::VpdqOptions::default()) {
            Ok(ours) => {
                let t = takedown_matcher::vpdq::VpdqThresholds::default();
                takedown_matcher::vpdq::compare(&ours.frames, &listed, &t).is_match
            }
            Err(_) => false,
        }
    };
    let mut computer = SignalComputer::new(
        DecodeLimits::default(),
        takedown_matcher::PreResize::Reference,
    );
    let still: Vec<SignalType> = wanted
        .iter()
        .copied()
        .filter(|t| *t != SignalType::Vpdq)
        .collect();
    let signals = match computer.compute(bytes, &still) {
        Ok(s) => s,
        // Not an image: the digests can still be checked.
        Err(_) => computer
            .compute(
                bytes,
                &[SignalType::Md5, SignalType::Sha256, SignalType::Sha512],
            )
            .unwrap_or_default(),
    };
    let agree = checks.iter().any(|(t, want)| match t {
        SignalType::Md5 => signals.md5.as_ref().is_some_and(|d| d.to_string() == *want),
        SignalType::Sha256 => signals
            .sha256
            .as_ref()
            .is_some_and(|d| d.to_string() == *want),
        SignalType::Sha512 => signals
            .sha512
            .as_ref()
            .is_some_and(|d| d.to_string() == *want),
        SignalType::Pdq => match (&signals.pdq, takedown_core::PdqHash::parse(want)) {
            (Some(p), Ok(h)) => p.hash.distance(&h) <= 31,
            _ => false,
        },
        SignalType::Vpdq => video && vpdq_agrees(want),
        _ => false,
    });
    if agree {
        Ok(())
    } else {
        let names: Vec<&str> = wanted.iter().map(|t| t.as_str()).collect();
        Err(format!("checked {}", names.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_six_hours() {
        assert_eq!(backoff(1), time::Duration::seconds(30));
        assert_eq!(backoff(2), time::Duration::seconds(60));
        assert_eq!(backoff(5), time::Duration::seconds(480));
        assert_eq!(backoff(11), time::Duration::hours(6));
        assert_eq!(backoff(40), time::Duration::hours(6));
    }

    #[test]
    fn pushed_bytes_are_checked_against_exact_digests() {
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(check_hashes(b"abc", &[(SignalType::Sha256, sha.into())]).is_ok());
        assert!(check_hashes(b"abd", &[(SignalType::Sha256, sha.into())]).is_err());
        assert!(check_hashes(b"abd", &[]).is_ok());
        let md5 = "900150983cd24fb0d6963f7d28e17f72";
        assert!(
            check_hashes(
                b"abc",
                &[
                    (SignalType::Sha256, "00".repeat(32)),
                    (SignalType::Md5, md5.into())
                ]
            )
            .is_ok()
        );
    }

    #[test]
    fn pages_and_text_are_told_apart() {
        assert_eq!(sniff_page(b"<!DOCTYPE html><p>x"), Some("text/html"));
        assert_eq!(sniff_page(b"plain words"), Some("text/plain"));
        assert_eq!(sniff_page(&[0xff, 0xfe, 0x00, 0x80]), None);
    }
}
