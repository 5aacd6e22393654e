//! Behaviour of the review store against a real Redis: idempotent cases, the priority queue
//! and its leases, deadlines fired once across replicas, decisions, orders, the audit chain,
//! and durability across an AOF restart. Time comes from a manual clock.

use std::collections::HashSet;
use std::sync::Arc;
use takedown_core::SignalType;
use takedown_core::clock::ManualClock;
use takedown_core::messages::{Match, match_id};
use takedown_review_ui::audit;
use takedown_review_ui::model::{DecisionInput, Ground, Outcome, PurposeExemption};
use takedown_review_ui::order::parse_order;
use takedown_review_ui::store::{MatchOutcome, ReviewStore, StoreError, StoreOptions};
use takedown_test_services::{RedisOptions, RedisServer, unique_name};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

async fn store_at(redis: &RedisServer, prefix: &str, clock: Arc<ManualClock>) -> ReviewStore {
    let opts = StoreOptions {
        prefix: prefix.to_string(),
        ..StoreOptions::default()
    };
    ReviewStore::connect(&redis.url(), opts, clock)
        .await
        .unwrap()
}

async fn store(redis: &RedisServer) -> (ReviewStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (
        store_at(redis, &unique_name("rv"), clock.clone()).await,
        clock,
    )
}

fn a_match(post: &str, media: &str, list: &str, entry_hex: &str, severity: &str) -> Match {
    let entry = format!("pdq:{entry_hex}");
    Match {
        schema: 1,
        match_id: match_id(post, media, list, &entry),
        post_id: post.into(),
        platform: "web".into(),
        post_url: Some(format!("https://example.org/{post}")),
        media_id: media.into(),
        signal_type: SignalType::Pdq,
        list_id: list.into(),
        entry,
        labels: vec!["gifct:label".into()],
        severity: severity.into(),
        distance: 3,
        query_hash: "ab".repeat(32),
        list_hash: entry_hex.into(),
        matched_at: T0,
    }
}

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

fn remove() -> DecisionInput {
    DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![Ground::Incitement],
        tos_clauses: vec!["4.2".into()],
        justification: String::new(),
    }
}

fn order_json(urls: &[&str], reference: &str) -> Vec<u8> {
    serde_json::json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:50:00Z",
            "reference": reference},
        "section_b": {"urls": urls, "grounds": ["art2_7_a"], "reasons": "glorification"},
        "section_c": {"do_not_inform": true}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn matches_make_one_case_per_media_idempotently_and_cluster_by_entry() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let m1 = a_match("p1", "m1", "gifct", "00ff", "medium");
    let (case, outcome) = s.ingest_match(&m1).await.unwrap();
    assert_eq!(outcome, MatchOutcome::Created);
    assert_eq!(
        s.ingest_match(&m1).await.unwrap(),
        (case.clone(), MatchOutcome::Duplicate)
    );
    let m2 = a_match("p1", "m1", "tat", "11ee", "critical");
    assert_eq!(
        s.ingest_match(&m2).await.unwrap(),
        (case.clone(), MatchOutcome::Added)
    );
    let (other, _) = s
        .ingest_match(&a_match("p2", "m9", "gifct", "00ff", "low"))
        .await
        .unwrap();
    assert_ne!(other, case);

    let view = s.case(&case).await.unwrap();
    assert_eq!(view.matches.len(), 2);
    assert_eq!(
        view.case.rank, 3,
        "a critical match raises the case's priority"
    );
    assert_eq!(view.cluster, vec![other.clone()]);
    assert_eq!(s.case(&other).await.unwrap().cluster, vec![case.clone()]);
    assert_eq!(view.due_at, Some(T0 + Duration::hours(24)));
    assert_eq!(s.counts().await.unwrap(), (2, 0, 0, 2));
}

