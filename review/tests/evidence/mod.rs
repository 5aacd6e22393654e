//! Evidence capture, checks and purge against a real Redis, a local directory evidence store
//! and a local HTTP server the capture fetches from; time from the manual clock.

use crate::support::*;
use std::io::Cursor;
use std::sync::Arc;
use takedown_core::clock::ManualClock;
use takedown_evidence::{EvidenceStore, Keyring, Location};
use takedown_ingest::fetch::{Cidr, FetchPolicy, Fetcher};
use takedown_local_services::RedisServer;
use takedown_review::evidence::{EvidenceMetrics, EvidenceWorker, PushError};
use takedown_review::evidence_package;
use takedown_review::model::{DecisionInput, Outcome};
use takedown_review::order::parse_order;
use takedown_review::store::ReviewStore;
use takedown_review::store::evidence::ItemStatus;
use time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A PNG with some structure.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Serves `body` at `/ok` and 404 elsewhere, on a free loopback port; counts requests.
async fn http_server(body: Vec<u8>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let resp = if head.starts_with("GET /ok ") {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(&body);
                    r
                } else {
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_vec()
                };
                let _ = sock.write_all(&resp).await;
            });
        }
    });
    (base, hits)
}

struct Rig {
    store: ReviewStore,
    clock: Arc<ManualClock>,
    worker: EvidenceWorker,
    evidence: EvidenceStore,
    metrics: Arc<EvidenceMetrics>,
    _dir: tempfile::TempDir,
}

async fn rig(redis: &RedisServer, allow_loopback: bool) -> Rig {
    let (store, clock) = store(redis).await;
    let dir = tempfile::tempdir().unwrap();
    let evidence =
        EvidenceStore::open(&Location::Local(dir.path().into()), Keyring::random()).unwrap();
    let policy = FetchPolicy {
        allow: if allow_loopback {
            vec![Cidr::parse("127.0.0.1/32:*").unwrap()]
        } else {
            vec![]
        },
        attempts: 1,
        ..FetchPolicy::default()
    };
    let metrics = EvidenceMetrics::new();
    let worker = EvidenceWorker::new(
        store.clone(),
        evidence.clone(),
        Fetcher::new(policy).unwrap(),
        Default::default(),
        metrics.clone(),
    );
    Rig {
        store,
        clock,
        worker,
        evidence,
        metrics,
        _dir: dir,
    }
}

async fn order_case(r: &Rig, url: &str) -> String {
    let body = order_json(&[url], &takedown_local_services::unique_name("FR"));
    let (order, _) = r
        .store
        .receive_order(&body, parse_order(&body).unwrap(), "fr", T0)
        .await
        .unwrap();
    order.case_ids[0].clone()
}

#[tokio::test]
async fn an_order_url_is_captured_encrypted_with_a_preview() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let media = png();
    let (base, _) = http_server(media.clone()).await;
    let case = order_case(&r, &format!("{base}/ok")).await;
    assert_eq!(
        r.worker.capture_due(10, 2).await.unwrap(),
        1,
        "queued when the case opened"
    );
    let items = r.store.evidence_items(&case).await.unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0].1;
    assert_eq!(item.status, ItemStatus::Captured);
    assert_eq!(item.content_type.as_deref(), Some("image/png"));
    assert!(item.has_preview);
    let sha = item.sha256.clone().unwrap();
    assert_eq!(sha, takedown_evidence::store::sha256_hex(&media));
    let (ty, bytes) = r.evidence.original(&sha).await.unwrap();
    assert_eq!((ty.as_str(), bytes), ("image/png", media));
    let preview = image::load_from_memory(&r.evidence.preview(&sha).await.unwrap()).unwrap();
    assert!(preview.width() <= 192);
    let trail = takedown_review::audit::for_subject(&r.store, &case, 100)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| {
        e.fields
            .iter()
            .any(|(k, v)| k == "action" && v == "evidence.captured")
    }));
    // Nothing is due any more.
    assert_eq!(r.worker.capture_due(10, 2).await.unwrap(), 0);
}

