//! The moderator console (issue 17) in Chromium: the queue updates itself while it is open
//! (a removal order filed through the API appears, its breach shows in the row and the
//! count alike, without a reload); claims are listed with their expiry under "My cases" and
//! can be released, skipped and (by a senior) reassigned; a keyboard-only removal.

use super::*;

pub(crate) mod axe;
mod keyboard;
mod post_text;

/// Waits (up to 10 s) until `script` returns `want` in the page.
async fn wait_js(b: &Browser, script: &str, want: Value) -> Value {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        let got = b.js(script).await;
        if got == want {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{script} gave {got}, waited for {want}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Serves the JSON API over the app's store on a loopback port; returns its base URL.
async fn api(app: &App) -> String {
    let router = takedown_review_ui::api::router(app.store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// The case id in a case page's URL (`…/cases/<id>?…`).
fn case_in(url: &str) -> String {
    let tail = url.split("/cases/").nth(1).expect("a case page");
    tail.split('?').next().unwrap_or(tail).to_string()
}

const ROWS: &str = "return document.querySelectorAll('#queue-rows tr').length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_updates_in_place_when_an_order_arrives_and_its_counts_agree() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    for (post, hex) in [("p1", "11"), ("p2", "22")] {
        app.store
            .ingest_match(&a_match(post, &hex.repeat(32)))
            .await
            .unwrap();
    }
    let api = api(&app).await;
    let token = takedown_review_ui::api::add_token(&app.store, "fr-oclctic", Role::AuthorityClient)
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    wait_js(&b, ROWS, json!(2)).await;
    // A mark on the page: a reload would lose it.
    b.js("window.__same_page = 'yes'; return 1").await;
    let r = reqwest::Client::new()
        .post(format!("{api}/api/v1/removal-orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(order_body("FR-LIVE-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // The order's case appears on top (the most urgent class) and the counts follow.
    wait_js(&b, ROWS, json!(3)).await;
    let first =
        "return document.querySelector('#queue-rows a.case-link').getAttribute('data-source')";
    wait_js(&b, first, json!("removal_order")).await;
    // In words, with the id shortened and whole in the link's title.
    assert_eq!(
        b.text("#queue-rows tr td:nth-child(4)").await,
        "Removal order (TCO, 1 h)"
    );
    let link = b
        .js(
            "var a = document.querySelector('#queue-rows a.case-link'); \
             return [a.textContent, a.title, a.closest('tr').getAttribute('data-id')]",
        )
        .await;
    assert_eq!(link[1], link[2]);
    assert!(
        link[0].as_str().unwrap().ends_with('…')
            && link[1]
                .as_str()
                .unwrap()
                .starts_with(link[0].as_str().unwrap().trim_end_matches('…')),
        "{link}"
    );
    wait_js(
        &b,
        "return document.getElementById('count-queued').textContent",
        json!("3"),
    )
    .await;
    assert_eq!(
        b.js("return window.__same_page || 'reloaded'").await,
        json!("yes")
    );
    b.screenshot("20-live-order-arrived").await;
    // An hour and a minute later (the server's clock) the order is breached: the row and
    // the count say so together, before any sweeper has run.
    // The page's countdowns follow the server's clock that each update brings.
    app.clock.advance(Duration::minutes(61));
    wait_js(
        &b,
        "return document.getElementById('count-breached').textContent",
        json!("1"),
    )
    .await;
    wait_js(
        &b,
        "return document.querySelector('#queue-rows tr .countdown').classList.contains('breached')",
        json!(true),
    )
    .await;
    // Deciding elsewhere removes the row and lowers the count in place.
    let order_case = b
        .js("return document.querySelector('#queue-rows tr').getAttribute('data-id')")
        .await;
    let order_case = order_case.as_str().unwrap().to_string();
    app.store.claim_next("someone", true).await.unwrap();
    let input: takedown_review::model::DecisionInput =
        serde_json::from_value(json!({"outcome": "remove", "grounds": ["art2_7_a"]})).unwrap();
    app.store
        .decide(&order_case, "someone", &input)
        .await
        .unwrap();
    wait_js(&b, ROWS, json!(2)).await;
    wait_js(
        &b,
        "return document.getElementById('count-breached').textContent",
        json!("0"),
    )
    .await;
    assert_eq!(
        b.js("return window.__same_page || 'reloaded'").await,
        json!("yes")
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_listed_with_their_expiry_and_can_be_released_skipped_and_reassigned() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [
        ("mia", Role::Moderator),
        ("ben", Role::Moderator),
        ("sam", Role::SeniorModerator),
    ] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for (post, hex) in [("p1", "11"), ("p2", "22"), ("p3", "33")] {
        let (id, _) = app
            .store
            .ingest_match(&a_match(post, &hex.repeat(32)))
            .await
            .unwrap();
        ids.push(id);
    }
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    // c claims the most urgent case and opens it.
    b.key("c").await;
    let url = b.wait_url("/cases/").await;
    let first = url.rsplit('/').next().unwrap().to_string();
    assert!(ids.contains(&first));
    // "My cases" lists it with the claim's time left (the lease is 15 minutes by default).
    b.goto(&format!("{}/queue?mine=1", app.base)).await;
    wait_js(&b, ROWS, json!(1)).await;
    let row_id = b
        .js("return document.querySelector('#queue-rows tr').getAttribute('data-id')")
        .await;
    assert_eq!(row_id, json!(first));
    let expiry = b.text("#queue-rows .countdown.claim").await;
    let lease = app.store.options().lease.whole_seconds();
    let parts: Vec<i64> = expiry.split(':').map(|p| p.parse().unwrap()).collect();
    let left = parts[0] * 3600 + parts[1] * 60 + parts[2];
    assert!((lease - 5..=lease).contains(&left), "{expiry} of {lease} s");
    assert_eq!(b.text("#count-mine").await, "1");
    b.screenshot("21-my-cases").await;
    // Release gives it back to the queue.
    b.click("#queue-rows button").await;
    b.wait_url("released=1").await;
    assert_eq!(app.store.case(&first).await.unwrap().holder, None);
    wait_js(
        &b,
        "return document.getElementById('count-mine').textContent",
        json!("0"),
    )
    .await;
    // Claim again, then skip with s: the next case opens and the skipped one is queued again.
    b.key("c").await;
    let url = b.wait_url("/cases/").await;
    let claimed = url.rsplit('/').next().unwrap().to_string();
    assert_eq!(claimed, first, "the most urgent case again");
    b.key("s").await;
    for _ in 0..100 {
        if !b.current_url().await.ends_with(&claimed) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let url = b.current_url().await;
    let next = url.rsplit('/').next().unwrap().to_string();
    assert_ne!(next, claimed, "skip opened the same case");
    assert!(ids.contains(&next), "{url}");
    assert_eq!(app.store.case(&claimed).await.unwrap().holder, None);
    assert_eq!(
        app.store.case(&next).await.unwrap().holder.as_deref(),
        Some("mia")
    );
    let actions = audit_actions(&app.store, &claimed).await;
    assert!(
        actions.contains(&("case.released".into(), "mia".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("case.skipped".into(), "mia".into())),
        "{actions:?}"
    );
    b.quit().await;

    // A senior hands mia's case to ben; a moderator may not reassign.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |cookie: &str, path: String| {
        http.get(format!("{}{path}", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let reassign = |cookie: &str, csrf: &str, to: &str| {
        http.post(format!("{}/cases/{next}/reassign", app.base))
            .header("cookie", cookie.to_string())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&to={to}"))
            .send()
    };
    let sam = http_login(&http, &app.base, "sam").await;
    let page = get(&sam, format!("/cases/{next}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<option value=\"ben\">ben</option>"),
        "{page}"
    );
    assert!(
        !page.contains("<option value=\"mia\">"),
        "the holder is not offered"
    );
    let csrf = csrf_of(&page);
    let r = reassign(&sam, &csrf, "ben").await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.store.case(&next).await.unwrap().holder.as_deref(),
        Some("ben")
    );
    let actions = audit_actions(&app.store, &next).await;
    assert!(
        actions.contains(&("case.reassigned".into(), "sam".into())),
        "{actions:?}"
    );
    // To a name with no account: refused, nothing changes.
    let r = reassign(&sam, &csrf, "nobody").await.unwrap();
    assert_eq!(r.status(), 422);
    let mia = http_login(&http, &app.base, "mia").await;
    let page = get(&mia, "/queue".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = reassign(&mia, &csrf_of(&page), "mia").await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.store.case(&next).await.unwrap().holder.as_deref(),
        Some("ben")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_opens_the_page_asked_for_and_unknown_pages_get_a_404_page() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (case_id, _) = app
        .store
        .ingest_match(&a_match("p1", &"11".repeat(32)))
        .await
        .unwrap();
    let b = Browser::start().await;
    b.goto(&format!("{}/cases/{case_id}?from=link", app.base))
        .await;
    b.wait_url("/login?next=").await;
    b.type_into("#name", "mia").await;
    b.type_into("#password", PASSWORD).await;
    b.click("#login").await;
    let url = b.wait_url(&format!("/cases/{case_id}")).await;
    assert!(url.ends_with("?from=link"), "{url}");
    // An address that is no page: a 404 page in the layout's words, with a way back.
    b.goto(&format!("{}/no/such/page", app.base)).await;
    assert_eq!(b.text("h1").await, "Not found");
    assert_eq!(
        b.js("return document.querySelector('[data-status]').getAttribute('data-status')")
            .await,
        json!("404")
    );
    assert!(b.text("main a").await.contains("queue"));
    b.screenshot("22-not-found").await;
    // A page the role may not see: a 403 page.
    b.goto(&format!("{}/admin/users", app.base)).await;
    assert_eq!(
        b.js("return document.querySelector('[data-status]').getAttribute('data-status')")
            .await,
        json!("403")
    );
    b.quit().await;
    // Over HTTP: a link to another site is never where a login leads.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/login?next=https://evil.example/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"next\" value=\"/queue\""), "{page}");
}

/// Presses keys together (a chord such as Ctrl+Enter), as a user would.
async fn chord(b: &Browser, keys: &[&str]) {
    let mut actions: Vec<Value> = keys
        .iter()
        .map(|k| json!({"type": "keyDown", "value": k}))
        .collect();
    actions.extend(
        keys.iter()
            .rev()
            .map(|k| json!({"type": "keyUp", "value": k})),
    );
    b.post(
        "/actions",
        json!({"actions": [{"type": "key", "id": "kb", "actions": actions}]}),
    )
    .await;
    b.cmd(reqwest::Method::DELETE, "/actions", Value::Null)
        .await;
}

const CTRL: &str = "\u{E009}";
const ENTER: &str = "\u{E007}";

/// Whether the element is entirely inside the window, unscrolled.
fn visible(css: &str) -> String {
    format!(
        "var r = document.querySelector('{css}').getBoundingClientRect(); \
         return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 \
           && r.right <= window.innerWidth && window.scrollY === 0"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_screen_keyboard_only_decisions_and_a_422_on_its_field() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    for (post, hex) in [("p1", "11"), ("p2", "22"), ("p3", "33"), ("p4", "44")] {
        app.store
            .ingest_match(&a_match(post, &hex.repeat(32)))
            .await
            .unwrap();
    }
    let b = Browser::start_sized(1366, 900).await;
    b.login(&app.base, "mia").await;
    assert!(b.js("return window.innerHeight").await.as_i64().unwrap() <= 900);

    // Remove in four keystrokes: c (claim the next case), r (remove; focus on ground (a)),
    // space (tick it), Ctrl+Enter (record). The next case opens.
    b.key("c").await;
    let url = b.wait_url("/cases/").await;
    let first = url.rsplit('/').next().unwrap().to_string();
    assert_eq!(b.js(&visible("#submit-decision")).await, json!(true));
    // Before an outcome is chosen every field shows; "remove" hides what it does not need.
    b.key("r").await;
    assert_eq!(
        b.js(
            "return [document.getElementById('territories').offsetParent === null, \
                     document.getElementById('exemption').offsetParent === null, \
                     document.getElementById('g-a').offsetParent === null]"
        )
        .await,
        json!([true, true, false])
    );
    b.screenshot("23-one-screen-1366x900").await;
    b.key(" ").await;
    chord(&b, &[CTRL, ENTER]).await;
    let url = b.wait_url("decided=").await;
    let second = case_in(&url);
    assert_ne!(second, first);
    let d = app.store.case(&first).await.unwrap().case.decision.unwrap();
    assert_eq!(d.input.outcome, Outcome::Remove);
    assert_eq!(
        b.text("p.flash").await,
        format!("Decision recorded for {first}. This is the next case.")
    );

    // "Not terrorist content" without a justification: 422, the justification has the focus
    // and is tied to the message.
    b.key("n").await;
    chord(&b, &[CTRL, ENTER]).await;
    wait_js(
        &b,
        "return document.activeElement && document.activeElement.id",
        json!("justification"),
    )
    .await;
    assert_eq!(
        b.js("var j = document.getElementById('justification'); \
              return [j.getAttribute('aria-invalid'), j.getAttribute('aria-describedby'), \
                      !!document.getElementById('decision-error')]")
            .await,
        json!(["true", "decision-error", true])
    );
    assert!(b.text("#decision-error").await.contains("justification"));
    assert_eq!(b.js(&visible("#decision-error")).await, json!(true));
    b.screenshot("24-error-on-its-field").await;
    // A standard reason fills it (editable); Ctrl+Enter records; the next case opens.
    b.js("var c = document.getElementById('canned'); \
          c.value = c.querySelector('option[data-outcome=not_terrorist_content]').value; \
          c.dispatchEvent(new Event('change')); return 1")
        .await;
    let reason = b
        .js("return document.getElementById('justification').value")
        .await;
    assert!(
        reason.as_str().unwrap().starts_with("News reporting"),
        "{reason}"
    );
    b.type_into("#justification", " Checked the source.").await;
    chord(&b, &[CTRL, ENTER]).await;
    let url = b.wait_url(&format!("decided={second}")).await;
    let third = case_in(&url);
    let d = app
        .store
        .case(&second)
        .await
        .unwrap()
        .case
        .decision
        .unwrap();
    assert!(matches!(
        d.input.outcome,
        Outcome::NotTerroristContent { .. }
    ));
    assert!(
        d.input.justification.ends_with("Checked the source."),
        "{}",
        d.input.justification
    );

    // Escalate: e, a reason typed, Ctrl+Enter.
    b.key("e").await;
    b.type_into("#justification", "Unclear purpose").await;
    chord(&b, &[CTRL, ENTER]).await;
    b.wait_url(&format!("decided={third}")).await;
    assert!(app.store.case(&third).await.unwrap().case.senior_only);
    // A senior sees why, at the top of the case.
    web::add_user(&app.store, "sam", Role::SeniorModerator, PASSWORD, "test")
        .await
        .unwrap();
    let senior = Browser::start().await;
    senior.login(&app.base, "sam").await;
    senior.goto(&format!("{}/cases/{third}", app.base)).await;
    let why = senior.text("#escalation").await;
    assert!(
        why.starts_with("Escalated by mia") && why.ends_with("“Unclear purpose”"),
        "{why}"
    );
    // An escalation decides nothing: the deadline still runs.
    let clock = senior.text(".countdown").await;
    assert!(!clock.starts_with("decided"), "{clock}");
    assert!(
        !senior
            .js("return !!document.getElementById('decided-outcome')")
            .await
            .as_bool()
            .unwrap()
    );
    senior.quit().await;

    // A decided case shows its decision in words; its clock has stopped.
    b.goto(&format!("{}/cases/{second}", app.base)).await;
    assert_eq!(b.text("#decided-outcome").await, "Not terrorist content");
    assert!(
        b.text("#decided-justification")
            .await
            .ends_with("Checked the source.")
    );
    let countdown = b.text(".countdown").await;
    assert!(countdown.starts_with("decided after"), "{countdown}");
    let frozen = b
        .js("return document.querySelector('.countdown').getAttribute('data-deadline')")
        .await;
    assert_eq!(frozen, json!("0"));
    // Times in one format: the viewer's zone, UTC on hover.
    let t = b
        .js("var t = document.querySelector('time'); return [t.textContent, t.title]")
        .await;
    assert!(t[1].as_str().unwrap().ends_with(" UTC"), "{t}");
    assert!(t[0].as_str().unwrap().contains('('), "{t}");
    // The ground of the first decision reads as the Regulation words it.
    b.goto(&format!("{}/cases/{first}", app.base)).await;
    assert!(
        b.text(".decided")
            .await
            .contains("Art. 2(7)(a): incites the commission")
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protections_blur_strength_grey_reveal_reblur_and_a_break_prompt() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (case_id, _) = app
        .store
        .ingest_match(&agreeing(a_match("p7", &"77".repeat(32)), &png()))
        .await
        .unwrap();
    app.evidence
        .push(&case_id, "platform", Some("image/png"), png())
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.goto(&format!("{}/prefs", app.base)).await;
    b.click("#blur-maximum").await;
    b.click("#reveal-grey").await;
    b.js("document.getElementById('reblur').value = '5'; return 1")
        .await;
    b.click("#save-prefs").await;
    b.wait_url("/prefs?saved=1").await;
    // 39 originals revealed already this hour (the server's clock's hour).
    let hour = T0.unix_timestamp() / 3600;
    let mut conn = redis::Client::open(app._redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::AsyncCommands::set(
        &mut conn,
        app.store.key(&format!("web:exposure:mia:{hour}")),
        39,
    )
    .await
    .unwrap();
    b.goto(&format!("{}/cases/{case_id}", app.base)).await;
    let filter = "return getComputedStyle(document.querySelector('figure.media img')).filter";
    assert_eq!(b.js(filter).await, json!("blur(48px) grayscale(1)"));
    assert_eq!(b.text("#exposure-count").await, "39");
    assert_eq!(
        b.js("return document.getElementById('break-prompt').hidden")
            .await,
        json!(true)
    );
    // Revealed: the original, greyscale only; the count reaches 40 and the prompt shows.
    b.click("figure.media").await;
    wait_js(&b, filter, json!("grayscale(1)")).await;
    let src = b
        .js("return document.querySelector('figure.media img').getAttribute('src')")
        .await;
    assert!(src.as_str().unwrap().ends_with("/original"), "{src}");
    wait_js(
        &b,
        "return document.getElementById('exposure-count').textContent",
        json!("40"),
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('break-prompt').hidden")
            .await,
        json!(false)
    );
    b.screenshot("25-grey-reveal-break-prompt").await;
    // Five seconds later it blurs again by itself.
    wait_js(&b, filter, json!("blur(48px) grayscale(1)")).await;
    let src = b
        .js("return document.querySelector('figure.media img').getAttribute('src')")
        .await;
    assert!(src.as_str().unwrap().ends_with("/preview"), "{src}");
    let actions = audit_actions(&app.store, "mia").await;
    assert!(
        actions.iter().any(|(a, _)| a == "ui.preference"),
        "{actions:?}"
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core_without_serious_or_critical_violations() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [("sam", Role::SeniorModerator), ("ada", Role::Admin)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let (case_id, _) = app
        .store
        .ingest_match(&agreeing(a_match("p5", &"55".repeat(32)), &png()))
        .await
        .unwrap();
    let (twin, _) = app
        .store
        .ingest_match(&agreeing(a_match("p6", &"55".repeat(32)), &png()))
        .await
        .unwrap();
    for id in [&case_id, &twin] {
        app.evidence
            .push(id, "platform", Some("image/png"), png())
            .await
            .unwrap();
    }
    let b = Browser::start_sized(1366, 900).await;
    b.goto(&format!("{}/login", app.base)).await;
    axe::assert_accessible(&b, "/login").await;
    // The check can fail: an image without a text alternative is a critical violation.
    b.js(
        "var i = document.createElement('img'); i.src = '/static/none.png'; \
          document.body.appendChild(i); return 1",
    )
    .await;
    let found = axe::serious_violations(&b).await;
    assert!(found.to_string().contains("image-alt"), "{found}");
    b.login(&app.base, "sam").await;
    axe::assert_accessible(&b, "/queue").await;
    b.goto(&format!("{}/cases/{case_id}", app.base)).await;
    b.click("#claim-this button").await;
    b.wait_url(&format!("/cases/{case_id}")).await;
    axe::assert_accessible(&b, "the case page with its decision form").await;
    // The related case is shown with its (blurred) preview, not a bare id.
    assert_eq!(
        b.js(
            "var i = document.querySelectorAll('fieldset.cluster img.thumb'); \
              return [i.length, i.length ? i[0].getAttribute('src').endsWith('/preview') : false]"
        )
        .await,
        json!([1, true])
    );
    assert!(
        b.text("fieldset.cluster legend")
            .await
            .ends_with("sharing the hash")
    );
    // The decision form after a refused decision (its error tied to its field).
    b.key("n").await;
    b.click("#submit-decision").await;
    b.text("#decision-error").await;
    axe::assert_accessible(&b, "the case page with a 422").await;
    for page in [
        "/queue?mine=1",
        "/queue?list=gifct",
        "/prefs",
        "/supervisor/sla",
        "/supervisor/audit",
        "/no/such/page",
    ] {
        b.goto(&format!("{}{page}", app.base)).await;
        axe::assert_accessible(&b, page).await;
    }
    b.goto(&format!("{}/admin/users", app.base)).await;
    axe::assert_accessible(&b, "403 (a senior on the accounts page)").await;
    b.quit().await;
    let b = Browser::start().await;
    b.login(&app.base, "ada").await;
    for page in ["/admin/users", "/supervisor/lists"] {
        b.goto(&format!("{}{page}", app.base)).await;
        axe::assert_accessible(&b, page).await;
    }
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orders_annex_iii_reads_as_the_form_and_downloads() {
    let app = app().await;
    web::add_user(&app.store, "lea", Role::Legal, PASSWORD, "test")
        .await
        .unwrap();
    // No Art. 2(7) ground: the order lacks information (Art. 3(8)), an Annex III draft.
    let body = json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:00:00Z",
            "reference": "FR-NOGROUND"},
        "section_b": {"urls": ["https://bad.example.org/v/9"], "grounds": []},
        "section_c": {"do_not_inform": false}
    })
    .to_string();
    let order = parse_order(body.as_bytes()).unwrap();
    let (record, _) = app
        .store
        .receive_order(body.as_bytes(), order, "fr-authority", T0)
        .await
        .unwrap();
    let case_id = &record.case_ids[0];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let lea = http_login(&http, &app.base, "lea").await;
    let get = |path: String| {
        http.get(format!("{}{path}", app.base))
            .header("cookie", lea.clone())
            .send()
    };
    let page = get(format!("/cases/{case_id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page
        .find("<pre class=\"annex\" id=\"annex-iii\">")
        .expect("Annex III shown");
    let annex = &page[start..];
    assert!(
        annex.contains("ANNEX III - INFORMATION ON THE IMPOSSIBILITY"),
        "{annex}"
    );
    assert!(annex.contains("File reference of the competent authority: FR-NOGROUND"));
    assert!(
        annex.contains("section_b.grounds: no Art. 2(7) ground given"),
        "{annex}"
    );
    assert!(
        !page.contains("id=\"annex-ii\""),
        "no Annex II before execution"
    );
    let r = get(format!("/cases/{case_id}/annex/annex-iii.txt"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;") && disposition.ends_with("-annex-iii.txt\""));
    assert!(r.text().await.unwrap().starts_with("ANNEX III"));
    let r = get(format!("/cases/{case_id}/annex/annex-iii.json"))
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["draft"], json!(true));
    assert_eq!(v["authority_reference"], json!("FR-NOGROUND"));
    for missing in ["annex-ii.txt", "annex-ii.json", "annex-iv.txt", "..%2Fx"] {
        let r = get(format!("/cases/{case_id}/annex/{missing}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
    // Without a session: the login.
    let r = http
        .get(format!("{}/cases/{case_id}/annex/annex-iii.txt", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}
