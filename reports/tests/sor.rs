//! Statements of reasons against the Transparency Database stand-in (`local-services`): its
//! documented answers (auth, 422 shapes, all-or-nothing batches, duplicate puids, 429), and
//! the outbox's at-least-once, idempotent submission over them.

use serde_json::{Value, json};
use takedown_local_services::{TransparencyDb, TransparencyDbOptions};
use takedown_reports::event::{Decision, Effect, Event, SourceKind};
use takedown_reports::ledger::Ledger;
use takedown_reports::mapping::{CategoryRef, Mapping};
use takedown_reports::outbox::{ClientConfig, Outbox, OutboxError, submit};
use time::macros::datetime;

fn decision(case: &str) -> Decision {
    Decision {
        case_id: case.into(),
        seq: 0,
        at: datetime!(2026-03-02 10:00 UTC),
        received_at: datetime!(2026-03-02 09:00 UTC),
        due_at: None,
        in_time: true,
        source: SourceKind::HashMatch,
        issuing_state: None,
        effect: Effect::Removed,
        territories: vec![],
        legal_grounds: vec!["art2_7_a".into()],
        tos: false,
        labels: vec![],
        signals: vec!["pdq".into()],
        media: true,
        automated_decision: false,
        contested: None,
        contested_source: None,
    }
}

fn ledger_with(n: usize) -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let events: Vec<Event> = (0..n)
        .map(|i| Event::Decision(decision(&format!("m-{i:04}"))))
        .collect();
    l.append(&events).unwrap();
    (dir, l)
}

fn cfg(db: &TransparencyDb) -> ClientConfig {
    ClientConfig {
        base_url: db.url().to_string(),
        token: "test-token".into(),
        batch: 100,
        max_attempts: 4,
        backoff: std::time::Duration::from_millis(5),
    }
}

fn statement(puid: &str) -> Value {
    let mut s = takedown_reports::sor::statement(&decision("x"), &Mapping::default()).unwrap();
    s["puid"] = json!(puid);
    s
}