#[tokio::test]
async fn an_ssrf_refusal_is_a_capture_error_on_the_case_and_a_metric() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, false).await;
    let (base, hits) = http_server(png()).await;
    let case = order_case(&r, &format!("{base}/ok")).await;
    r.worker.capture_due(10, 2).await.unwrap();
    let (_, item) = r.store.evidence_items(&case).await.unwrap().remove(0);
    assert_eq!(item.status, ItemStatus::Failed);
    assert_eq!(item.error_code.as_deref(), Some("fetch_forbidden"));
    assert_eq!(
        item.next_attempt_at, None,
        "a refused address is not retried"
    );
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the server"
    );
    assert_eq!(
        r.store.cases_with_failed_captures().await.unwrap(),
        vec![case.clone()]
    );
    let metrics = r.metrics.render();
    assert!(
        metrics.contains("takedown_evidence_capture_failures_total{code=\"fetch_forbidden\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_failed_fetch_is_retried_with_backoff_then_captured() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, _) = http_server(png()).await;
    let case = order_case(&r, &format!("{base}/missing")).await;
    r.worker.capture_due(10, 1).await.unwrap();
    let (_, item) = r.store.evidence_items(&case).await.unwrap().remove(0);
    assert_eq!(item.status, ItemStatus::Failed);
    assert_eq!(item.error_code.as_deref(), Some("fetch_failed"));
    assert_eq!(item.next_attempt_at, Some(T0 + Duration::seconds(30)));
    r.clock.advance(Duration::seconds(29));
    assert_eq!(
        r.worker.capture_due(10, 1).await.unwrap(),
        0,
        "not before the backoff"
    );
    r.clock.advance(Duration::seconds(1));
    assert_eq!(r.worker.capture_due(10, 1).await.unwrap(), 1);
    let (_, item) = r.store.evidence_items(&case).await.unwrap().remove(0);
    assert_eq!(
        (item.attempts, item.next_attempt_at),
        (2, Some(T0 + Duration::seconds(90)))
    );
}

#[tokio::test]
async fn removed_evidence_is_purged_at_the_six_month_boundary_and_audited() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, _) = http_server(png()).await;
    let case = order_case(&r, &format!("{base}/ok")).await;
    r.worker.capture_due(10, 1).await.unwrap();
    let sha = r.store.evidence_items(&case).await.unwrap()[0]
        .1
        .sha256
        .clone()
        .unwrap();
    assert_eq!(
        r.store.claim_next("mod", false).await.unwrap().as_deref(),
        Some(case.as_str())
    );
    r.store.decide(&case, "mod", &remove()).await.unwrap();
    // Removed at T0 (2026-06-01 12:00): preserved until 2026-12-01 12:00.
    let end = time::macros::datetime!(2026-12-01 12:00 UTC);
    r.clock.set(end - Duration::seconds(1));
    assert!(r.worker.retention_due(100).await.unwrap().is_empty());
    assert!(
        r.worker.retention_due(100).await.unwrap().is_empty(),
        "rescheduled, not due"
    );
    assert!(r.evidence.exists(&sha).await.unwrap());
    r.clock.set(end);
    assert_eq!(
        r.worker.retention_due(100).await.unwrap(),
        vec![case.clone()]
    );
    assert!(!r.evidence.exists(&sha).await.unwrap(), "bytes deleted");
    assert!(r.evidence.preview(&sha).await.is_err(), "preview deleted");
    let (_, item) = r.store.evidence_items(&case).await.unwrap().remove(0);
    assert_eq!(item.status, ItemStatus::Purged);
    let trail = takedown_review::audit::for_subject(&r.store, &case, 100)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| {
        e.fields
            .iter()
            .any(|(k, v)| k == "action" && v == "evidence.purged")
    }));
}