#[tokio::test]
async fn queue_orders_by_priority_then_age_and_leases_expire_back() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let mut low = a_match("p-low", "m", "l", "01", "low");
    low.matched_at = T0 - Duration::hours(5);
    s.ingest_match(&low).await.unwrap();
    let (high, _) = s
        .ingest_match(&a_match("p-high", "m", "l", "02", "high"))
        .await
        .unwrap();
    let (order, _) = s
        .receive_order(
            &order_json(&["https://example.org/x"], "R1"),
            parse_order(&order_json(&["https://example.org/x"], "R1")).unwrap(),
            "fr-authority",
            T0 + Duration::minutes(1),
        )
        .await
        .unwrap();
    let first = s.claim_next("alice", false).await.unwrap().unwrap();
    assert_eq!(
        first, order.case_ids[0],
        "removal orders first, even when newer"
    );
    let second = s.claim_next("bob", false).await.unwrap().unwrap();
    assert_eq!(second, high);

    // Bob's lease lapses: the case returns and Carol gets it; Bob can no longer decide.
    clock.advance(Duration::minutes(10) + Duration::seconds(1));
    let third = s.claim_next("carol", false).await.unwrap().unwrap();
    assert!(third == first || third == high, "{third}");
    assert!(matches!(
        s.decide(&high, "bob", &remove()).await,
        Err(StoreError::NotHolder)
    ));
    let view = s.case(&third).await.unwrap();
    assert_eq!(view.holder.as_deref(), Some("carol"));
    assert_eq!(view.case.first_claimed_at, Some(T0));
}

#[tokio::test]
async fn two_replicas_10000_concurrent_claims_never_share_a_case() {
    let redis = RedisServer::start().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let prefix = unique_name("rv");
    let a = store_at(&redis, &prefix, clock.clone()).await;
    let b = store_at(&redis, &prefix, clock.clone()).await;
    let cases = 5_000;
    let mut tasks = Vec::new();
    for chunk in 0..10 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            for i in (chunk * cases / 10)..((chunk + 1) * cases / 10) {
                let m = a_match(&format!("p{i}"), "m", "l", &format!("{i:04x}"), "high");
                a.ingest_match(&m).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut claims = Vec::new();
    for i in 0..10_000 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        claims.push(tokio::spawn(async move {
            s.claim_next(&format!("mod{i}"), false).await.unwrap()
        }));
    }
    let mut got = Vec::new();
    for c in claims {
        if let Some(id) = c.await.unwrap() {
            got.push(id);
        }
    }
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(
        got.len(),
        cases,
        "every case claimed once, the rest found the queue empty"
    );
    assert_eq!(unique.len(), cases, "no case claimed twice");
    assert_eq!(
        a.counts().await.unwrap(),
        (0, 0, cases as u64, cases as u64)
    );
}

