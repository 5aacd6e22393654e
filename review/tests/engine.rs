//! Behaviour of the review engine against a real Redis (and, for the matches consumer, a real
//! broker): idempotent cases, the priority queue and its leases, deadlines fired once across
//! replicas, decisions, orders, the audit chain, feedback to the lists, the sweeper, and
//! durability across an AOF restart. Time comes from a manual clock.

mod evidence;
mod legal_rules;
mod reports_ledger;
mod support;
mod video_case;
mod workflow;

use std::collections::HashSet;
use std::sync::Arc;
use support::*;
use takedown_core::clock::ManualClock;
use takedown_core::messages::Match;
use takedown_local_services::{RedisOptions, RedisServer, unique_name};
use takedown_review::audit;
use takedown_review::model::{DecisionInput, Outcome, PurposeExemption};
use takedown_review::order::parse_order;
use takedown_review::store::{MatchOutcome, ReviewStore, StoreError};
use time::Duration;
use time::macros::datetime;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_consumer_opens_cases_and_dead_letters_malformed_matches_with_the_field() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use takedown_ingest::metrics::StageMetrics;
    use takedown_ingest::runner::{self, RunnerConfig};
    use takedown_review::intake_stage::MatchIntake;
    let broker = takedown_local_services::KafkaBroker::start().unwrap();
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
    use takedown_review::actions::{Publisher, PublisherConfig};
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
    let sweeper = tokio::spawn(takedown_review::sweeper::run(
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
