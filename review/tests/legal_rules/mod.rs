//! Legal rules of the Redis-backed aggregates that the mutation run (`docs/testing.md`) showed
//! no test pinned: legal holds and their release (TCO Art. 6(2)), the one embargo extension
//! (Art. 11(3)), and the trusted-flagger registry with its per-flagger counts (DSA Art. 22,
//! Art. 15(1)(b)). Part of the `engine` test binary (one integration-test binary per crate).
//! Expected values are written from docs/review.md and the law.

use crate::support::*;
use takedown_local_services::RedisServer;
use takedown_review::flaggers::{FlaggerStatus, NewFlagger, RegistryError, TrustedFlagger};
use takedown_review::intake::parse_notice;
use takedown_review::model::{DecisionInput, Outcome, PurposeExemption};
use takedown_review::order::parse_order;
use takedown_review::sla::LegalHold;
use takedown_review::store::{ReviewStore, StoreError, flaggers};
use time::Duration;
use time::macros::datetime;

/// A hash-match case removed at T0: preserved until 2026-12-01 12:00 (six months).
async fn removed_case(s: &ReviewStore) -> String {
    let (id, _) = s
        .ingest_match(&a_match("p-held", "m", "l", "ab", "high"))
        .await
        .unwrap();
    s.claim_next("mod", false).await.unwrap();
    s.decide(&id, "mod", &remove()).await.unwrap();
    id
}

fn hold(by: &str, until: Option<time::OffsetDateTime>) -> LegalHold {
    LegalHold {
        requested_by: by.into(),
        until,
    }
}

#[tokio::test]
async fn legal_holds_keep_preserved_content_and_release_ends_only_the_requesters_holds() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let keep_until = datetime!(2026-12-01 12:00 UTC);
    let id = removed_case(&s).await;

    // Nothing is preserved before a removal: no hold on an open case.
    let (open, _) = s
        .ingest_match(&a_match("p-open", "m", "l", "cd", "low"))
        .await
        .unwrap();
    assert!(matches!(
        s.legal_hold(&open, "legal", hold("BKA 1", None)).await,
        Err(StoreError::State(_))
    ));

    // An open-ended hold takes the case out of the purge schedule.
    let view = s
        .legal_hold(&id, "legal", hold("BKA 1", None))
        .await
        .unwrap();
    let p = view.case.preservation.unwrap();
    assert_eq!(p.keep_until, keep_until);
    assert_eq!(p.holds, [hold("BKA 1", None)]);
    assert_eq!(p.purge_at(), None);
    // A second requester's hold until a date, and one of the first requester's own.
    let europol_until = datetime!(2027-03-01 00:00 UTC);
    s.legal_hold(&id, "legal", hold("Europol 2", Some(europol_until)))
        .await
        .unwrap();
    let bka_until = datetime!(2027-06-01 00:00 UTC);
    s.legal_hold(&id, "legal", hold("BKA 1", Some(bka_until)))
        .await
        .unwrap();
    clock.set(keep_until);
    assert!(s.purge_due(10).await.unwrap().is_empty());

    // Releasing a requester with no current hold changes nothing.
    assert!(matches!(
        s.release_hold(&id, "legal", "Nobody 3").await,
        Err(StoreError::State(_))
    ));
    // Releasing BKA ends both of its holds now; Europol's hold still runs to its end.
    let released_at = datetime!(2027-01-15 00:00 UTC);
    clock.set(released_at);
    let view = s.release_hold(&id, "legal", "BKA 1").await.unwrap();
    let p = view.case.preservation.unwrap();
    assert_eq!(
        p.holds,
        [
            hold("BKA 1", Some(released_at)),
            hold("Europol 2", Some(europol_until)),
            hold("BKA 1", Some(released_at)),
        ]
    );
    assert_eq!(p.purge_at(), Some(europol_until));
    // Ended holds are not current: releasing them again is refused.
    assert!(matches!(
        s.release_hold(&id, "legal", "BKA 1").await,
        Err(StoreError::State(_))
    ));

    clock.set(europol_until - Duration::seconds(1));
    assert!(s.purge_due(10).await.unwrap().is_empty());
    clock.set(europol_until);
    assert_eq!(s.purge_due(10).await.unwrap(), vec![id.clone()]);
    let view = s.case(&id).await.unwrap();
    assert_eq!(view.case.state.as_str(), "purged");
    assert_eq!(view.case.subject.url, None, "the purge deletes the URL");
    assert!(view.matches.is_empty(), "and the evidence");
}