#[tokio::test]
async fn two_replicas_fire_100000_deadlines_exactly_once() {
    let redis = RedisServer::start().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let prefix = unique_name("rv");
    let a = store_at(&redis, &prefix, clock.clone()).await;
    let b = store_at(&redis, &prefix, clock.clone()).await;
    let n = 100_000u64;
    // Open cases and their deadlines, written in bulk (the store's own creation path is
    // exercised by the other tests; this one is about the sweeper).
    let mut conn = a.connection();
    for chunk in 0..(n / 10_000) {
        let mut pipe = redis::pipe();
        for i in chunk * 10_000..(chunk + 1) * 10_000 {
            let due = (T0 + Duration::milliseconds(i as i64 % 1000)).unix_timestamp() * 1000
                + i as i64 % 1000;
            pipe.hset(a.key(&format!("case:c{i}")), "state", "open")
                .ignore()
                .zadd(a.key("deadlines"), format!("c{i}|0|breach"), due)
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
    }
    // Nothing is due a millisecond early.
    clock.set(T0 - Duration::milliseconds(1));
    assert_eq!(a.sweep(1000).await.unwrap(), (0, 0));
    clock.set(T0 + Duration::seconds(1));
    let sweep_all = |s: ReviewStore| {
        tokio::spawn(async move {
            let mut fired = 0;
            loop {
                let (taken, f) = s.sweep(1000).await.unwrap();
                fired += f;
                if taken == 0 {
                    return fired;
                }
            }
        })
    };
    let (fa, fb) = (sweep_all(a.clone()), sweep_all(b.clone()));
    let (fa, fb) = (fa.await.unwrap(), fb.await.unwrap());
    assert_eq!(
        fa + fb,
        n as usize,
        "every deadline fired once: {fa} + {fb}"
    );
    assert!(fa > 0 && fb > 0, "both replicas took part: {fa} + {fb}");
    let len: u64 = redis::cmd("XLEN")
        .arg(a.key("sla_events"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, n);
    assert_eq!(a.next_deadline().await.unwrap(), None);
    let breached: Option<String> = redis::cmd("HGET")
        .arg(a.key("case:c99999"))
        .arg("breached_at")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(breached.is_some());
}

#[tokio::test]
async fn removal_order_escalates_at_45_and_55_and_breaches_after_the_hour() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let body = order_json(&["https://example.org/a", "https://example.org/b"], "FR-1");
    let (order, created) = s
        .receive_order(&body, parse_order(&body).unwrap(), "fr", T0)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(order.case_ids.len(), 2, "one case per URL");
    let (raw, sha) = s.order_raw(&order.order_id).await.unwrap();
    assert_eq!(raw, body);
    assert_eq!(sha.len(), 64);
    let (again, created) = s
        .receive_order(
            &body,
            parse_order(&body).unwrap(),
            "fr",
            T0 + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.received_at, T0, "the receipt time is immutable");

    clock.set(T0 + Duration::minutes(44) + Duration::seconds(59));
    assert_eq!(s.sweep(100).await.unwrap(), (0, 0));
    clock.set(T0 + Duration::minutes(45));
    assert_eq!(
        s.sweep(100).await.unwrap(),
        (2, 2),
        "first escalation of both"
    );
    // Case b is decided in time; case a is not.
    let a = &s.claim_next("m1", false).await.unwrap().unwrap();
    let b = &s.claim_next("m2", false).await.unwrap().unwrap();
    let claimed: HashSet<&String> = [a, b].into_iter().collect();
    assert_eq!(claimed, order.case_ids.iter().collect());
    let decided = s.decide(b, "m2", &remove()).await.unwrap();
    assert!(decided.in_time);
    clock.set(T0 + Duration::minutes(59) + Duration::seconds(59));
    assert_eq!(
        s.sweep(100).await.unwrap(),
        (1, 1),
        "second escalation of a only"
    );
    // m1's ten-minute lease ran out at 55:00; m1 claims a again.
    assert_eq!(s.claim_next("m1", false).await.unwrap().as_ref(), Some(a));
    assert_eq!(s.case(a).await.unwrap().breached_at, None);
    clock.set(T0 + Duration::minutes(60) + Duration::seconds(1));
    assert_eq!(s.sweep(100).await.unwrap(), (1, 1));
    let view = s.case(a).await.unwrap();
    assert_eq!(view.escalation_level, 2);
    assert_eq!(view.breached_at, Some(T0 + Duration::hours(1)));
    let events = s.sla_events(10).await.unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[3]["kind"], "breach");
    assert!(
        events[3]["cause"].contains("claimed by m1"),
        "{:?}",
        events[3]
    );
    let late = s.decide(a, "m1", &remove()).await.unwrap();
    assert!(!late.in_time);
    let action = late.action.unwrap();
    assert_eq!(action.order_id.as_deref(), Some(order.order_id.as_str()));
    assert_eq!(action.do_not_inform_until, Some(T0 + Duration::weeks(6)));
}

#[tokio::test]
async fn annex_iii_suspends_and_clarification_restarts_a_fresh_hour() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let body = order_json(&["https://example.org/a"], "FR-2");
    let (order, _) = s
        .receive_order(&body, parse_order(&body).unwrap(), "fr", T0)
        .await
        .unwrap();
    let id = &order.case_ids[0];
    clock.set(T0 + Duration::minutes(50));
    s.suspend(id, "legal1", "technical_impossibility")
        .await
        .unwrap();
    assert_eq!(
        s.claim_next("m", false).await.unwrap(),
        None,
        "suspended cases are not queued"
    );
    clock.set(T0 + Duration::hours(3));
    assert_eq!(
        s.sweep(100).await.unwrap().1,
        0,
        "no deadline runs while suspended"
    );
    let view = s.restart(id, "legal1").await.unwrap();
    assert_eq!(view.due_at, Some(T0 + Duration::hours(4)));
    clock.set(T0 + Duration::hours(4) - Duration::seconds(1));
    let (_, fired) = s.sweep(100).await.unwrap();
    assert_eq!(fired, 2, "escalations of the fresh run");
    assert_eq!(s.case(id).await.unwrap().breached_at, None);
    clock.set(T0 + Duration::hours(4) + Duration::seconds(1));
    assert_eq!(s.sweep(100).await.unwrap().1, 1);

    // An order lacking grounds and reasons starts suspended (Annex III draft).
    let thin = serde_json::json!({
        "section_a": {"issuing_member_state": "IE", "issuing_authority": "Garda",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:50:00Z",
            "reference": "IE-9"},
        "section_b": {"urls": ["https://example.org/z"]}
    })
    .to_string();
    let parsed = parse_order(thin.as_bytes()).unwrap();
    assert!(parsed.insufficient());
    let (order, _) = s
        .receive_order(thin.as_bytes(), parsed, "ie", T0)
        .await
        .unwrap();
    let view = s.case(&order.case_ids[0]).await.unwrap();
    assert_eq!(view.due_at, None);
}

