//! Named queues, appeals and QA sampling against a real Redis: a rule routes a labelled
//! match and an order to their queues without touching their deadlines; claims by role
//! skip queues the role may not see; rule changes are versioned, audited and refused on a
//! stale version; a complaint is never claimed or decided by the contested decider, and its
//! reversal queues the restore action; QA draws follow the seeded share and count agreement.

use super::support::*;
use takedown_local_services::RedisServer;
use takedown_review::intake::parse_complaint;
use takedown_review::model::{Outcome, Role};
use takedown_review::order::parse_order;
use takedown_review::qa::Verdict;
use takedown_review::routing::{Conditions, QueueDef, RoutingConfig, Rule};
use takedown_review::store::{ReviewStore, StoreError};
use time::Duration;

/// The built-in queues plus `bombs` (seniors only) and `orders` (legal only), with rules
/// sending label `bomb` and removal orders there.
fn config() -> RoutingConfig {
    let mut c = RoutingConfig::default();
    for (name, role) in [("bombs", Role::SeniorModerator), ("orders", Role::Legal)] {
        c.queues.push(QueueDef {
            name: name.into(),
            title: name.into(),
            roles: vec![role],
            qa_percent: 5.0,
        });
    }
    c.rules = vec![
        Rule {
            when: Conditions {
                label: Some("bomb".into()),
                ..Conditions::default()
            },
            queue: "bombs".into(),
        },
        Rule {
            when: Conditions {
                source: Some("removal_order".into()),
                ..Conditions::default()
            },
            queue: "orders".into(),
        },
    ];
    c
}

async fn audited(s: &ReviewStore, subject: &str, action: &str) -> usize {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(s.key("audit"))
        .arg("-")
        .arg("+")
        .query_async(&mut s.connection())
        .await
        .unwrap();
    reply
        .ids
        .iter()
        .filter(|e| {
            e.get::<String>("subject").as_deref() == Some(subject)
                && e.get::<String>("action").as_deref() == Some(action)
        })
        .count()
}

#[tokio::test]
async fn rules_route_new_cases_by_label_and_source_and_roles_see_only_their_queues() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    assert_eq!(s.routing().await.unwrap().version, 0);
    assert_eq!(s.save_routing(0, config(), "root").await.unwrap(), 1);
    assert_eq!(audited(&s, "routing", "routing.updated").await, 1);
    let mut bomb = a_match("p1", "m1", "gifct", "00ff", "low");
    bomb.labels = vec!["bomb".into()];
    let (bomb_case, _) = s.ingest_match(&bomb).await.unwrap();
    let (plain, _) = s
        .ingest_match(&a_match("p2", "m2", "gifct", "11ee", "low"))
        .await
        .unwrap();
    let body = order_json(&["https://example.org/o"], "R-ROUTE");
    let (order, _) = s
        .receive_order(&body, parse_order(&body).unwrap(), "fr", T0)
        .await
        .unwrap();
    let order_case = &order.case_ids[0];
    assert_eq!(
        s.case_queue(&bomb_case).await.unwrap().as_deref(),
        Some("bombs")
    );
    assert_eq!(
        s.case_queue(&plain).await.unwrap().as_deref(),
        Some("general")
    );
    assert_eq!(
        s.case_queue(order_case).await.unwrap().as_deref(),
        Some("orders")
    );
    // The deadlines are the law's, whatever the queue: 24 h for a match, 1 h for an order.
    assert_eq!(
        s.case(&bomb_case).await.unwrap().due_at,
        Some(T0 + Duration::hours(24))
    );
    assert_eq!(
        s.case(order_case).await.unwrap().due_at,
        Some(T0 + Duration::hours(1))
    );
    assert!(!s.may_see_case(&bomb_case, Role::Moderator).await.unwrap());
    assert!(
        s.may_see_case(&bomb_case, Role::SeniorModerator)
            .await
            .unwrap()
    );
    assert!(
        !s.may_see_case(order_case, Role::SeniorModerator)
            .await
            .unwrap()
    );
    assert!(s.may_see_case(order_case, Role::Admin).await.unwrap());
    // A moderator's claim passes over the order (first in urgency) and the bomb case.
    assert_eq!(
        s.claim_next_as("mia", Role::Moderator)
            .await
            .unwrap()
            .as_deref(),
        Some(plain.as_str())
    );
    assert_eq!(s.claim_next_as("mo", Role::Moderator).await.unwrap(), None);
    assert_eq!(
        s.claim_next_as("sam", Role::SeniorModerator)
            .await
            .unwrap()
            .as_deref(),
        Some(bomb_case.as_str())
    );
    assert_eq!(
        s.claim_next_as("lea", Role::Legal)
            .await
            .unwrap()
            .as_deref(),
        Some(order_case.as_str())
    );
    // The creation's audit entry says where the case went and under which version.
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(s.key("audit"))
        .arg("-")
        .arg("+")
        .query_async(&mut s.connection())
        .await
        .unwrap();
    let created = reply
        .ids
        .iter()
        .find(|e| {
            e.get::<String>("subject").as_deref() == Some(bomb_case.as_str())
                && e.get::<String>("action").as_deref() == Some("case.created")
        })
        .unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&created.get::<String>("after").unwrap()).unwrap();
    assert_eq!(after["queue"], "bombs");
    assert_eq!(after["routing_version"], 1);
    assert_eq!(after["rule"], 0);
}

