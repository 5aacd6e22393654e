//! Behaviour of the review HTTP API against a real Redis (and a real broker for the outbox):
//! roles, order validation, claim to decision, notices, complaints, Annex II, embargo, holds,
//! the trusted-flagger registry, Australian notices, and the signed webhook.

#[path = "../../review/tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use support::*;
use takedown_core::clock::ManualClock;
use takedown_local_services::{RedisOptions, RedisServer, unique_name};
use takedown_review::audit;
use takedown_review::model::{DecisionInput, Outcome};
use takedown_review::store::ReviewStore;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Serves `app` on a free loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The fields a 422 reply names.
fn error_fields(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// Requests a test webhook received: (signature header, body).
type Received = Arc<std::sync::Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// A webhook receiver that fails the first `failures` requests with 503 and records every
/// request's signature header and body.
async fn webhook_receiver(failures: usize) -> (String, Received) {
    use axum::http::{HeaderMap, StatusCode};
    let seen: Received = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let record = record.clone();
            async move {
                let mut seen = record.lock().unwrap();
                let signature = headers
                    .get("x-takedown-signature")
                    .map(|v| v.to_str().unwrap().to_string());
                seen.push((signature, body.to_vec()));
                if seen.len() <= failures {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn http_api_enforces_roles_validates_orders_and_runs_claim_to_decision() {
    use takedown_review::model::Role;
    use takedown_review_ui::api::{add_token, router};
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let authority = add_token(&s, "fr-oclctic", Role::AuthorityClient)
        .await
        .unwrap();
    let moderator = add_token(&s, "alice", Role::Moderator).await.unwrap();
    let auditor = add_token(&s, "audit", Role::Auditor).await.unwrap();
    let stored: Vec<String> = redis::cmd("HKEYS")
        .arg(s.key("tokens"))
        .query_async(&mut s.connection())
        .await
        .unwrap();
    assert!(!stored.contains(&moderator), "tokens are stored hashed");

    let base = serve(router(s)).await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: Vec<u8>| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    assert_eq!(
        http.get(format!("{base}/livez"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let spec: serde_json::Value = http
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/api/v1/removal-orders"].is_object());

    let order = order_json(&["https://example.org/v/1"], "FR-77");
    let r = http
        .post(format!("{base}/api/v1/removal-orders"))
        .header("content-type", "application/json")
        .body(order.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = post("/api/v1/removal-orders", &moderator, order.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "moderators cannot submit orders");

    let mut bad: serde_json::Value = serde_json::from_slice(&order).unwrap();
    bad["section_a"]
        .as_object_mut()
        .unwrap()
        .remove("issued_at");
    bad["section_b"]["urls"][0] = "not a url".into();
    let r = post(
        "/api/v1/removal-orders",
        &authority,
        bad.to_string().into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_order");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["section_a.issued_at", "section_b.urls[0]"]);
    let r = post("/api/v1/removal-orders", &authority, b"not json".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let r = post("/api/v1/removal-orders", &authority, order.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["order"]["received_at"], "2026-06-01T12:00:00Z");
    assert!(
        created["scrutiny"]["request_by"]
            .as_str()
            .unwrap()
            .starts_with("2026-06-03T12:00")
    );
    assert!(created["annex_iii_draft"].is_null());
    let case_id = created["order"]["case_ids"][0]
        .as_str()
        .unwrap()
        .to_string();

    let claimed: serde_json::Value = post("/api/v1/queue/claim", &moderator, vec![])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claimed["id"], case_id.as_str());
    assert_eq!(claimed["holder"], "alice");
    let path = format!("/api/v1/cases/{case_id}/decision");
    let r = post(&path, &moderator, br#"{"outcome":"remove"}"#.to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "grounds");
    let r = post(
        &path,
        &auditor,
        br#"{"outcome":"remove","grounds":["art2_7_a"]}"#.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403, "auditors change nothing");
    let r = post(
        &path,
        &moderator,
        br#"{"outcome":"remove","grounds":["art2_7_a"]}"#.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let decided: serde_json::Value = r.json().await.unwrap();
    assert_eq!(decided["in_time"], true);
    assert_eq!(decided["action"]["kind"], "remove");

    let verify: serde_json::Value = http
        .get(format!("{base}/api/v1/audit/verify"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["problems"], serde_json::json!([]));
    assert!(verify["sealed_ok"].as_u64().unwrap() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_reaches_kafka_once_acked_and_the_signed_webhook_with_retries_across_restarts() {
    use takedown_review::actions::{
        Publisher, PublisherConfig, Secret, WebhookConfig, hmac_sha256, verify_signature,
    };
    let broker = takedown_local_services::KafkaBroker::start().unwrap();
    let topic = unique_name("takedowns");
    broker.create_topic(&topic, 2).await.unwrap();
    let mut redis = RedisServer::start_with(RedisOptions {
        appendonly: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let prefix = unique_name("rv");
    let s = store_at(&redis, &prefix, clock.clone()).await;
    let (hook_url, seen) = webhook_receiver(3).await;
    let config = || {
        let mut c = PublisherConfig::new(broker.bootstrap_servers(), &topic);
        let mut hook = WebhookConfig::new(&hook_url, Secret::new("s3cret"));
        hook.backoff = std::time::Duration::from_millis(10);
        c.webhook = Some(hook);
        c
    };
    let mut actions = Vec::new();
    for i in 0..3 {
        s.ingest_match(&a_match(&format!("p{i}"), "m", "l", "aa", "high"))
            .await
            .unwrap();
        let id = s.claim_next("m", false).await.unwrap().unwrap();
        actions.push(s.decide(&id, "m", &remove()).await.unwrap().action.unwrap());
    }
    // Nothing reaches Kafka before the publisher runs; the outbox survives a Redis restart.
    redis.restart().unwrap();
    let s = store_at(&redis, &prefix, clock.clone()).await;
    let mut pending = s.pending_actions(10).await.unwrap();
    pending.sort_by(|a, b| a.action_id.cmp(&b.action_id));
    actions.sort_by(|a, b| a.action_id.cmp(&b.action_id));
    assert_eq!(pending, actions);
    let publisher = Publisher::new(s.clone(), config(), None).unwrap();
    assert_eq!(publisher.publish_pending().await.unwrap(), 3);
    assert!(s.pending_actions(10).await.unwrap().is_empty());
    for a in &actions {
        assert_eq!(
            s.action_times(&a.action_id).await.unwrap()["published_at"],
            T0
        );
    }
    // A restarted publisher finds nothing left to send.
    let publisher = Publisher::new(s.clone(), config(), None).unwrap();
    assert_eq!(publisher.publish_pending().await.unwrap(), 0);
    let got = read_topic(&broker, &topic, 4, std::time::Duration::from_secs(10)).await;
    let mut keys: Vec<&str> = got.iter().map(|(k, ..)| k.as_str()).collect();
    keys.sort();
    let mut want: Vec<&str> = actions.iter().map(|a| a.action_id.as_str()).collect();
    want.sort();
    assert_eq!(keys, want, "each action once, keyed by its id");
    for (key, payload, ..) in &got {
        let sent: takedown_review::model::TakedownAction = serde_json::from_str(payload).unwrap();
        assert_eq!(&sent.action_id, key);
    }

    // The webhook fails three times: the first action's three attempts in the first pass;
    // it is retried after its backoff, the other two get through at once.
    assert_eq!(publisher.deliver_webhooks().await.unwrap(), 2);
    assert_eq!(seen.lock().unwrap().len(), 5);
    assert_eq!(
        publisher.deliver_webhooks().await.unwrap(),
        0,
        "not due again before its backoff"
    );
    clock.advance(Duration::minutes(1));
    assert_eq!(publisher.deliver_webhooks().await.unwrap(), 1);
    clock.advance(Duration::minutes(10));
    assert_eq!(
        publisher.deliver_webhooks().await.unwrap(),
        0,
        "delivered once"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6, "3 failures, then the three actions");
    for (sig, body) in &seen {
        // `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, computed here from
        // the RFC 4231-checked HMAC, with t from the injected clock.
        let sig = sig.as_deref().unwrap();
        let (t, v1) = sig
            .strip_prefix("t=")
            .and_then(|r| r.split_once(",v1="))
            .unwrap();
        let t: i64 = t.parse().unwrap();
        assert!((T0.unix_timestamp()..=(T0 + Duration::minutes(1)).unix_timestamp()).contains(&t));
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        assert_eq!(v1, hex::encode(hmac_sha256(b"s3cret", &signed)));
        let secret = Secret::new("s3cret");
        assert!(verify_signature(&secret, sig, body, t + 299, 300));
        assert!(
            !verify_signature(&secret, sig, body, t + 301, 300),
            "replayed too late"
        );
        assert!(
            !verify_signature(&secret, sig, b"{}", t, 300),
            "another body"
        );
        let other = sig.replacen(&format!("t={t}"), &format!("t={}", t + 1), 1);
        assert!(
            !verify_signature(&secret, &other, body, t, 300),
            "another time"
        );
    }
    let times = s.action_times(&actions[1].action_id).await.unwrap();
    assert_eq!(times["webhook_at"], T0);
    let times = s.action_times(&actions[0].action_id).await.unwrap();
    assert_eq!(times["webhook_at"], T0 + Duration::minutes(1));
    assert!(audit::verify(&s).await.unwrap().ok());
}

#[tokio::test]
async fn http_notices_complaints_annex_ii_embargo_holds_and_case_audit() {
    use takedown_review::model::Role;
    use takedown_review_ui::api::{ApiOptions, add_token, router_with};
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let legal = add_token(&s, "legal1", Role::Legal).await.unwrap();
    let authority = add_token(&s, "fr-oclctic", Role::AuthorityClient)
        .await
        .unwrap();
    let moderator = add_token(&s, "alice", Role::Moderator).await.unwrap();
    let senior = add_token(&s, "sam", Role::SeniorModerator).await.unwrap();
    let auditor = add_token(&s, "audit", Role::Auditor).await.unwrap();
    let admin = add_token(&s, "root", Role::Admin).await.unwrap();
    let base = serve(router_with(
        s.clone(),
        ApiOptions {
            provider_name: "Example Ltd".into(),
            ..ApiOptions::default()
        },
    ))
    .await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let get = |path: &str, token: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();

    // Every new route is documented.
    let spec: serde_json::Value = get("/api/v1/openapi.json", &auditor)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/notices",
        "/api/v1/notices/{id}",
        "/api/v1/complaints",
        "/api/v1/complaints/{id}",
        "/api/v1/removal-orders/{id}/annex-ii",
        "/api/v1/cases/{id}/audit",
        "/api/v1/cases/{id}/embargo/extend",
        "/api/v1/cases/{id}/legal-hold",
        "/api/v1/cases/{id}/legal-hold/release",
        "/api/v1/removal-notices/au",
        "/api/v1/removal-notices/au/{id}",
        "/api/v1/trusted-flaggers",
        "/api/v1/trusted-flaggers/{id}",
        "/api/v1/trusted-flaggers/{id}/suspend",
        "/api/v1/trusted-flaggers/{id}/reinstate",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing in openapi.json"
        );
    }

    // Notices: fields named, roles checked, trusted flaggers (per the registry) first,
    // idempotent by reference.
    let r = post(
        "/api/v1/trusted-flaggers",
        &admin,
        serde_json::json!({"id": "ngo-1", "name": "NGO", "awarded_by": "IE: Coimisiún na Meán",
            "expertise": ["terrorist content"], "since": "2025-03-01"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let notice = |trusted: bool, reference: &str| {
        let mut n = serde_json::json!({"platform": "web",
            "url": format!("https://example.org/n/{reference}"),
            "explanation": "recruitment video", "good_faith": true,
            "reference": reference, "notifier": {"name": "NGO", "email": "tf@example.org"}});
        if trusted {
            n["flagger_id"] = "ngo-1".into();
        }
        n
    };
    let r = post(
        "/api/v1/notices",
        &legal,
        serde_json::json!({"platform": "web", "url": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_notice");
    assert_eq!(
        error_fields(&body),
        ["url", "explanation", "notifier", "good_faith"]
    );
    let r = post("/api/v1/notices", &moderator, notice(true, "N1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    s.ingest_match(&a_match("p-hm", "m", "l", "01", "critical"))
        .await
        .unwrap();
    let r = post("/api/v1/notices", &legal, notice(false, "N0"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let plain: serde_json::Value = r.json().await.unwrap();
    let r = post("/api/v1/notices", &legal, notice(true, "N1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let trusted: serde_json::Value = r.json().await.unwrap();
    let trusted_case = trusted["case_id"].as_str().unwrap().to_string();
    let r = post("/api/v1/notices", &legal, notice(true, "N1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the same reference is the same notice");
    let view = s.case(&trusted_case).await.unwrap();
    assert_eq!(view.due_at, Some(T0 + Duration::hours(24)));
    let plain_view = s.case(plain["case_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(plain_view.due_at, Some(T0 + Duration::hours(48)));
    let head = s.queue_head(3).await.unwrap();
    assert_eq!(
        head[0], trusted_case,
        "trusted flaggers before hash matches and notices"
    );
    assert_eq!(head[2], plain_view.case.id);
    let notice_id = trusted["notice"]["id"].as_str().unwrap();
    let r = get(&format!("/api/v1/notices/{notice_id}"), &auditor)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A removal order with an embargo, removed, then enforced: Annex II.
    let r = http
        .post(format!("{base}/api/v1/removal-orders"))
        .bearer_auth(&authority)
        .header("content-type", "application/json")
        .body(order_json(&["https://example.org/v/9"], "FR-9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let order_id = created["order"]["order_id"].as_str().unwrap().to_string();
    let case_id = created["order"]["case_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let annex = format!("/api/v1/removal-orders/{order_id}/annex-ii");
    let r = get(&annex, &legal).await.unwrap();
    assert_eq!(r.status(), 409);
    clock.advance(Duration::minutes(20));
    let claimed: serde_json::Value = post("/api/v1/queue/claim", &moderator, serde_json::json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claimed["id"], case_id.as_str());
    let decided: serde_json::Value = post(
        &format!("/api/v1/cases/{case_id}/decision"),
        &moderator,
        serde_json::json!({"outcome": "remove", "grounds": ["art2_7_a"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let action_id = decided["action"]["action_id"].as_str().unwrap().to_string();
    let r = get(&annex, &legal).await.unwrap();
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_enforced");
    assert_eq!(error_fields(&body), ["case_ids[0]"]);
    let r = post(
        &format!("/api/v1/actions/{action_id}/enforced"),
        &admin,
        serde_json::json!({"enforced_at": "2026-06-01T12:25:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = get(&annex, &moderator).await.unwrap();
    assert_eq!(r.status(), 403);
    let reply: serde_json::Value = get(&annex, &authority).await.unwrap().json().await.unwrap();
    assert_eq!(reply["authority_reference"], "FR-9");
    assert_eq!(reply["received_at"], "2026-06-01T12:00:00Z");
    assert_eq!(reply["items"][0]["action"], "removed");
    assert_eq!(
        reply["items"][0]["time_of_action"], "2026-06-01T12:25:00Z",
        "the enforcement time, not the decision time"
    );
    assert_eq!(reply["provider_name"], "Example Ltd");
    let text = get(&format!("{annex}?format=text"), &legal)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("ANNEX II"), "{text}");
    assert!(text.contains("https://example.org/v/9: the terrorist content has been removed; time and date of the measure taken: 2026-06-01T12:25:00Z"), "{text}");
    assert!(
        text.contains("File reference of the competent authority: FR-9"),
        "{text}"
    );

    // The embargo: six weeks from receipt, extended once to twelve.
    let extend = format!("/api/v1/cases/{case_id}/embargo/extend");
    assert_eq!(
        post(&extend, &moderator, serde_json::json!({}))
            .await
            .unwrap()
            .status(),
        403
    );
    let view: serde_json::Value = post(&extend, &senior, serde_json::json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["embargo"]["until"], "2026-08-24T12:00:00Z", "84 days");
    let r = post(&extend, &legal, serde_json::json!({})).await.unwrap();
    assert_eq!(r.status(), 409, "only one extension");

    // Legal hold: an open-ended hold stops the purge; releasing it schedules it again.
    let hold = format!("/api/v1/cases/{case_id}/legal-hold");
    let r = post(&hold, &legal, serde_json::json!({"requested_by": ""}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_fields(&r.json().await.unwrap()), ["requested_by"]);
    assert_eq!(
        post(
            &hold,
            &moderator,
            serde_json::json!({"requested_by": "court"})
        )
        .await
        .unwrap()
        .status(),
        403
    );
    let r = post(
        &hold,
        &legal,
        serde_json::json!({"requested_by": "Paris court 12/345"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let purge_at = |s: ReviewStore, id: String| async move {
        let score: Option<f64> = redis::cmd("ZSCORE")
            .arg(s.key("preserve"))
            .arg(&id)
            .query_async(&mut s.connection())
            .await
            .unwrap();
        score
    };
    assert_eq!(purge_at(s.clone(), case_id.clone()).await, None);
    clock.advance(Duration::days(1));
    let r = post(
        &format!("{hold}/release"),
        &legal,
        serde_json::json!({"requested_by": "Paris court 12/345"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let keep = datetime!(2026-12-01 12:20 UTC);
    assert_eq!(
        purge_at(s.clone(), case_id.clone()).await,
        Some((keep.unix_timestamp() * 1000) as f64)
    );
    let r = post(
        &format!("{hold}/release"),
        &legal,
        serde_json::json!({"requested_by": "Paris court 12/345"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409, "nothing left to release");

    // Complaints: against a decided case only, fourteen days.
    let complaint = |case: &str| {
        serde_json::json!({"case_id": case, "explanation": "it was news reporting",
            "complainant": {"name": "Uploader", "email": "u@example.org"}})
    };
    let r = post("/api/v1/complaints", &legal, complaint("nope"))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_fields(&r.json().await.unwrap()), ["case_id"]);
    let r = post("/api/v1/complaints", &legal, complaint(&trusted_case))
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "not decided yet");
    let r = post(
        "/api/v1/complaints",
        &legal,
        serde_json::json!({"case_id": case_id}),
    )
    .await
    .unwrap();
    assert_eq!(
        error_fields(&r.json().await.unwrap()),
        ["explanation", "complainant"]
    );
    let r = post("/api/v1/complaints", &moderator, complaint(&case_id))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post("/api/v1/complaints", &legal, complaint(&case_id))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    let complaint_case = s.case(body["case_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        complaint_case.due_at,
        Some(clock_now(&s) + Duration::days(14))
    );
    assert_eq!(
        complaint_case.case.subject.url.as_deref(),
        Some("https://example.org/v/9")
    );

    // The case's audit trail, including its action's enforcement.
    let audit_path = format!("/api/v1/cases/{case_id}/audit");
    assert_eq!(get(&audit_path, &moderator).await.unwrap().status(), 403);
    let trail: serde_json::Value = get(&audit_path, &auditor)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f[0] == "action")
                .unwrap()[1]
                .as_str()
                .unwrap()
        })
        // A QA draw (5 % of final decisions, seeded per process) may follow the decision;
        // it is tested in tests/workflow with a fixed share.
        .filter(|a| *a != "qa.sampled")
        .collect();
    assert_eq!(
        actions,
        [
            "case.created",
            "case.claimed",
            "case.decided",
            "action.enforced_at",
            "embargo.extended",
            "preservation.hold",
            "preservation.released"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_trusted_flagger_registry_decides_which_notices_are_trusted() {
    use takedown_review::model::Role;
    use takedown_review_ui::api::{add_token, router};
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let admin = add_token(&s, "root", Role::Admin).await.unwrap();
    let legal = add_token(&s, "legal1", Role::Legal).await.unwrap();
    let auditor = add_token(&s, "audit", Role::Auditor).await.unwrap();
    let moderator = add_token(&s, "alice", Role::Moderator).await.unwrap();
    let flagger = add_token(&s, "ngo1-api", Role::TrustedFlagger)
        .await
        .unwrap();
    let unbound = add_token(&s, "stranger", Role::TrustedFlagger)
        .await
        .unwrap();
    let base = serve(router(s.clone())).await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let get = |path: &str, token: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();
    let entry = serde_json::json!({"id": "ngo-1", "name": "Counter Extremism NGO",
        "awarded_by": "IE: Coimisiún na Meán", "expertise": ["terrorist content", "violent extremism"],
        "since": "2025-03-01", "account": "ngo1-api"});

    // The registry: admin and legal manage it, every field checked.
    let r = post("/api/v1/trusted-flaggers", &moderator, entry.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(format!("{base}/api/v1/trusted-flaggers"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = post(
        "/api/v1/trusted-flaggers",
        &legal,
        serde_json::json!({"id": "NGO", "expertise": [], "since": "01/03/2025"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_flagger");
    assert_eq!(
        error_fields(&body),
        ["id", "name", "awarded_by", "expertise", "since"]
    );
    let r = post("/api/v1/trusted-flaggers", &legal, entry.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["status"], "active");
    assert_eq!(created["registered_by"], "legal1");
    let r = post("/api/v1/trusted-flaggers", &admin, entry.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "registered once");
    let mut same_account = entry.clone();
    same_account["id"] = "ngo-2".into();
    let r = post("/api/v1/trusted-flaggers", &admin, same_account)
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "an account belongs to one entry");

    // Notices: the flagger's own account, or a relayed flagger_id; never a self-declared flag.
    s.ingest_match(&a_match("p-hm", "m", "l", "01", "critical"))
        .await
        .unwrap();
    let notice = |reference: &str| {
        serde_json::json!({"platform": "web", "url": format!("https://example.org/n/{reference}"),
            "explanation": "recruitment video", "good_faith": true, "reference": reference,
            "notifier": {"name": "NGO", "email": "tf@example.org"}})
    };
    let r = post("/api/v1/notices", &flagger, notice("T1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let own: serde_json::Value = r.json().await.unwrap();
    assert_eq!(own["notice"]["body"]["trusted_flagger"], true);
    assert_eq!(own["notice"]["body"]["flagger_id"], "ngo-1");
    let own_case = own["case_id"].as_str().unwrap().to_string();
    let view = s.case(&own_case).await.unwrap();
    assert_eq!(view.due_at, Some(T0 + Duration::hours(24)));
    assert_eq!(
        s.queue_head(1).await.unwrap(),
        std::slice::from_ref(&own_case),
        "a trusted flagger's notice goes before a critical hash match"
    );
    let mut self_declared = notice("T2");
    self_declared["trusted_flagger"] = true.into();
    let r = post("/api/v1/notices", &legal, self_declared)
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_fields(&r.json().await.unwrap()), ["trusted_flagger"]);
    let mut ghost = notice("T3");
    ghost["flagger_id"] = "ghost".into();
    let r = post("/api/v1/notices", &legal, ghost).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_fields(&r.json().await.unwrap()), ["flagger_id"]);
    let mut relayed = notice("T4");
    relayed["flagger_id"] = "ngo-1".into();
    let r = post("/api/v1/notices", &legal, relayed).await.unwrap();
    assert_eq!(r.status(), 201);
    let relayed: serde_json::Value = r.json().await.unwrap();
    let relayed_case = relayed["case_id"].as_str().unwrap().to_string();
    assert_eq!(
        s.case(&relayed_case).await.unwrap().due_at,
        Some(T0 + Duration::hours(24))
    );
    let r = post("/api/v1/notices", &unbound, notice("T5"))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a flagger account needs its registry entry"
    );
    let mut other = notice("T6");
    other["flagger_id"] = "ngo-9".into();
    let r = post("/api/v1/notices", &flagger, other).await.unwrap();
    assert_eq!(r.status(), 422);
    let own_id = own["notice"]["id"].as_str().unwrap();
    assert_eq!(
        get(&format!("/api/v1/notices/{own_id}"), &flagger)
            .await
            .unwrap()
            .status(),
        200
    );
    let relayed_id = relayed["notice"]["id"].as_str().unwrap();
    assert_eq!(
        get(&format!("/api/v1/notices/{relayed_id}"), &flagger)
            .await
            .unwrap()
            .status(),
        404,
        "a flagger reads only what it sent"
    );
    let r = post("/api/v1/removal-orders", &flagger, serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "trusted flaggers are not authorities");

    // Suspension: later notices are ordinary notices (48 h, after hash matches).
    let suspend = "/api/v1/trusted-flaggers/ngo-1/suspend";
    let r = post(suspend, &moderator, serde_json::json!({"reason": "x"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(suspend, &legal, serde_json::json!({})).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(error_fields(&r.json().await.unwrap()), ["reason"]);
    clock.advance(Duration::minutes(5));
    let r = post(
        suspend,
        &legal,
        serde_json::json!({"reason": "DSC decision IE-TF-2026-4, investigation"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let suspended: serde_json::Value = r.json().await.unwrap();
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["changes"][0]["by"], "legal1");
    let r = post(suspend, &legal, serde_json::json!({"reason": "again"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = post("/api/v1/notices", &flagger, notice("T7"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let late: serde_json::Value = r.json().await.unwrap();
    assert_eq!(late["notice"]["body"]["trusted_flagger"], false);
    assert_eq!(late["notice"]["body"]["flagger_id"], "ngo-1");
    let late_case = s.case(late["case_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        late_case.due_at,
        Some(T0 + Duration::minutes(5) + Duration::hours(48))
    );
    assert_eq!(s.queue_head(4).await.unwrap()[3], late_case.case.id);

    // Counts for transparency reports: received, decided, acted on.
    for _ in 0..2 {
        let id = s.claim_next("alice", false).await.unwrap().unwrap();
        let input = if id == own_case {
            remove()
        } else {
            assert_eq!(id, relayed_case);
            DecisionInput {
                outcome: Outcome::NotTerroristContent { exemption: None },
                grounds: vec![],
                tos_clauses: vec![],
                justification: "a documentary".into(),
            }
        };
        s.decide(&id, "alice", &input).await.unwrap();
    }
    let list: serde_json::Value = get("/api/v1/trusted-flaggers", &auditor)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counts = &list["flaggers"][0]["counts"];
    assert_eq!(
        counts["notices_received"], 2,
        "the suspended period's notice is not"
    );
    assert_eq!(counts["notices_decided"], 2);
    assert_eq!(counts["notices_acted_on"], 1);
    let received: Vec<(String, f64)> = redis::AsyncCommands::zrange_withscores(
        &mut s.connection(),
        s.key("flagger:ngo-1:received"),
        0,
        -1,
    )
    .await
    .unwrap();
    assert_eq!(received.len(), 2);
    assert!(
        received
            .iter()
            .all(|(_, at)| *at as i64 == T0.unix_timestamp() * 1000),
        "receipt times kept for period reports"
    );

    // Reinstated: trusted again; every registry change is in the audit chain.
    let r = post(
        "/api/v1/trusted-flaggers/ngo-1/reinstate",
        &admin,
        serde_json::json!({"reason": "investigation closed"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let view: serde_json::Value = get("/api/v1/trusted-flaggers/ngo-1", &legal)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "active");
    assert_eq!(view["counts"]["notices_received"], 2);
    let trail = audit::for_subjects(&s, &["flagger:ngo-1".to_string()], 100)
        .await
        .unwrap();
    let actions: Vec<&str> = trail
        .iter()
        .filter_map(|e| e.fields.iter().find(|(k, _)| k == "action"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "flagger.registered",
            "flagger.suspended",
            "flagger.reinstated"
        ]
    );
    audit::seal(&s, 10_000).await.unwrap();
    let v = audit::verify(&s).await.unwrap();
    assert!(v.ok(), "{:?}", v.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_australian_removal_notice_opens_one_case_per_url_due_24_hours_after_it_was_given() {
    use sha2::Digest;
    use takedown_review::model::Role;
    use takedown_review_ui::api::{add_token, router};
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let esafety = add_token(&s, "au-esafety", Role::AuthorityClient)
        .await
        .unwrap();
    let other = add_token(&s, "fr-oclctic", Role::AuthorityClient)
        .await
        .unwrap();
    let moderator = add_token(&s, "alice", Role::Moderator).await.unwrap();
    let base = serve(router(s.clone())).await;
    let http = reqwest::Client::new();
    let send = |token: &str, body: Vec<u8>| {
        http.post(format!("{base}/api/v1/removal-notices/au"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // Authenticated, role-checked, every missing or malformed field named.
    let r = http
        .post(format!("{base}/api/v1/removal-notices/au"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = send(&moderator, b"{}".to_vec()).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = send(&esafety, b"{}".to_vec()).await.unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_au_notice");
    assert_eq!(
        error_fields(&body),
        ["reference", "section", "given_at", "recipient", "urls"]
    );
    let r = send(
        &esafety,
        serde_json::json!({"reference": "ESC-1", "section": "s109",
            "given_at": "2026-06-01T13:00:00Z", "recipient": "Example Pty Ltd",
            "urls": ["https://example.org/a", "not a url"]})
        .to_string()
        .into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        error_fields(&r.json().await.unwrap()),
        ["given_at", "urls[1]"],
        "given in the future, bad URL"
    );

    // Two URLs: two cases, one deadline 24 h after the notice was given (here: received).
    s.ingest_match(&a_match("p-hm", "m", "l", "01", "critical"))
        .await
        .unwrap();
    let raw = serde_json::json!({"reference": "ESC-RN-2026-0042", "section": "s109",
        "given_at": "2026-06-01T12:00:00Z", "recipient": "Example Pty Ltd",
        "service": "Example social", "description": "class 1 material",
        "urls": ["https://example.org/au/1", "https://example.org/au/2"]})
    .to_string()
    .into_bytes();
    let r = send(&esafety, raw.clone()).await.unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["due_at"], "2026-06-02T12:00:00Z");
    let case_ids: Vec<String> = serde_json::from_value(created["case_ids"].clone()).unwrap();
    assert_eq!(case_ids.len(), 2);
    let notice_id = created["notice"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["notice"]["sha256"],
        hex::encode(sha2::Sha256::digest(&raw))
    );
    let stored: (Vec<u8>, i64) = redis::pipe()
        .hget(s.key(&format!("au_notice:{notice_id}")), "raw")
        .hget(s.key(&format!("au_notice:{notice_id}")), "received_at")
        .query_async(&mut s.connection())
        .await
        .unwrap();
    assert_eq!(stored.0, raw, "the raw body as received");
    assert_eq!(stored.1, T0.unix_timestamp() * 1000);
    let head: HashSet<String> = s.queue_head(2).await.unwrap().into_iter().collect();
    assert_eq!(
        head,
        case_ids.iter().cloned().collect(),
        "Australian notices before hash matches"
    );
    for id in &case_ids {
        let view = s.case(id).await.unwrap();
        assert_eq!(view.due_at, Some(T0 + Duration::hours(24)));
        assert_eq!(view.case.sla.received_at, T0);
    }

    // The same reference again is the same notice: original receipt time.
    clock.advance(Duration::minutes(3));
    let r = send(&esafety, raw.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(again["notice"]["received_at"], "2026-06-01T12:00:00Z");
    let path = format!("{base}/api/v1/removal-notices/au/{notice_id}");
    let r = http.get(&path).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), 404, "another authority does not see it");
    let r = http.get(&path).bearer_auth(&esafety).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // 23:59:59 after it was given is in time; at 24:00:01 the other case has breached.
    clock.set(T0 + Duration::hours(24) - Duration::seconds(1));
    s.claim_next("alice", false).await.unwrap();
    s.claim_next("alice", false).await.unwrap();
    for id in &case_ids {
        assert!(s.case(id).await.unwrap().holder.is_some());
    }
    assert_eq!(s.sweep(100).await.unwrap(), (0, 0));
    let first = s.decide(&case_ids[0], "alice", &remove()).await.unwrap();
    assert!(first.in_time);
    clock.set(T0 + Duration::hours(24) + Duration::seconds(1));
    assert_eq!(
        s.sweep(100).await.unwrap(),
        (2, 2),
        "the open notice case and the hash match breach; the decided case's deadline is gone"
    );
    assert_eq!(s.case(&case_ids[0]).await.unwrap().breached_at, None);
    let view = s.case(&case_ids[1]).await.unwrap();
    assert_eq!(view.breached_at, Some(T0 + Duration::hours(24)));
    let second = s.decide(&case_ids[1], "alice", &remove()).await.unwrap();
    assert!(!second.in_time);

    // Given two hours before it reached us: the clock started when it was given. A longer
    // period the Commissioner allows replaces the 24 hours.
    let now = clock_now(&s);
    let given = now - Duration::hours(2);
    let fmt = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let r = send(
        &esafety,
        serde_json::json!({"reference": "ESC-RN-2026-0043", "section": "s110",
            "given_at": fmt(given), "recipient": "Example Hosting Pty Ltd",
            "urls": ["https://example.org/au/3"]})
        .to_string()
        .into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["due_at"], fmt(given + Duration::hours(24)));
    let r = send(
        &esafety,
        serde_json::json!({"reference": "ESC-RN-2026-0044", "section": "s109",
            "given_at": fmt(now), "recipient": "Example Pty Ltd", "allowed_period_hours": 72,
            "urls": ["https://example.org/au/4"]})
        .to_string()
        .into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["due_at"], fmt(now + Duration::hours(72)));
}