#[tokio::test]
async fn decisions_queue_actions_start_preservation_and_purge_after_six_months() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let (c1, _) = s
        .ingest_match(&a_match("p1", "m1", "l", "aa", "high"))
        .await
        .unwrap();
    let (c2, _) = s
        .ingest_match(&a_match("p2", "m1", "l", "bb", "high"))
        .await
        .unwrap();
    s.claim_next("m", false).await.unwrap();
    s.claim_next("m", false).await.unwrap();
    let nt = DecisionInput {
        outcome: Outcome::NotTerroristContent {
            exemption: Some(PurposeExemption::Journalistic),
        },
        grounds: vec![],
        tos_clauses: vec![],
        justification: String::new(),
    };
    assert!(matches!(
        s.decide(&c2, "m", &nt).await,
        Err(StoreError::Decision(_))
    ));
    let nt = DecisionInput {
        justification: "news report on the attack".into(),
        ..nt
    };
    assert!(s.decide(&c2, "m", &nt).await.unwrap().action.is_none());
    let d = s.decide(&c1, "m", &remove()).await.unwrap();
    let action = d.action.unwrap();
    assert!(matches!(
        s.decide(&c1, "m", &remove()).await,
        Err(StoreError::State(_))
    ));
    let pending = s.pending_actions(10).await.unwrap();
    assert_eq!(pending, vec![action.clone()]);
    assert!(
        s.mark_action(&action.action_id, "published_at", T0, "publisher")
            .await
            .unwrap()
    );
    assert!(
        !s.mark_action(&action.action_id, "published_at", T0, "publisher")
            .await
            .unwrap()
    );
    assert!(s.pending_actions(10).await.unwrap().is_empty());

    let view = s.case(&c1).await.unwrap();
    let keep = view.case.preservation.unwrap().keep_until;
    assert_eq!(keep, datetime!(2026-12-01 12:00 UTC));
    clock.set(keep - Duration::seconds(1));
    assert!(s.purge_due(10).await.unwrap().is_empty());
    clock.set(keep);
    assert_eq!(s.purge_due(10).await.unwrap(), vec![c1.clone()]);
    assert!(s.case(&c1).await.unwrap().matches.is_empty());

    let v = audit::verify(&s).await.unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.unsealed, v.entries);
}