#[tokio::test]
async fn routing_changes_are_versioned_and_refused_when_stale_or_invalid() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    s.save_routing(0, config(), "root").await.unwrap();
    let mut next = config();
    next.rules.remove(0);
    // Someone saved version 1 meanwhile: a save based on version 0 is refused.
    assert!(matches!(
        s.save_routing(0, next.clone(), "other").await,
        Err(StoreError::State(_))
    ));
    assert_eq!(s.save_routing(1, next, "root").await.unwrap(), 2);
    let mut bad = config();
    bad.rules[0].queue = "nowhere".into();
    match s.save_routing(2, bad, "root").await {
        Err(StoreError::Invalid(m)) => assert!(m.starts_with("rules[0].queue"), "{m}"),
        other => panic!("{other:?}"),
    }
    let versions = s.routing_versions(10).await.unwrap();
    let numbers: Vec<u64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(versions[0].config.rules.len(), 1);
    assert_eq!(versions[1].config.rules.len(), 2);
    assert_eq!(s.routing().await.unwrap().version, 2);
    assert_eq!(audited(&s, "routing", "routing.updated").await, 2);
}

#[tokio::test]
async fn a_complaint_is_never_decided_by_the_contested_decider_and_a_reversal_restores() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let (case, _) = s
        .ingest_match(&a_match("p1", "m1", "gifct", "00ff", "high"))
        .await
        .unwrap();
    assert_eq!(
        s.claim_next("ana", false).await.unwrap(),
        Some(case.clone())
    );
    s.decide(&case, "ana", &remove()).await.unwrap();
    clock.set(T0 + Duration::hours(2));
    let body = serde_json::json!({"case_id": case, "explanation": "it was news reporting",
        "complainant": {"name": "A. Author", "email": "author@example.org"}})
    .to_string();
    let contested = s.case(&case).await.unwrap().case;
    let (k, _) = s
        .receive_complaint(
            body.as_bytes(),
            parse_complaint(body.as_bytes()).unwrap(),
            &contested,
            "web",
            T0 + Duration::hours(2),
        )
        .await
        .unwrap();
    assert_eq!(
        s.case_queue(&k.case_id).await.unwrap().as_deref(),
        Some("complaints")
    );
    // Ana's claim passes over the complaint against her own decision; a colleague's takes it.
    assert_eq!(s.claim_next("ana", true).await.unwrap(), None);
    let appeal = s.appeal(&k.case_id).await.unwrap();
    assert_eq!(appeal.complaint.explanation, "it was news reporting");
    assert_eq!(appeal.contested.case.id, case);
    let reverse = takedown_review::appeals::decision_for(
        takedown_review::appeals::AppealOutcome::Reverse,
        appeal.contested.case.decision.as_ref().unwrap(),
        &[],
        "news reporting is exempt",
    )
    .unwrap();
    assert_eq!(
        s.claim_next("ben", true).await.unwrap(),
        Some(k.case_id.clone())
    );
    // Even holding nothing, Ana's decision is refused before anything else is looked at.
    assert!(matches!(
        s.decide(&k.case_id, "ana", &reverse).await,
        Err(StoreError::State(m)) if m.contains("contested decision")
    ));
    let decided = s.decide(&k.case_id, "ben", &reverse).await.unwrap();
    let action = decided.action.expect("a reversal reinstates");
    assert_eq!(action.kind, takedown_review::model::ActionKind::Restore);
    assert_eq!(action.subject, contested.subject);
    assert_eq!(
        s.case(&k.case_id)
            .await
            .unwrap()
            .case
            .decision
            .unwrap()
            .input
            .outcome,
        Outcome::Restore
    );
}