#[tokio::test]
async fn not_terrorist_evidence_goes_after_thirty_days() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, _) = http_server(png()).await;
    let (case, _) = r
        .store
        .ingest_match(&a_match("p2", "m1", "gifct", "00ff", "low"))
        .await
        .unwrap();
    assert!(
        r.store
            .enqueue_capture(&case, &format!("{base}/ok"))
            .await
            .unwrap()
    );
    assert!(
        !r.store
            .enqueue_capture(&case, &format!("{base}/ok"))
            .await
            .unwrap(),
        "once"
    );
    r.worker.capture_due(10, 1).await.unwrap();
    r.store.claim_next("mod", false).await.unwrap();
    let ntc = DecisionInput {
        outcome: Outcome::NotTerroristContent { exemption: None },
        grounds: vec![],
        tos_clauses: vec![],
        justification: "news report".into(),
    };
    r.store.decide(&case, "mod", &ntc).await.unwrap();
    assert!(r.worker.retention_due(100).await.unwrap().is_empty());
    r.clock.set(T0 + Duration::days(30) - Duration::seconds(1));
    assert!(r.worker.retention_due(100).await.unwrap().is_empty());
    r.clock.set(T0 + Duration::days(30));
    assert_eq!(r.worker.retention_due(100).await.unwrap(), vec![case]);
}

#[tokio::test]
async fn a_legal_hold_keeps_not_terrorist_evidence_until_it_is_released() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, _) = http_server(png()).await;
    let (case, _) = r
        .store
        .ingest_match(&a_match("p3", "m1", "gifct", "00ff", "low"))
        .await
        .unwrap();
    r.store
        .enqueue_capture(&case, &format!("{base}/ok"))
        .await
        .unwrap();
    r.worker.capture_due(10, 1).await.unwrap();
    let hold = || takedown_review::sla::LegalHold {
        requested_by: "court-ref-17".into(),
        until: None,
    };
    assert!(
        r.store.legal_hold(&case, "legal", hold()).await.is_err(),
        "an undecided case has nothing to hold yet"
    );
    r.store.claim_next("mod", false).await.unwrap();
    let ntc = DecisionInput {
        outcome: Outcome::NotTerroristContent { exemption: None },
        grounds: vec![],
        tos_clauses: vec![],
        justification: "news report".into(),
    };
    r.store.decide(&case, "mod", &ntc).await.unwrap();
    r.store.legal_hold(&case, "legal", hold()).await.unwrap();
    r.clock.set(T0 + Duration::days(30));
    assert!(
        r.worker.retention_due(100).await.unwrap().is_empty(),
        "held"
    );
    r.clock.set(T0 + Duration::days(45));
    assert!(
        r.worker.retention_due(100).await.unwrap().is_empty(),
        "still held"
    );
    let sha = r.store.evidence_items(&case).await.unwrap()[0]
        .1
        .sha256
        .clone()
        .unwrap();
    assert!(r.evidence.exists(&sha).await.unwrap());
    r.store
        .release_hold(&case, "legal", "court-ref-17")
        .await
        .unwrap();
    assert_eq!(
        r.worker.retention_due(100).await.unwrap(),
        vec![case.clone()]
    );
    assert!(!r.evidence.exists(&sha).await.unwrap(), "bytes deleted");
    let trail = takedown_review::audit::for_subject(&r.store, &case, 100)
        .await
        .unwrap();
    let actions: Vec<&str> = trail
        .iter()
        .filter_map(|e| {
            e.fields
                .iter()
                .find(|(k, _)| k == "action")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    for action in ["evidence.hold", "evidence.hold_released", "evidence.purged"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn pushed_media_is_checked_against_the_case_hashes() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, false).await;
    let media = png();
    let sha = takedown_evidence::store::sha256_hex(&media);
    let mut m = a_match("p1", "m1", "tat", "00", "high");
    m.entry = format!("sha256:{sha}");
    m.query_hash = sha.clone();
    let (case, _) = r.store.ingest_match(&m).await.unwrap();
    let wrong = r
        .worker
        .push(
            &case,
            "platform",
            Some("image/png"),
            b"other bytes".to_vec(),
        )
        .await;
    assert!(
        matches!(wrong, Err(PushError::HashMismatch(_))),
        "{wrong:?}"
    );
    let item = r
        .worker
        .push(&case, "platform", Some("image/png"), media.clone())
        .await
        .unwrap();
    assert_eq!(item.sha256.as_deref(), Some(sha.as_str()));
    let (_, bytes) = r.evidence.original(&sha).await.unwrap();
    assert_eq!(bytes, media);
    // The package holds the original under its digest and the case's audit entries.
    let tar = evidence_package::build(&r.store, &r.evidence, &case, "legal1", "Example Host")
        .await
        .unwrap();
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name == format!("evidence/{sha}") {
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut got).unwrap();
            assert_eq!(got, media);
        }
        if name == "audit/entries.json" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            assert!(text.contains("evidence.pushed"), "{text}");
        }
        names.push(name);
    }
    for want in [
        "case.json",
        "matches.json",
        "evidence/manifest.json",
        "audit/chain.json",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(names.contains(&format!("evidence/{sha}")));
}