#[tokio::test]
async fn audit_chain_seals_across_replicas_and_detects_tampering() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    for i in 0..20 {
        s.ingest_match(&a_match(&format!("p{i}"), "m", "l", "cc", "low"))
            .await
            .unwrap();
    }
    let (sealed_a, sealed_b) = tokio::join!(audit::seal(&s, 1000), audit::seal(&s, 1000));
    assert_eq!(sealed_a.unwrap() + sealed_b.unwrap(), 20);
    s.ingest_match(&a_match("late", "m", "l", "cc", "low"))
        .await
        .unwrap();
    let v = audit::verify(&s).await.unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!((v.entries, v.sealed_ok, v.unsealed), (21, 20, 1));

    // Rebuild the stream with one entry's actor changed (the same ids, as an attacker with
    // write access could): the recomputed chain no longer matches the seals.
    let mut conn = s.connection();
    let entries = audit::read(&s, None, 100).await.unwrap();
    let rebuild = |conn: &mut redis::aio::MultiplexedConnection,
                   skip: Option<usize>,
                   forge: Option<usize>| {
        let mut pipe = redis::pipe();
        pipe.del(s.key("audit")).ignore();
        for (i, e) in entries.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let mut cmd = redis::cmd("XADD");
            cmd.arg(s.key("audit")).arg(&e.id);
            for (k, val) in &e.fields {
                let forged = Some(i) == forge && k == "actor";
                cmd.arg(k)
                    .arg(if forged { "mallory" } else { val.as_str() });
            }
            pipe.add_command(cmd).ignore();
        }
        let mut conn = conn.clone();
        async move { pipe.query_async::<()>(&mut conn).await.unwrap() }
    };
    rebuild(&mut conn, None, Some(5)).await;
    let v = audit::verify(&s).await.unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains(&entries[5].id) && p.contains("altered")),
        "{:?}",
        v.problems
    );
    // Deleting an entry leaves a gap in the sequence.
    rebuild(&mut conn, Some(7), None).await;
    let v = audit::verify(&s).await.unwrap();
    assert!(
        v.problems.iter().any(|p| p.contains("sequence")),
        "{:?}",
        v.problems
    );
    // Deleting the tail loses the sealed head and the counter.
    rebuild(&mut conn, Some(20), None).await;
    let _: () = redis::cmd("XTRIM")
        .arg(s.key("audit"))
        .arg("MAXLEN")
        .arg(15)
        .query_async(&mut conn)
        .await
        .unwrap();
    let v = audit::verify(&s).await.unwrap();
    assert!(
        v.problems.iter().any(|p| p.contains("head")),
        "{:?}",
        v.problems
    );
    assert!(
        v.problems.iter().any(|p| p.contains("tail")),
        "{:?}",
        v.problems
    );
}