#[tokio::test]
async fn qa_draws_follow_the_queue_share_stay_blind_and_count_agreement() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let s = s.with_qa_seed(7);
    let mut c = config();
    for q in &mut c.queues {
        q.qa_percent = match q.name.as_str() {
            "general" => 100.0,
            _ => 0.0,
        };
    }
    s.save_routing(0, c, "root").await.unwrap();
    // general: every decision drawn; bombs: none.
    let mut cases = Vec::new();
    for i in 0..3 {
        let (id, _) = s
            .ingest_match(&a_match(
                &format!("p{i}"),
                "m",
                "gifct",
                &format!("{i:02x}"),
                "low",
            ))
            .await
            .unwrap();
        cases.push(id);
    }
    let mut bomb = a_match("pb", "m", "tat", "ffff", "low");
    bomb.labels = vec!["bomb".into()];
    let (bomb_case, _) = s.ingest_match(&bomb).await.unwrap();
    // All four at one rank and time: claimed in id order, each decided by Ana.
    for _ in 0..4 {
        let id = s.claim_next("ana", false).await.unwrap().unwrap();
        s.decide(&id, "ana", &remove()).await.unwrap();
    }
    assert_eq!(s.claim_next("ana", false).await.unwrap(), None);
    let pending = s.qa_pending(10).await.unwrap();
    let mut drawn: Vec<String> = pending.iter().map(|t| t.case_id.clone()).collect();
    drawn.sort();
    cases.sort();
    assert_eq!(drawn, cases, "every general decision, not the bomb case");
    assert!(
        pending
            .iter()
            .all(|t| t.first_by == "ana" && t.lists == ["gifct"])
    );
    // The task carries no outcome for the second reviewer to see.
    let task = serde_json::to_value(&pending[0]).unwrap();
    assert!(
        task.get("first").is_none() && task.get("outcome").is_none(),
        "{task}"
    );
    // Never by the first decider; agreement counted per moderator and per list.
    assert!(matches!(
        s.qa_review(&pending[0].id, "ana", Verdict::Restrict).await,
        Err(StoreError::State(_))
    ));
    assert!(
        s.qa_review(&pending[0].id, "ben", Verdict::Restrict)
            .await
            .unwrap()
    );
    assert!(
        !s.qa_review(&pending[1].id, "ben", Verdict::Allow)
            .await
            .unwrap()
    );
    assert!(matches!(
        s.qa_review(&pending[1].id, "cy", Verdict::Allow).await,
        Err(StoreError::State(_))
    ));
    let a = s.qa_agreement().await.unwrap();
    assert_eq!(a.pending, 1);
    assert_eq!(
        (
            a.moderators[0].key.as_str(),
            a.moderators[0].reviewed,
            a.moderators[0].agreed
        ),
        ("ana", 2, 1)
    );
    assert_eq!(
        (
            a.lists[0].key.as_str(),
            a.lists[0].reviewed,
            a.lists[0].agreed
        ),
        ("gifct", 2, 1)
    );
    assert_eq!(a.moderators[0].percent(), "50.0%");
    assert_eq!(audited(&s, &pending[0].case_id, "qa.reviewed").await, 1);
    assert_eq!(audited(&s, &bomb_case, "qa.sampled").await, 0);
}

#[tokio::test]
async fn an_escalation_from_a_moderators_only_queue_reaches_the_seniors() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let mut c = config();
    c.queues.push(QueueDef {
        name: "mods".into(),
        title: "Moderators".into(),
        roles: vec![Role::Moderator],
        qa_percent: 5.0,
    });
    c.rules.push(Rule {
        when: Conditions {
            list: Some("tat".into()),
            ..Conditions::default()
        },
        queue: "mods".into(),
    });
    s.save_routing(0, c, "root").await.unwrap();
    let (case, _) = s
        .ingest_match(&a_match("p1", "m1", "tat", "00ff", "low"))
        .await
        .unwrap();
    assert!(!s.may_see_case(&case, Role::SeniorModerator).await.unwrap());
    assert_eq!(
        s.claim_next_as("sam", Role::SeniorModerator).await.unwrap(),
        None
    );
    assert_eq!(
        s.claim_next_as("mia", Role::Moderator)
            .await
            .unwrap()
            .as_deref(),
        Some(case.as_str())
    );
    let escalate = takedown_review::model::DecisionInput {
        outcome: Outcome::Escalate,
        grounds: vec![],
        tos_clauses: vec![],
        justification: "needs a senior".into(),
    };
    s.decide(&case, "mia", &escalate).await.unwrap();
    // Escalated, it is the seniors' whatever its queue; legal still does not see it.
    assert!(s.may_see_case(&case, Role::SeniorModerator).await.unwrap());
    assert!(!s.may_see_case(&case, Role::Legal).await.unwrap());
    assert_eq!(
        s.claim_next_as("sam", Role::SeniorModerator)
            .await
            .unwrap()
            .as_deref(),
        Some(case.as_str())
    );
}

