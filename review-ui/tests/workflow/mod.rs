//! Queues, appeals and QA (issue 18, parts 1–3) in Chromium: an admin edits the routing in
//! the UI and a labelled match lands in its queue, which a moderator without access never
//! sees (in the queue, by "claim next" or by URL); a complaint is refused to the moderator
//! who took the contested decision and a colleague's reversal queues the reinstatement; a
//! queue's QA share sends decisions to a second reviewer who does not see the first outcome,
//! and the agreement rates follow. axe-core checks every new page.

use super::*;

use super::console::axe;

mod access;
mod qa_media;

/// Waits (up to 10 s) until `script` returns `want` in the page.
async fn wait_js(b: &Browser, script: &str, want: Value) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        let got = b.js(script).await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{script} gave {got}, waited for {want}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Signs the browser out (drops its cookies) and in as `name`.
async fn login_as(b: &Browser, base: &str, name: &str) {
    b.cmd(reqwest::Method::DELETE, "/cookie", Value::Null).await;
    b.login(base, name).await;
}

/// Replaces the value of the input matching `css`.
async fn set_value(b: &Browser, css: &str, text: &str) {
    let e = b.find(css).await;
    b.post(&format!("/element/{e}/clear"), json!({})).await;
    b.type_into(css, text).await;
}

const ROW_IDS: &str = "return Array.from(document.querySelectorAll('#queue-rows tr')).map(function (r) { return r.getAttribute('data-id'); })";

async fn audit_count(store: &ReviewStore, subject: &str, action: &str) -> usize {
    audit_actions(store, subject)
        .await
        .iter()
        .filter(|(a, _)| a == action)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_edited_in_the_ui_routes_a_labelled_match_that_a_moderator_never_sees() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [
        ("root", Role::Admin),
        ("mia", Role::Moderator),
        ("sam", Role::SeniorModerator),
    ] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let b = Browser::start().await;
    b.login(&app.base, "root").await;
    b.goto(&format!("{}/admin/routing", app.base)).await;
    axe::assert_accessible(&b, "/admin/routing").await;
    // A new queue for seniors only, then a rule sending label "bomb" there.
    b.type_into("input[name='qnew.name']", "bombs").await;
    b.type_into("input[name='qnew.title']", "Bomb-making").await;
    b.click("input[name='qnew.role'][value='senior_moderator']")
        .await;
    b.click("#save-routing").await;
    b.wait_url("saved=1").await;
    assert_eq!(b.text("#routing-flash").await, "Saved as version 1.");
    b.type_into("input[name='rnew.label']", "bomb").await;
    b.js("var s = document.querySelector(\"select[name='rnew.queue']\"); s.value = 'bombs'; return 1")
        .await;
    b.click("#save-routing").await;
    b.wait_url("saved=2").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#rules tr[data-rule]').length")
            .await,
        json!(1)
    );
    assert_eq!(
        b.js("return document.querySelectorAll('#routing-history tbody tr').length")
            .await,
        json!(2)
    );
    b.screenshot("60-routing").await;
    axe::assert_accessible(&b, "/admin/routing after saving").await;
    assert_eq!(
        audit_count(&app.store, "routing", "routing.updated").await,
        2
    );
    // A stale form (version 1) is refused, not merged over version 2.
    let refused = b
        .js("var f = new URLSearchParams(new FormData(document.getElementById('routing-form'))); \
             f.set('version', '1'); var x = new XMLHttpRequest(); \
             x.open('POST', '/admin/routing', false); x.send(f); return [x.status, x.responseText.indexOf('changed by someone else') > 0]")
        .await;
    assert_eq!(refused, json!([422, true]));

    let mut bomb = a_match("p-bomb", &"11".repeat(32));
    bomb.labels = vec!["bomb".into()];
    let (bomb_case, _) = app.store.ingest_match(&bomb).await.unwrap();
    let (plain, _) = app
        .store
        .ingest_match(&a_match("p-plain", &"22".repeat(32)))
        .await
        .unwrap();
    assert_eq!(
        app.store.case_queue(&bomb_case).await.unwrap().as_deref(),
        Some("bombs")
    );
    // Its deadline is the hash-match class's, whatever the queue.
    assert_eq!(
        app.store.case(&bomb_case).await.unwrap().due_at,
        Some(T0 - Duration::hours(2) + Duration::hours(24))
    );

    // The moderator's queue shows only the plain case, and the bomb case is "not found".
    login_as(&b, &app.base, "mia").await;
    wait_js(&b, ROW_IDS, json!([plain])).await;
    let page = b.js("return document.body.innerHTML").await;
    assert!(!page.as_str().unwrap().contains(&bomb_case));
    // Nor do the counts or the filters give it away.
    assert_eq!(b.text("#count-queued").await, "1");
    let filters = b
        .js("return Array.from(document.querySelectorAll('option')).map(o => o.value)")
        .await;
    let filters: Vec<&str> = filters
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !filters.contains(&"bomb") && !filters.contains(&"bombs"),
        "{filters:?}"
    );
    // The same with a filter: the index's pass hides it too.
    b.goto(&format!("{}/queue?list=gifct", app.base)).await;
    wait_js(&b, ROW_IDS, json!([plain])).await;
    assert_eq!(b.text("#count-queued").await, "1");
    b.goto(&format!("{}/cases/{bomb_case}", app.base)).await;
    assert_eq!(b.text("h1").await, "Not found");
    assert_eq!(
        b.js("return document.querySelector('[data-status]').getAttribute('data-status')")
            .await,
        json!("404")
    );
    // Nor can a form post reach it (the guard runs before the handler).
    let claim = b
        .js(&format!(
            "var x = new XMLHttpRequest(); x.open('POST', '/cases/{bomb_case}/claim', false); \
             x.setRequestHeader('content-type', 'application/x-www-form-urlencoded'); \
             x.send('csrf=' + document.body.getAttribute('data-csrf')); return x.status"
        ))
        .await;
    assert_eq!(claim, json!(404));
    // "Claim next" takes the plain case; then there is nothing left for her.
    b.goto(&format!("{}/queue", app.base)).await;
    b.key("c").await;
    b.wait_url(&format!("/cases/{plain}")).await;
    b.goto(&format!("{}/queue", app.base)).await;
    b.key("c").await;
    b.wait_url("empty=1").await;
    assert_eq!(app.store.case(&bomb_case).await.unwrap().holder, None);

    // The senior sees it, in the queue filtered by its name and on its page.
    login_as(&b, &app.base, "sam").await;
    b.goto(&format!("{}/queue?queue=bombs", app.base)).await;
    wait_js(&b, ROW_IDS, json!([bomb_case])).await;
    b.goto(&format!("{}/cases/{bomb_case}", app.base)).await;
    assert_ne!(b.text("h1").await, "Not found");
    b.quit().await;
}