#[tokio::test]
async fn aof_restart_mid_run_loses_no_acknowledged_decision() {
    let mut redis = RedisServer::start_with(RedisOptions {
        appendonly: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let prefix = unique_name("rv");
    let s = store_at(&redis, &prefix, clock.clone()).await;
    let mut ids = Vec::new();
    for i in 0..50 {
        let (id, _) = s
            .ingest_match(&a_match(&format!("p{i}"), "m", "l", "dd", "high"))
            .await
            .unwrap();
        ids.push(id);
    }
    let mut acknowledged = Vec::new();
    for _ in 0..25 {
        let id = s.claim_next("m", false).await.unwrap().unwrap();
        s.decide(&id, "m", &remove()).await.unwrap();
        acknowledged.push(id);
    }
    redis.restart().unwrap();
    let s = store_at(&redis, &prefix, clock.clone()).await;
    for id in &acknowledged {
        let view = s.case(id).await.unwrap();
        assert!(view.case.decision.is_some(), "decision on {id} lost");
    }
    assert_eq!(s.pending_actions(100).await.unwrap().len(), 25);
    // The run continues after the restart.
    let id = s.claim_next("m", false).await.unwrap().unwrap();
    s.decide(&id, "m", &remove()).await.unwrap();
    assert!(audit::verify(&s).await.unwrap().ok());
}

#[tokio::test]
async fn http_api_enforces_roles_validates_orders_and_runs_claim_to_decision() {
    use takedown_review_ui::api::{add_token, router};
    use takedown_review_ui::model::Role;
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

/// Reads up to `expected` records of `topic` within `within`: (key, payload, dead-letter
/// headers).
async fn read_topic(
    broker: &takedown_test_services::KafkaBroker,
    topic: &str,
    expected: usize,
    within: std::time::Duration,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use takedown_ingest::runner::header_text;
    let consumer: StreamConsumer = broker
        .consumer_config(&unique_name("reader"))
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < expected {
        let Ok(Ok(m)) = tokio::time::timeout_at(deadline, consumer.recv()).await else {
            break;
        };
        out.push((
            String::from_utf8_lossy(m.key().unwrap_or_default()).to_string(),
            String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
            header_text(&m, "error.code"),
            header_text(&m, "error.message"),
        ));
    }
    out
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_reaches_kafka_once_acked_and_the_signed_webhook_with_retries_across_restarts() {
    use takedown_review_ui::actions::{
        Publisher, PublisherConfig, Secret, WebhookConfig, signature,
    };
    let broker = takedown_test_services::KafkaBroker::start().unwrap();
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
        let sent: takedown_review_ui::model::TakedownAction =
            serde_json::from_str(payload).unwrap();
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
        assert_eq!(
            sig.as_deref(),
            Some(signature(&Secret::new("s3cret"), body).as_str())
        );
    }
    let times = s.action_times(&actions[1].action_id).await.unwrap();
    assert_eq!(times["webhook_at"], T0);
    let times = s.action_times(&actions[0].action_id).await.unwrap();
    assert_eq!(times["webhook_at"], T0 + Duration::minutes(1));
    assert!(audit::verify(&s).await.unwrap().ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_consumer_opens_cases_and_dead_letters_malformed_matches_with_the_field() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use takedown_ingest::metrics::StageMetrics;
    use takedown_ingest::runner::{self, RunnerConfig};
    use takedown_review_ui::intake_stage::MatchIntake;
    let broker = takedown_test_services::KafkaBroker::start().unwrap();
    let input = unique_name("matches");
    broker.create_topic(&input, 2).await.unwrap();
    broker
        .create_topic(&format!("{input}.dlq"), 1)
        .await
        .unwrap();
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;

    let good = a_match("p1", "m1", "gifct", "00ff", "high");
    let second_list = a_match("p1", "m1", "tat", "11ee", "critical");
    let other_post = a_match("p2", "m1", "gifct", "00ff", "low");
    let mut no_media = serde_json::to_value(&good).unwrap();
    no_media.as_object_mut().unwrap().remove("media_id");
    let mut bad_severity = serde_json::to_value(&other_post).unwrap();
    bad_severity["severity"] = "urgent".into();
    let json = |m: &Match| serde_json::to_string(m).unwrap();
    let messages = [
        ("p1", json(&good)),
        ("p1", json(&good)), // redelivered
        ("p1", json(&second_list)),
        ("p2", json(&other_post)),
        ("p1", no_media.to_string()),
        ("p3", "not json".to_string()),
        ("p2", bad_severity.to_string()),
    ];
    let producer: FutureProducer = broker.producer_config().create().unwrap();
    for (key, value) in &messages {
        producer
            .send(
                FutureRecord::to(&input).key(*key).payload(value),
                std::time::Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let mut rc = RunnerConfig::new(broker.bootstrap_servers(), &unique_name("review"), &input);
    rc.consumer_settings = vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
    ];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stage = Arc::new(MatchIntake::new(s.clone()));
    let run = tokio::spawn(runner::run(rc, stage, StageMetrics::new("review"), async {
        let _ = stopped.await;
    }));
    let dead = read_topic(
        &broker,
        &format!("{input}.dlq"),
        3,
        std::time::Duration::from_secs(60),
    )
    .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.counts().await.unwrap().0 < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    run.await.unwrap().unwrap();

    let mut errors: Vec<(String, String)> = dead
        .iter()
        .map(|(_, _, code, message)| (code.clone().unwrap(), message.clone().unwrap()))
        .collect();
    errors.sort();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(errors[0].0, "invalid_message");
    assert!(
        errors
            .iter()
            .any(|(_, m)| m.contains("missing field `media_id`")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|(_, m)| m.contains("expected ident")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(c, m)| c == "invalid_value" && m.contains("severity")),
        "{errors:?}"
    );
    let (case, _) = s.ingest_match(&good).await.unwrap();
    let view = s.case(&case).await.unwrap();
    assert_eq!(
        view.matches.len(),
        2,
        "one case for both lists, the redelivery ignored"
    );
    assert_eq!(view.case.rank, 3);
    assert_eq!(s.counts().await.unwrap().0, 2);
}

#[tokio::test]
async fn decisions_feed_true_and_false_positives_back_to_the_hash_lists_once() {
    use takedown_hashlists::ListId;
    use takedown_hashlists::store::Store as ListStore;
    use takedown_review_ui::actions::{Publisher, PublisherConfig};
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let lists = ListStore::connect(&redis.url(), &unique_name("td"))
        .await
        .unwrap();
    let (e1, e2, e3) = ("ab".repeat(32), "cd".repeat(32), "ef".repeat(32));
    let (removed, _) = s
        .ingest_match(&a_match("p1", "m", "gifct", &e1, "high"))
        .await
        .unwrap();
    s.ingest_match(&a_match("p1", "m", "tat", &e2, "high"))
        .await
        .unwrap();
    let (cleared, _) = s
        .ingest_match(&a_match("p2", "m", "gifct", &e3, "high"))
        .await
        .unwrap();
    let (escalated, _) = s
        .ingest_match(&a_match("p3", "m", "gifct", &e3, "high"))
        .await
        .unwrap();
    for _ in 0..3 {
        s.claim_next("m", false).await.unwrap();
    }
    s.decide(&removed, "m", &remove()).await.unwrap();
    let nt = DecisionInput {
        outcome: Outcome::NotTerroristContent { exemption: None },
        grounds: vec![],
        tos_clauses: vec![],
        justification: "a museum photo".into(),
    };
    s.decide(&cleared, "m", &nt).await.unwrap();
    let escalate = DecisionInput {
        outcome: Outcome::Escalate,
        justification: "unsure".into(),
        ..nt.clone()
    };
    s.decide(&escalated, "m", &escalate).await.unwrap();

    // The publisher needs no broker for feedback.
    let publisher = Publisher::new(
        s.clone(),
        PublisherConfig::new("127.0.0.1:9", "unused"),
        Some(lists.clone()),
    )
    .unwrap();
    assert_eq!(publisher.send_feedback().await.unwrap(), 3);
    assert_eq!(publisher.send_feedback().await.unwrap(), 0, "sent once");
    let fb = |list: &str, e: &str| {
        let lists = lists.clone();
        let (list, key) = (ListId::parse(list).unwrap(), format!("pdq:{e}"));
        async move { lists.feedback(&list, &key).await.unwrap() }
    };
    let (g1, t2, g3) = (
        fb("gifct", &e1).await,
        fb("tat", &e2).await,
        fb("gifct", &e3).await,
    );
    assert_eq!((g1.true_positives, g1.false_positives), (1, 0));
    assert_eq!((t2.true_positives, t2.false_positives), (1, 0));
    assert_eq!(
        (g3.true_positives, g3.false_positives),
        (0, 1),
        "the escalated case gave no verdict yet"
    );
    let trail = audit::for_subject(&s, &removed, 100).await.unwrap();
    assert!(trail.iter().any(|e| {
        e.fields
            .iter()
            .any(|(k, v)| k == "action" && v == "feedback.sent")
    }));
}

#[tokio::test]
async fn http_notices_complaints_annex_ii_embargo_holds_and_case_audit() {
    use takedown_review_ui::api::{ApiOptions, add_token, router_with};
    use takedown_review_ui::model::Role;
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

fn clock_now(s: &ReviewStore) -> OffsetDateTime {
    s.clock().now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeper_loop_fires_what_falls_due_then_seals_and_stops_on_request() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    for i in 0..3 {
        s.ingest_match(&a_match(&format!("p{i}"), "m", "l", "aa", "high"))
            .await
            .unwrap();
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(takedown_review_ui::sweeper::run(
        s.clone(),
        std::time::Duration::from_millis(50),
        stop_rx,
    ));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(s.counts().await.unwrap().3, 3, "nothing due yet");
    clock.set(T0 + Duration::hours(24));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = audit::verify(&s).await.unwrap();
        if s.counts().await.unwrap().3 == 0 && v.unsealed == 0 {
            assert!(v.ok(), "{:?}", v.problems);
            assert_eq!(v.entries, 6, "three cases created, three breaches");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sweeper did not catch up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(s.sla_events(10).await.unwrap().len(), 3);
    stop_tx.send(true).unwrap();
    sweeper.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_trusted_flagger_registry_decides_which_notices_are_trusted() {
    use takedown_review_ui::api::{add_token, router};
    use takedown_review_ui::model::Role;
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
    use takedown_review_ui::api::{add_token, router};
    use takedown_review_ui::model::Role;
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
            .body(body)
            .send()
    };

    // Authenticated, role-checked, every missing or malformed field named.
    let r = http
        .post(format!("{base}/api/v1/removal-notices/au"))
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