/// The files of a package, by path.
fn package_files(tar: Vec<u8>) -> std::collections::BTreeMap<String, String> {
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        files.insert(name, String::from_utf8_lossy(&bytes).into_owned());
    }
    files
}

#[tokio::test]
async fn an_order_case_package_holds_annex_i_and_annex_ii_once_enforced() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, _) = http_server(png()).await;
    let url = format!("{base}/ok");
    let case = order_case(&r, &url).await;
    r.worker.capture_due(10, 1).await.unwrap();
    r.store.claim_next("mod", false).await.unwrap();
    let decided = r.store.decide(&case, "mod", &remove()).await.unwrap();
    let action_id = decided.action.unwrap().action_id;

    let before = package_files(
        evidence_package::build(&r.store, &r.evidence, &case, "legal1", "Example Host")
            .await
            .unwrap(),
    );
    assert!(
        before.contains_key("annex-i/order.json"),
        "{:?}",
        before.keys()
    );
    assert!(!before.contains_key("annex-ii/reply.txt"));
    let pending = &before["annex-ii/pending.json"];
    assert!(
        pending.contains("not reported the action enforced"),
        "{pending}"
    );

    let enforced_at = T0 + Duration::minutes(20);
    r.clock.set(T0 + Duration::minutes(25));
    r.store
        .mark_action(&action_id, "enforced_at", enforced_at, "platform")
        .await
        .unwrap();
    let after = package_files(
        evidence_package::build(&r.store, &r.evidence, &case, "legal1", "Example Host")
            .await
            .unwrap(),
    );
    assert!(!after.contains_key("annex-ii/pending.json"));
    let text = &after["annex-ii/reply.txt"];
    assert!(text.starts_with("ANNEX II"), "{text}");
    assert!(
        text.contains(&format!(
            "- {url}: the terrorist content has been removed; time and date of the measure \
             taken: 2026-06-01T12:20:00Z"
        )),
        "{text}"
    );
    assert!(
        text.contains("Name of the hosting service provider: Example Host"),
        "{text}"
    );
    assert!(text.contains("Signature: legal1"), "{text}");
    let reply: serde_json::Value = serde_json::from_str(&after["annex-ii/reply.json"]).unwrap();
    assert_eq!(reply["items"][0]["url"], url.as_str());
    assert!(
        !after.contains_key("annex-iii/draft.json"),
        "a complete order has no Annex III draft"
    );
}

#[tokio::test]
async fn two_replicas_taking_captures_at_once_fetch_each_url_once() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (base, hits) = http_server(png()).await;
    let case = order_case(&r, &format!("{base}/ok")).await;
    let other = r.worker.clone();
    let (a, b) = tokio::join!(r.worker.capture_due(10, 1), other.capture_due(10, 1));
    let taken = [a.unwrap(), b.unwrap()];
    assert_eq!(
        taken.iter().sum::<usize>(),
        1,
        "one replica took it: {taken:?}"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let (_, item) = r.store.evidence_items(&case).await.unwrap().remove(0);
    assert_eq!(item.status, ItemStatus::Captured);
    // A capture taken by a replica that then died is due again when its lease ends.
    let case2 = order_case(&r, &format!("{base}/second")).await;
    let leased = r.store.due_captures(10).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert!(r.store.due_captures(10).await.unwrap().is_empty(), "leased");
    r.clock
        .set(T0 + takedown_review::store::evidence::CAPTURE_LEASE - Duration::seconds(1));
    assert!(r.store.due_captures(10).await.unwrap().is_empty());
    r.clock
        .set(T0 + takedown_review::store::evidence::CAPTURE_LEASE);
    let again = r.store.due_captures(10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].case_id, case2);
}

mod post_text;