#[tokio::test]
async fn the_embargo_extends_once_by_six_weeks() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let body = order_json(&["https://example.org/embargoed"], "FR-EMB-1");
    let (order, _) = s
        .receive_order(&body, parse_order(&body).unwrap(), "fr", T0)
        .await
        .unwrap();
    let id = &order.case_ids[0];
    let before = s.case(id).await.unwrap().case.embargo.unwrap();
    assert_eq!(before.until, T0 + Duration::weeks(6));
    assert!(!before.extended);
    let view = s.extend_embargo(id, "senior").await.unwrap();
    let after = view.case.embargo.unwrap();
    assert_eq!(after.until, T0 + Duration::days(84));
    assert!(after.extended);
    assert_eq!(s.case(id).await.unwrap().case.embargo, Some(after));
    assert!(matches!(
        s.extend_embargo(id, "senior").await,
        Err(StoreError::Sla(_))
    ));
    // A hash match has no embargo to extend.
    let (m, _) = s
        .ingest_match(&a_match("p-free", "m", "l", "ef", "low"))
        .await
        .unwrap();
    assert!(matches!(
        s.extend_embargo(&m, "senior").await,
        Err(StoreError::State(_))
    ));
}

fn new_flagger(id: &str, account: Option<&str>) -> NewFlagger {
    NewFlagger {
        id: id.into(),
        name: format!("NGO {id}"),
        awarded_by: "IE: Coimisiún na Meán".into(),
        expertise: vec!["terrorist content".into()],
        since: "2025-03-01".into(),
        account: account.map(Into::into),
    }
}

async fn notice_from(
    s: &ReviewStore,
    flagger: &TrustedFlagger,
    url: &str,
) -> (
    String,
    takedown_review::intake::IntakeRecord<takedown_review::intake::Notice>,
) {
    let body =
        serde_json::json!({"platform": "web", "url": url, "explanation": "praises an attack",
        "good_faith": true, "notifier": {"name": "NGO", "email": "tf@example.org"}})
        .to_string();
    let notice = parse_notice(body.as_bytes()).unwrap();
    let (record, new) = s
        .receive_notice(
            body.as_bytes(),
            notice,
            Some(flagger),
            "relay",
            clock_now(s),
        )
        .await
        .unwrap();
    assert!(new);
    (record.case_id.clone(), record)
}

#[tokio::test]
async fn the_flagger_registry_registers_once_per_id_and_account() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let f = flaggers::add(&s, new_flagger("ngo-1", Some("ngo1-api")), "legal")
        .await
        .unwrap();
    assert_eq!(f.status, FlaggerStatus::Active);
    assert_eq!((f.registered_at, f.registered_by.as_str()), (T0, "legal"));
    assert!(f.changes.is_empty());
    assert!(matches!(
        flaggers::add(&s, new_flagger("ngo-1", None), "legal").await,
        Err(RegistryError::Exists(id)) if id == "ngo-1"
    ));
    assert!(matches!(
        flaggers::add(&s, new_flagger("ngo-2", Some("ngo1-api")), "legal").await,
        Err(RegistryError::AccountTaken { account, flagger })
            if account == "ngo1-api" && flagger == "ngo-1"
    ));
    assert_eq!(flaggers::get(&s, "ngo-1").await.unwrap(), Some(f.clone()));
    assert_eq!(flaggers::get(&s, "ngo-2").await.unwrap(), None);
    assert_eq!(
        flaggers::for_account(&s, "ngo1-api").await.unwrap(),
        Some(f.clone())
    );
    assert_eq!(flaggers::for_account(&s, "other-api").await.unwrap(), None);
    let g = flaggers::add(&s, new_flagger("ngo-2", None), "admin")
        .await
        .unwrap();
    let listed: Vec<TrustedFlagger> = flaggers::list(&s)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.flagger)
        .collect();
    assert_eq!(listed, [f, g]);
}

