//! What a reviewer without access to a queue is never told (issue 18, part 1's gaps): the
//! API's queue counts and head leave the hidden queue's cases out, and neither the case page
//! nor the API's case document names a related case of that queue. And the moderator who
//! took a contested decision is offered no "Claim this" on the complaint, and a forged claim
//! is refused with the reason.

use super::super::*;
use super::{audit_count, complaint_against, login_as, wait_js};
use crate::console::axe;

/// The built-in queues plus `bombs` for seniors, with label `bomb` routed there.
async fn bombs_for_seniors(store: &ReviewStore) {
    let mut config = takedown_review::routing::RoutingConfig::default();
    config.queues.push(takedown_review::routing::QueueDef {
        name: "bombs".into(),
        title: "Bombs".into(),
        roles: vec![Role::SeniorModerator],
        qa_percent: 5.0,
    });
    config.rules.push(takedown_review::routing::Rule {
        when: takedown_review::routing::Conditions {
            label: Some("bomb".into()),
            ..Default::default()
        },
        queue: "bombs".into(),
    });
    store.save_routing(0, config, "root").await.unwrap();
}

const RELATED: &str = "return Array.from(document.querySelectorAll('ul.cluster a, fieldset.cluster input')).map(function (e) { return e.getAttribute('href') || e.value; })";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_queues_cases_are_in_no_api_count_and_no_related_list() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    bombs_for_seniors(&app.store).await;
    // Two posts of the same listed image: one labelled "bomb" (the seniors' queue).
    let entry = "11".repeat(32);
    let mut bomb = a_match("p-bomb", &entry);
    bomb.labels = vec!["bomb".into()];
    let (bomb_case, _) = app.store.ingest_match(&bomb).await.unwrap();
    let (plain, _) = app
        .store
        .ingest_match(&a_match("p-plain", &entry))
        .await
        .unwrap();
    assert_eq!(
        app.store.case(&plain).await.unwrap().cluster,
        vec![bomb_case.clone()]
    );

    let router = takedown_review_ui::api::router(app.store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let get = |path: String, token: String| {
        let http = http.clone();
        let api = api.clone();
        async move {
            let r = http
                .get(format!("{api}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    let m = takedown_review_ui::api::add_token(&app.store, "m", Role::Moderator)
        .await
        .unwrap();
    let s = takedown_review_ui::api::add_token(&app.store, "s", Role::SeniorModerator)
        .await
        .unwrap();
    let queue = get("/api/v1/queue".into(), m.clone()).await;
    assert_eq!(queue["queued"], 1, "{queue}");
    assert_eq!(queue["head"], json!([plain]), "{queue}");
    // Each case has escalation points and a breach; the moderator's are one case's.
    let seniors = get("/api/v1/queue".into(), s.clone()).await;
    assert_eq!(seniors["queued"], 2, "{seniors}");
    assert_eq!(
        seniors["pending_deadlines"].as_u64().unwrap(),
        2 * queue["pending_deadlines"].as_u64().unwrap()
    );
    let case = get(format!("/api/v1/cases/{plain}"), m.clone()).await;
    assert_eq!(case["cluster"], json!([]), "{case}");
    let case = get(format!("/api/v1/cases/{plain}"), s.clone()).await;
    assert_eq!(case["cluster"], json!([bomb_case]), "{case}");

    // The case page: the moderator's names no related case, the senior's names it.
    for (name, role) in [("mia", Role::Moderator), ("sam", Role::SeniorModerator)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.goto(&format!("{}/cases/{plain}", app.base)).await;
    assert_eq!(b.js(RELATED).await, json!([]));
    let html = b.js("return document.documentElement.outerHTML").await;
    assert!(!html.as_str().unwrap().contains(&bomb_case));
    // Claimed, the page's bulk-decision fieldset names none either.
    b.click("#claim-this button").await;
    // The same address comes back, now with the holder's controls.
    wait_js(
        &b,
        "return !!document.getElementById('release-this')",
        json!(true),
    )
    .await;
    assert_eq!(
        app.store.case(&plain).await.unwrap().holder.as_deref(),
        Some("mia")
    );
    assert_eq!(b.js(RELATED).await, json!([]));
    let html = b.js("return document.documentElement.outerHTML").await;
    assert!(!html.as_str().unwrap().contains(&bomb_case));
    login_as(&b, &app.base, "sam").await;
    b.goto(&format!("{}/cases/{plain}", app.base)).await;
    assert_eq!(b.js(RELATED).await, json!([format!("/cases/{bomb_case}")]));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contested_decider_is_offered_no_claim_of_the_complaint_and_cannot_claim_it() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for name in ["ana", "ben"] {
        web::add_user(&app.store, name, Role::SeniorModerator, PASSWORD, "test")
            .await
            .unwrap();
    }
    let (case, _) = app
        .store
        .ingest_match(&a_match("p1", &"11".repeat(32)))
        .await
        .unwrap();
    app.store.claim_next("ana", true).await.unwrap().unwrap();
    let removal = takedown_review::model::DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![takedown_review::model::Ground::Incitement],
        tos_clauses: vec![],
        justification: "Glorifies the attack.".into(),
    };
    app.store.decide(&case, "ana", &removal).await.unwrap();
    let k = complaint_against(&app, &case, T0 + Duration::hours(1)).await;

    let b = Browser::start().await;
    b.login(&app.base, "ana").await;
    b.goto(&format!("{}/cases/{k}", app.base)).await;
    assert_eq!(
        b.js("return document.getElementById('claim-this') === null")
            .await,
        json!(true)
    );
    assert!(b.text("#own-decision").await.contains("another reviewer"));
    axe::assert_accessible(&b, "/cases/{id} of a complaint for the contested decider").await;
    // A forged claim is refused with the reason, and nothing is claimed or audited.
    let forged = b
        .js(&format!(
            "var x = new XMLHttpRequest(); x.open('POST', '/cases/{k}/claim', false); \
             x.setRequestHeader('content-type', 'application/x-www-form-urlencoded'); \
             x.send('csrf=' + document.body.getAttribute('data-csrf')); \
             return [x.status, x.responseText.indexOf('decision this complaint contests') > 0]"
        ))
        .await;
    assert_eq!(forged, json!([422, true]));
    assert_eq!(app.store.case(&k).await.unwrap().holder, None);
    assert_eq!(audit_count(&app.store, &k, "case.claimed").await, 0);

    // Ben is offered the claim and takes it.
    login_as(&b, &app.base, "ben").await;
    b.goto(&format!("{}/cases/{k}", app.base)).await;
    assert_eq!(
        b.js("return document.getElementById('own-decision') === null")
            .await,
        json!(true)
    );
    b.click("#claim-this button").await;
    // The same address comes back, now with the holder's controls.
    wait_js(
        &b,
        "return !!document.getElementById('release-this')",
        json!(true),
    )
    .await;
    assert_eq!(
        app.store.case(&k).await.unwrap().holder.as_deref(),
        Some("ben")
    );
    // Nor may ben hand it to ana: she is not among those it can be reassigned to.
    let names = b
        .js("return Array.from(document.querySelectorAll('#reassign option')).map(o => o.value)")
        .await;
    assert!(
        !names.as_array().unwrap().contains(&json!("ana")),
        "{names}"
    );
    b.quit().await;
}