async fn complaint_against(app: &App, case: &str, at: OffsetDateTime) -> String {
    let body = json!({"case_id": case, "explanation": "It was a news report about the attack.",
        "complainant": {"name": "A. Author", "email": "author@example.org"}})
    .to_string();
    let contested = app.store.case(case).await.unwrap().case;
    let (k, _) = app
        .store
        .receive_complaint(
            body.as_bytes(),
            takedown_review::intake::parse_complaint(body.as_bytes()).unwrap(),
            &contested,
            "web",
            at,
        )
        .await
        .unwrap();
    k.case_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appeal_is_refused_to_the_original_decider_and_a_reversal_reinstates() {
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
    assert_eq!(
        app.store.claim_next("ana", true).await.unwrap().as_deref(),
        Some(case.as_str())
    );
    let removal = takedown_review::model::DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![takedown_review::model::Ground::Incitement],
        tos_clauses: vec![],
        justification: "Glorifies the attack.".into(),
    };
    app.store.decide(&case, "ana", &removal).await.unwrap();
    let k = complaint_against(&app, &case, T0 + Duration::hours(1)).await;
    assert_eq!(
        app.store.case_queue(&k).await.unwrap().as_deref(),
        Some("complaints")
    );

    let b = Browser::start().await;
    b.login(&app.base, "ana").await;
    b.goto(&format!("{}/appeals", app.base)).await;
    axe::assert_accessible(&b, "/appeals").await;
    b.click(&format!("#appeals a[href='/appeals/{k}']")).await;
    b.wait_url(&format!("/appeals/{k}")).await;
    // The original decision, its reasons and the complainant's explanation, side by side.
    assert_eq!(b.text("#contested-outcome").await, "removed everywhere");
    assert_eq!(b.text("#contested-reasons").await, "Glorifies the attack.");
    assert!(b.text("#contested-by").await.starts_with("ana,"));
    assert_eq!(
        b.text("#explanation").await,
        "It was a news report about the attack."
    );
    // Ana took the contested decision: no form, and a forged post is refused server side.
    assert!(b.text("#own-decision").await.contains("another reviewer"));
    assert_eq!(
        b.js("return document.getElementById('appeal-form') === null")
            .await,
        json!(true)
    );
    let forged = b
        .js(&format!(
            "var x = new XMLHttpRequest(); x.open('POST', '/appeals/{k}/decide', false); \
             x.setRequestHeader('content-type', 'application/x-www-form-urlencoded'); \
             x.send('csrf=' + document.body.getAttribute('data-csrf') + \
               '&outcome=reverse&justification=mine'); \
             return [x.status, x.responseText.indexOf('contested decision') > 0]"
        ))
        .await;
    assert_eq!(forged, json!([422, true]));
    let still = app.store.case(&k).await.unwrap();
    assert!(still.case.decision.is_none(), "nothing recorded for ana");
    axe::assert_accessible(&b, "/appeals/{id} for the original decider").await;

    // Ben reverses it: the decision is a restore and its action reinstates the content.
    login_as(&b, &app.base, "ben").await;
    b.goto(&format!("{}/appeals/{k}", app.base)).await;
    axe::assert_accessible(&b, "/appeals/{id}").await;
    b.screenshot("61-appeal").await;
    b.click("input[name=outcome][value=reverse]").await;
    b.type_into(
        "#appeal-justification",
        "News reporting is not terrorist content (Art. 1(3)).",
    )
    .await;
    b.click("#appeal-submit").await;
    assert!(
        b.text("#appeal-outcome")
            .await
            .starts_with("restored by ben")
    );
    b.screenshot("62-appeal-decided").await;
    let decided = app.store.case(&k).await.unwrap().case;
    let d = decided.decision.expect("decided");
    assert_eq!(d.input.outcome, Outcome::Restore);
    assert_eq!(d.decided_by, "ben");
    let action_id = d.action_id.expect("a restore action");
    let json: Option<String> = redis::AsyncCommands::hget(
        &mut app.store.connection(),
        app.store.key(&format!("action:{action_id}")),
        "json",
    )
    .await
    .unwrap();
    let action: Value = serde_json::from_str(&json.unwrap()).unwrap();
    assert_eq!(action["kind"], "restore");
    assert_eq!(action["subject"]["post_id"], "p1");
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_share_sends_decisions_to_a_blind_second_review_and_rates_follow() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [
        ("root", Role::Admin),
        ("ana", Role::Moderator),
        ("ben", Role::Moderator),
    ] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let b = Browser::start().await;
    b.login(&app.base, "root").await;
    b.goto(&format!("{}/admin/routing", app.base)).await;
    // Every decision of the general queue goes to QA.
    set_value(&b, "tr[data-queue='general'] input[name$='.qa']", "100").await;
    b.click("#save-routing").await;
    b.wait_url("saved=1").await;
    assert_eq!(
        app.store.routing().await.unwrap().qa_share(Some("general")),
        1.0
    );

    let mut cases = Vec::new();
    for (post, hex) in [("p1", "11"), ("p2", "22")] {
        let (id, _) = app
            .store
            .ingest_match(&agreeing(a_match(post, &hex.repeat(32)), &png()))
            .await
            .unwrap();
        app.evidence
            .push(&id, "platform", Some("image/png"), png())
            .await
            .unwrap();
        cases.push(id);
    }
    let removal = takedown_review::model::DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![takedown_review::model::Ground::Incitement],
        tos_clauses: vec![],
        justification: "Very distinctive first reasons.".into(),
    };
    for _ in 0..2 {
        let id = app.store.claim_next("ana", false).await.unwrap().unwrap();
        app.store.decide(&id, "ana", &removal).await.unwrap();
    }
    // Ana sees no task of her own.
    login_as(&b, &app.base, "ana").await;
    b.goto(&format!("{}/qa", app.base)).await;
    assert_eq!(
        b.js("return document.querySelectorAll('#qa-tasks tbody tr').length")
            .await,
        json!(0)
    );
    let tasks = app.store.qa_pending(10).await.unwrap();
    assert_eq!(tasks.len(), 2);
    b.goto(&format!("{}/qa/{}", app.base, tasks[0].id)).await;
    assert!(
        b.js("return document.body.innerText")
            .await
            .as_str()
            .unwrap()
            .contains("first decision")
    );

    login_as(&b, &app.base, "ben").await;
    b.goto(&format!("{}/qa", app.base)).await;
    axe::assert_accessible(&b, "/qa").await;
    for (n, verdict, flash) in [(0, "restrict", "agrees"), (1, "allow", "disagrees")] {
        b.click("#qa-tasks tbody tr a").await;
        b.wait_url("/qa/qa-").await;
        let text = b.js("return document.body.innerText").await;
        let text = text.as_str().unwrap();
        // Blind: neither the first outcome nor its reasons nor its decider are shown.
        for hidden in ["Very distinctive", "removed", "ana"] {
            assert!(
                !text.contains(hidden),
                "{hidden} shown on a QA task: {text}"
            );
        }
        // The media as the case page first shows it: the server's blurred preview.
        wait_js(
            &b,
            "var i = document.querySelector('#evidence figure.media img'); \
             return !!i && i.complete && i.naturalWidth > 0",
            json!(true),
        )
        .await;
        if n == 0 {
            axe::assert_accessible(&b, "/qa/{id}").await;
            b.screenshot("63-qa-task").await;
        }
        b.click(&format!("input[name=verdict][value={verdict}]"))
            .await;
        b.click("#qa-submit").await;
        b.wait_url("reviewed=").await;
        assert!(b.text("#qa-flash").await.contains(flash));
    }
    assert_eq!(
        b.text("#qa-moderators tr[data-key='ana'] td:nth-child(2)")
            .await,
        "2"
    );
    assert_eq!(
        b.text("#qa-moderators tr[data-key='ana'] td:nth-child(4)")
            .await,
        "50.0%"
    );
    assert_eq!(
        b.text("#qa-lists tr[data-key='gifct'] td:nth-child(4)")
            .await,
        "50.0%"
    );
    b.screenshot("64-qa-rates").await;
    for id in &cases {
        assert_eq!(audit_count(&app.store, id, "qa.reviewed").await, 1);
    }
    // The SLA dashboard draws the same rates.
    login_as(&b, &app.base, "root").await;
    b.goto(&format!("{}/supervisor/sla", app.base)).await;
    let qa = b
        .js("return document.querySelector('section[aria-labelledby=qa-h]').textContent")
        .await;
    let qa = qa.as_str().unwrap();
    assert!(qa.contains("QA agreement per moderator"), "{qa}");
    assert!(qa.contains("ana") && qa.contains("gifct"), "{qa}");
    assert_eq!(qa.matches("50.0 % of 2 reviewed").count(), 2, "{qa}");
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_not_found_for_a_case_of_a_queue_the_token_may_not_see() {
    let app = app().await;
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
    app.store.save_routing(0, config, "root").await.unwrap();
    let mut bomb = a_match("p-bomb", &"11".repeat(32));
    bomb.labels = vec!["bomb".into()];
    let (case, _) = app.store.ingest_match(&bomb).await.unwrap();
    let router = takedown_review_ui::api::router(app.store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let mut codes = Vec::new();
    for (name, role) in [("m", Role::Moderator), ("s", Role::SeniorModerator)] {
        let token = takedown_review_ui::api::add_token(&app.store, name, role)
            .await
            .unwrap();
        for path in ["", "/audit", "/evidence"] {
            let r = http
                .get(format!("{api}/api/v1/cases/{case}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            codes.push((name, path, r.status().as_u16()));
        }
        let claimed = http
            .post(format!("{api}/api/v1/queue/claim"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        codes.push((name, "claim", claimed.status().as_u16()));
    }
    // The moderator: not found everywhere, nothing to claim; the senior reaches every
    // route (each answering by its own rules) and claims the case.
    assert_eq!(
        codes[..4],
        [
            ("m", "", 404),
            ("m", "/audit", 404),
            ("m", "/evidence", 404),
            ("m", "claim", 204),
        ]
    );
    assert_eq!(codes[4], ("s", "", 200));
    assert!(codes[5..7].iter().all(|c| c.2 != 404), "{codes:?}");
    assert_eq!(codes[7], ("s", "claim", 200));
}