#[tokio::test]
async fn suspension_makes_notices_ordinary_and_counts_are_kept_per_flagger() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let one = flaggers::add(&s, new_flagger("ngo-1", None), "legal")
        .await
        .unwrap();
    let two = flaggers::add(&s, new_flagger("ngo-2", None), "legal")
        .await
        .unwrap();

    // ngo-1: two trusted notices, one removed; ngo-2: one, found not terrorist content.
    let (c1, _) = notice_from(&s, &one, "https://example.org/1").await;
    let (c2, _) = notice_from(&s, &one, "https://example.org/2").await;
    let (c3, _) = notice_from(&s, &two, "https://example.org/3").await;
    assert_eq!(
        s.case(&c1).await.unwrap().due_at,
        Some(T0 + Duration::hours(24))
    );
    for _ in 0..3 {
        s.claim_next("mod", false).await.unwrap();
    }
    s.decide(&c1, "mod", &remove()).await.unwrap();
    let not_tc = DecisionInput {
        outcome: Outcome::NotTerroristContent {
            exemption: Some(PurposeExemption::Research),
        },
        grounds: vec![],
        tos_clauses: vec![],
        justification: "academic archive".into(),
    };
    s.decide(&c3, "mod", &not_tc).await.unwrap();
    let counts = |received, decided, acted| takedown_review::flaggers::FlaggerCounts {
        notices_received: received,
        notices_decided: decided,
        notices_acted_on: acted,
    };
    assert_eq!(
        flaggers::counts(&s, "ngo-1").await.unwrap(),
        counts(2, 1, 1)
    );
    assert_eq!(
        flaggers::counts(&s, "ngo-2").await.unwrap(),
        counts(1, 1, 0)
    );
    let listed: Vec<_> = flaggers::list(&s)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.flagger.id, v.counts))
        .collect();
    assert_eq!(
        listed,
        [
            ("ngo-1".to_string(), counts(2, 1, 1)),
            ("ngo-2".to_string(), counts(1, 1, 0))
        ]
    );
    let _ = c2;

    // Suspended (Art. 22(6)): its notices are ordinary (48 h) and not counted as trusted.
    clock.advance(Duration::hours(1));
    let suspended_at = clock_now(&s);
    let one = flaggers::set_status(
        &s,
        "ngo-1",
        FlaggerStatus::Suspended,
        "legal",
        "DSC investigation 7",
    )
    .await
    .unwrap();
    assert_eq!(one.status, FlaggerStatus::Suspended);
    assert_eq!(one.changes.len(), 1);
    assert_eq!(one.changes[0].at, suspended_at);
    assert_eq!(one.changes[0].by, "legal");
    assert_eq!(one.changes[0].reason, "DSC investigation 7");
    assert_eq!(flaggers::get(&s, "ngo-1").await.unwrap(), Some(one.clone()));
    assert!(matches!(
        flaggers::set_status(&s, "ngo-1", FlaggerStatus::Suspended, "legal", "again").await,
        Err(RegistryError::Unchanged(_))
    ));
    let (c4, record) = notice_from(&s, &one, "https://example.org/4").await;
    assert!(!record.body.trusted_flagger);
    assert_eq!(record.body.flagger_id.as_deref(), Some("ngo-1"));
    assert_eq!(
        s.case(&c4).await.unwrap().due_at,
        Some(suspended_at + Duration::hours(48))
    );
    assert_eq!(
        flaggers::counts(&s, "ngo-1").await.unwrap(),
        counts(2, 1, 1)
    );

    let one = flaggers::set_status(&s, "ngo-1", FlaggerStatus::Active, "legal", "cleared")
        .await
        .unwrap();
    assert_eq!(one.status, FlaggerStatus::Active);
    assert_eq!(one.changes.len(), 2);
    assert!(matches!(
        flaggers::set_status(&s, "ngo-9", FlaggerStatus::Suspended, "legal", "x").await,
        Err(RegistryError::NotFound(id)) if id == "ngo-9"
    ));
}