#[tokio::test]
async fn a_posts_language_routes_its_match_and_hidden_queues_stay_out_of_counts_and_lists() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let mut c = config();
    c.queues.push(QueueDef {
        name: "german".into(),
        title: "German".into(),
        roles: vec![Role::SeniorModerator],
        qa_percent: 5.0,
    });
    c.rules.push(Rule {
        when: Conditions {
            language: Some("de".into()),
            ..Conditions::default()
        },
        queue: "german".into(),
    });
    s.save_routing(0, c, "root").await.unwrap();
    // The same list entry, posted in German (a regional tag) and in French.
    let mut de = a_match("p-de", "m1", "gifct", "00ff", "low");
    de.language = Some("de_AT".into());
    let mut fr = a_match("p-fr", "m2", "gifct", "00ff", "low");
    fr.language = Some("fr".into());
    let (de_case, _) = s.ingest_match(&de).await.unwrap();
    let (fr_case, _) = s.ingest_match(&fr).await.unwrap();
    let mut odd = a_match("p-odd", "m3", "gifct", "22dd", "low");
    odd.language = Some("<de>".into());
    let (odd_case, _) = s.ingest_match(&odd).await.unwrap();
    assert_eq!(
        s.case_queue(&de_case).await.unwrap().as_deref(),
        Some("german")
    );
    assert_eq!(
        s.case(&de_case)
            .await
            .unwrap()
            .case
            .subject
            .language
            .as_deref(),
        Some("de-AT")
    );
    assert_eq!(
        s.case_queue(&fr_case).await.unwrap().as_deref(),
        Some("general")
    );
    // A malformed tag is dropped, not matched: the default queue.
    assert_eq!(s.case(&odd_case).await.unwrap().case.subject.language, None);
    assert_eq!(
        s.case_queue(&odd_case).await.unwrap().as_deref(),
        Some("general")
    );

    // A moderator is told of the two general cases only; a senior of all three.
    let m = s.counts_for(Role::Moderator).await.unwrap();
    assert_eq!((m.queued, m.senior_queued, m.claimed), (2, 0, 0));
    let all = s.counts().await.unwrap();
    assert_eq!(all.0, 3);
    // Each case has its escalation points and breach: the moderator's are two cases' worth.
    assert_eq!(m.pending_deadlines * 3, all.3 * 2);
    let mut head = s.queue_head_for(20, Role::Moderator).await.unwrap();
    head.sort();
    let mut want = vec![fr_case.clone(), odd_case.clone()];
    want.sort();
    assert_eq!(head, want);
    assert_eq!(
        s.queue_head_for(20, Role::SeniorModerator)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(s.counts_for(Role::SeniorModerator).await.unwrap().queued, 3);
    // The related cases (same entry) name the German case only to those who may see it.
    let cluster = s.case(&fr_case).await.unwrap().cluster;
    assert_eq!(cluster, vec![de_case.clone()]);
    assert!(
        s.visible_only(&cluster, Role::Moderator)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.visible_only(&cluster, Role::SeniorModerator)
            .await
            .unwrap(),
        vec![de_case.clone()]
    );
    // Claimed cases leave the queue count for the claims count; the German one stays hidden.
    for _ in 0..3 {
        s.claim_next_as("sam", Role::SeniorModerator)
            .await
            .unwrap()
            .unwrap();
    }
    let m = s.counts_for(Role::Moderator).await.unwrap();
    assert_eq!((m.queued, m.claimed), (0, 2));
    let sen = s.counts_for(Role::SeniorModerator).await.unwrap();
    assert_eq!((sen.queued, sen.claimed), (0, 3));
}