async fn post(db: &TransparencyDb, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", db.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_stand_in_answers_as_the_database_documents() {
    let db = TransparencyDb::start(TransparencyDbOptions::default())
        .await
        .unwrap();
    let (code, _) = post(&db, "/api/v1/statement", "wrong", statement("p1")).await;
    assert_eq!(code, 401);
    let (code, v) = post(&db, "/api/v1/statement", "test-token", statement("p1")).await;
    assert_eq!(code, 201);
    for f in [
        "uuid",
        "created_at",
        "permalink",
        "self",
        "platform_name",
        "puid",
    ] {
        assert!(v[f].is_string(), "{f}");
    }
    assert_eq!(v["created_at"].as_str().unwrap().len(), 19, "Y-m-d H:i:s");
    let (code, v) = post(&db, "/api/v1/statement", "test-token", statement("p1")).await;
    assert_eq!(code, 422);
    assert_eq!(
        v["errors"]["puid"][0],
        "The identifier given is not unique within this platform."
    );
    assert_eq!(v["existing"]["puid"], "p1");
    let mut bad = statement("p2");
    bad.as_object_mut().unwrap().remove("category");
    let (code, v) = post(&db, "/api/v1/statement", "test-token", bad.clone()).await;
    assert_eq!(code, 422);
    assert!(v["message"].is_string());
    assert!(v["errors"]["category"].is_array());
    // A batch is all or nothing: statement_1 is invalid, so p3 is not stored either.
    let (code, v) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": [statement("p3"), bad]}),
    )
    .await;
    assert_eq!(code, 422);
    assert!(v["errors"]["statement_1"]["category"].is_array());
    assert!(v["errors"].get("statement_0").is_none());
    assert!(!db.stored().contains_key("p3"));
    // Duplicates: already used, or twice in the call.
    let (code, v) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": [statement("p3"), statement("p1")]}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(v["errors"]["existing_puids"], json!(["p1"]));
    let (code, v) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": [statement("p4"), statement("p4")]}),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        v["errors"]["puid"][0],
        "The identifier given is not unique within this platform."
    );
    assert!(!db.stored().contains_key("p3") && !db.stored().contains_key("p4"));
    let (code, _) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": []}),
    )
    .await;
    assert_eq!(code, 422);
    let many: Vec<Value> = (0..101).map(|i| statement(&format!("q{i}"))).collect();
    let (code, _) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": many}),
    )
    .await;
    assert_eq!(code, 422, "at most 100 per call");
    let (code, v) = post(
        &db,
        "/api/v1/statements",
        "test-token",
        json!({"statements": [statement("p3"), statement("p4")]}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(v["statements"].as_array().unwrap().len(), 2);
    // existing-puid and ping.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |p: &str| {
        c.get(format!("{}{p}", db.url()))
            .bearer_auth("test-token")
            .send()
    };
    assert_eq!(
        get("/api/v1/statement/existing-puid/p3")
            .await
            .unwrap()
            .status()
            .as_u16(),
        302
    );
    assert_eq!(
        get("/api/v1/statement/existing-puid/zz")
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let pong: Value = get("/api/ping").await.unwrap().json().await.unwrap();
    assert_eq!(pong, json!({"you_say": "ping", "i_say": "pong"}));
    // Over the rate limit: 429 with a plain-text body.
    let slow = TransparencyDb::start(TransparencyDbOptions {
        per_second: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let (a, _) = post(&slow, "/api/v1/statement", "test-token", statement("r1")).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/statement", slow.url()))
        .bearer_auth("test-token")
        .json(&statement("r2"))
        .send()
        .await
        .unwrap();
    assert_eq!((a, r.status().as_u16()), (201, 429));
    assert_eq!(r.text().await.unwrap(), "Too Many Attempts.");
}

#[tokio::test]
async fn submission_is_at_least_once_idempotent_and_parks_refusals() {
    let db = TransparencyDb::start(TransparencyDbOptions::default())
        .await
        .unwrap();
    let (dir, ledger) = ledger_with(250);
    let outbox = Outbox::open(dir.path()).unwrap();
    let m = Mapping::default();
    // 429 then 503: retried with backoff, then everything stored in 3 batches.
    db.fail_next(&[429, 503]);
    let done = submit(&ledger, &m, &outbox, &cfg(&db)).await.unwrap();
    assert_eq!((done.stored, done.retries, done.duplicates), (250, 2, 0));
    assert_eq!(db.stored().len(), 250);
    assert_eq!(
        db.requests(),
        5,
        "2 refused attempts + 3 batches (100, 100, 50)"
    );
    let status = outbox.status(&ledger, &m).unwrap();
    assert_eq!(status.pending, 0);
    let (puid, uuid, link) = &status.stored[0];
    assert_eq!(puid, "td_m-0000_0");
    assert_eq!(
        link.as_deref(),
        Some(format!("{}/statement/{}", db.url(), uuid.as_deref().unwrap()).as_str())
    );
    // Nothing pending: a second run sends nothing.
    let again = submit(&ledger, &m, &outbox, &cfg(&db)).await.unwrap();
    assert_eq!(again.stored + again.duplicates, 0);
    // A crash lost the results file: the resend is recognised by puid, nothing is stored twice.
    std::fs::remove_file(dir.path().join("sor/results.jsonl")).unwrap();
    let resent = submit(&ledger, &m, &outbox, &cfg(&db)).await.unwrap();
    assert_eq!((resent.stored, resent.duplicates), (0, 250));
    assert_eq!(db.stored().len(), 250);
    assert_eq!(outbox.status(&ledger, &m).unwrap().pending, 0);
}

#[tokio::test]
async fn refusals_by_the_database_and_by_local_validation_are_parked_with_their_errors() {
    // The database dropped a category the client still sends (a schema change).
    let db = TransparencyDb::start(TransparencyDbOptions {
        refused_categories: vec!["STATEMENT_CATEGORY_VIOLENCE".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let (dir, ledger) = ledger_with(3);
    let mut violent = decision("m-v");
    violent.labels = vec!["violent-extremism".into()];
    ledger.append(&[Event::Decision(violent)]).unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let mut m = Mapping::default();
    m.labels.insert(
        "violent-extremism".into(),
        CategoryRef {
            category: "STATEMENT_CATEGORY_VIOLENCE".into(),
            keywords: vec!["KEYWORD_COORDINATED_HARM".into()],
        },
    );
    let done = submit(&ledger, &m, &outbox, &cfg(&db)).await.unwrap();
    assert_eq!(
        (done.stored, done.refused),
        (3, 1),
        "the rest of the batch is resent and stored"
    );
    let status = outbox.status(&ledger, &m).unwrap();
    assert_eq!(status.refused.len(), 1);
    let (puid, errors, by) = &status.refused[0];
    assert_eq!((puid.as_str(), by.as_str()), ("td_m-v_0", "database"));
    assert_eq!(errors["category"], ["The selected category is invalid."]);
    assert_eq!(status.pending, 0, "parked, not pending");
    assert!(outbox.retry("td_m-v_0").unwrap());
    assert!(
        !outbox.retry("td_m-0000_0").unwrap(),
        "only refused statements are retried"
    );
    assert_eq!(outbox.status(&ledger, &m).unwrap().pending, 1);

    // A category our own validation knows was removed: refused locally, never sent.
    let before = db.requests();
    let (dir2, ledger2) = ledger_with(2);
    let outbox2 = Outbox::open(dir2.path()).unwrap();
    let stale = Mapping {
        default_category: CategoryRef {
            category: "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE".into(),
            keywords: vec![],
        },
        ..Mapping::default()
    };
    let done = submit(&ledger2, &stale, &outbox2, &cfg(&db)).await.unwrap();
    assert_eq!((done.refused_locally, done.stored), (2, 0));
    assert_eq!(
        db.requests(),
        before,
        "no call for locally refused statements"
    );
    let s = outbox2.status(&ledger2, &stale).unwrap();
    assert_eq!(
        s.refused[0].1["category"],
        ["The selected category is invalid."]
    );
    assert_eq!(s.refused[0].2, "local");

    // A bad token stops the run; nothing is marked.
    let (dir3, ledger3) = ledger_with(1);
    let outbox3 = Outbox::open(dir3.path()).unwrap();
    let wrong = ClientConfig {
        token: "nope".into(),
        ..cfg(&db)
    };
    assert!(
        matches!(submit(&ledger3, &m, &outbox3, &wrong).await, Err(OutboxError::Database(e)) if e.starts_with("401"))
    );
    assert_eq!(outbox3.status(&ledger3, &m).unwrap().pending, 1);
    // Still failing after every attempt: stops, stays pending.
    db.fail_next(&[503, 503, 503, 503]);
    assert!(matches!(
        submit(&ledger3, &m, &outbox3, &cfg(&db)).await,
        Err(OutboxError::Unavailable { attempts: 4, .. })
    ));
    assert_eq!(outbox3.status(&ledger3, &m).unwrap().pending, 1);
}
