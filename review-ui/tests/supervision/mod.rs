//! The supervision pages (issue 18, parts 4–6) in Chromium: the SLA dashboard coloured as the
//! queue colours each case and its bars opening exactly those cases; the audit browser's
//! filters, paging, CSV export and chain status; list entries found by hash prefix and label
//! a page at a time; account management by an admin, every change audited. axe-core runs on
//! every page, and a moderator is refused all of them.

use super::*;
use redis::AsyncCommands;

use super::console::axe;

mod all_lists;
mod per_queue;

/// Runs `script` (its last argument is the callback) in the page and returns what it passes.
async fn js_async(b: &Browser, script: &str) -> Value {
    b.post("/execute/async", json!({"script": script, "args": []}))
        .await
}

/// The ids of the queue's rows and their countdown classes, as the page shows them.
async fn queue_rows(b: &Browser) -> Vec<(String, String)> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('#queue-rows tr')).map(function (r) { \
             var c = r.querySelector('.countdown'); \
             return [r.getAttribute('data-id'), c ? c.className : '']; })",
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn receive(app: &App, reference: &str, received: OffsetDateTime) -> String {
    let body = order_body(reference);
    let parsed = parse_order(&body).unwrap();
    let (record, _) = app
        .store
        .receive_order(&body, parsed, "fr-authority", received)
        .await
        .unwrap();
    record.case_ids[0].clone()
}

fn decision(outcome: Value) -> takedown_review::model::DecisionInput {
    serde_json::from_value(outcome).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_colours_cases_as_the_queue_does_and_its_bars_open_exactly_them() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [("sam", Role::SeniorModerator), ("mia", Role::Moderator)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    // Two hash matches, decided by mia (one confirmed, one rejected) with 3 and 5 minutes
    // between her claim and her decision.
    for (post, hex) in [("p1", "11"), ("p2", "22")] {
        app.store
            .ingest_match(&a_match(post, &hex.repeat(32)))
            .await
            .unwrap();
    }
    for (outcome, minutes) in [
        (json!({"outcome": "remove", "grounds": ["art2_7_a"]}), 3),
        (
            json!({"outcome": "not_terrorist_content", "justification": "news report"}),
            5,
        ),
    ] {
        let id = app.store.claim_next("mia", false).await.unwrap().unwrap();
        app.clock.advance(Duration::minutes(minutes));
        app.store
            .decide(&id, "mia", &decision(outcome))
            .await
            .unwrap();
    }
    // Two removal orders (one hour each): one received now, one 35 minutes ago; 20 minutes
    // later the first has 40 of its 60 minutes left, the second 5.
    let now = app.store.clock().now();
    let fresh = receive(&app, "FR-FRESH", now).await;
    let late = receive(&app, "FR-LATE", now - Duration::minutes(35)).await;
    app.clock.advance(Duration::minutes(20));
    // The fresh order is green in the queue, and so on the dashboard (the old chart drew
    // every order under an hour red); the late one is red in both.
    let b = Browser::start().await;
    b.login(&app.base, "sam").await;
    b.goto(&format!("{}/supervisor/sla", app.base)).await;
    let count = |class: &str| format!("#urgency-table tr[data-urgency={class}] a");
    assert_eq!(b.text(&count("ok")).await, "1");
    assert_eq!(b.text(&count("critical")).await, "1");
    assert_eq!(b.text(&count("warn")).await, "0");
    assert_eq!(b.text(&count("breached")).await, "0");
    // The bars carry the queue's classes.
    assert_eq!(
        b.js("return document.querySelector('svg a[href*=\"urgency=ok\"] rect').getAttribute('class')")
            .await,
        json!("bar ok")
    );
    // Per moderator: two decisions, the median of 3 and 5 minutes (the upper middle).
    assert_eq!(b.text("#moderators tbody tr").await, "mia 2 0:05:00");
    // gifct matched both: one confirmed, one rejected.
    assert_eq!(b.text("#precision tbody tr").await, "gifct 1 1 50%");
    assert_eq!(b.text("#decisions-total").await, "2");
    assert_eq!(b.text("#decisions-late").await, "0");
    // The time-to-action chart draws the deadline target of each source.
    assert!(
        b.js("return document.querySelectorAll('section[aria-labelledby=tta-h] line.deadline-mark').length")
            .await
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(b.text("#qa-none").await.starts_with("Not available yet"));
    assert_eq!(
        b.js("return document.querySelectorAll('svg.chart').length")
            .await,
        json!(5)
    );
    axe::assert_accessible(&b, "the SLA dashboard").await;
    b.screenshot("30-sla-dashboard").await;
    b.js("window.scrollTo(0, 750); return 1").await;
    b.screenshot("30-sla-dashboard-trend").await;
    b.js("window.scrollTo(0, 1500); return 1").await;
    b.screenshot("30-sla-dashboard-moderators").await;
    // Each range draws its trend with the same decisions in it.
    for range in ["7d", "30d"] {
        b.goto(&format!("{}/supervisor/sla?range={range}", app.base))
            .await;
        assert_eq!(b.text("#decisions-total").await, "2", "{range}");
        assert_eq!(
            b.js("return document.querySelector('nav[aria-label=Range] a[aria-current=page]').getAttribute('href')")
                .await,
            json!(format!("/supervisor/sla?range={range}"))
        );
    }
    // The green bar opens the queue with exactly the green case, the red one the red case,
    // a claimed case included (the dashboard counts every open case).
    app.store.claim_next("mia", false).await.unwrap();
    for (class, want) in [("ok", &fresh), ("critical", &late)] {
        b.goto(&format!("{}/supervisor/sla", app.base)).await;
        b.click(&format!("svg a[href*=\"urgency={class}\"]")).await;
        b.wait_url(&format!("urgency={class}")).await;
        let rows = queue_rows(&b).await;
        assert_eq!(rows.len(), 1, "{class}: {rows:?}");
        assert_eq!(&rows[0].0, want);
        assert!(rows[0].1.split(' ').any(|c| c == class), "{rows:?}");
        axe::assert_accessible(&b, "the queue filtered by urgency").await;
    }
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_browser_filters_pages_exports_and_verifies_the_chain() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [("ode", Role::Auditor), ("sam", Role::SeniorModerator)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    // 60 account changes by "cli", one minute apart.
    for i in 0..60 {
        app.clock.advance(Duration::minutes(1));
        web::set_disabled(&app.store, "sam", i % 2 == 0, "cli")
            .await
            .unwrap();
    }
    // A list entry disabled with a reason a spreadsheet would run as a formula.
    let list = takedown_hashlists::ListId::parse("gifct").unwrap();
    app.lists
        .put_list(&takedown_hashlists::ListMeta::new(list.clone(), "test"))
        .await
        .unwrap();
    let entry = takedown_hashlists::Entry::new(SignalType::Pdq, &"55".repeat(32)).unwrap();
    let mut w = app.lists.writer(&list, "test").await.unwrap();
    w.stage(vec![takedown_hashlists::Change::Added {
        entry: entry.clone(),
    }])
    .await
    .unwrap();
    w.commit(None).await.unwrap();
    web::set_disabled(&app.store, "sam", false, "cli")
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "sam").await;
    b.goto(&format!(
        "{}/supervisor/lists?list=gifct&key=pdq:{}",
        app.base,
        "55".repeat(32)
    ))
    .await;
    b.type_into("#reason", "=HYPERLINK(\"http://evil.example/\",\"x\")")
        .await;
    b.click("form[action='/supervisor/lists/disable'] button")
        .await;
    b.wait_url("done=").await;
    b.quit().await;

    let b = Browser::start().await;
    b.login(&app.base, "ode").await;
    b.goto(&format!("{}/supervisor/audit", app.base)).await;
    // Newest first: ode's own login on top, sequence numbers falling, 50 a page.
    let first = seqs(&b).await;
    assert_eq!(first.len(), 50);
    assert!(first.windows(2).all(|w| w[0] == w[1] + 1), "{first:?}");
    assert_eq!(b.text("#audit tbody tr td:nth-child(4)").await, "ui.login");
    b.click("#older").await;
    b.wait_url("before=").await;
    let second = seqs(&b).await;
    assert_eq!(second[0] + 1, *first.last().unwrap());
    assert_eq!(
        *second.last().unwrap(),
        1,
        "the oldest entry ends the trail"
    );
    assert!(
        b.js("return document.getElementById('older') === null")
            .await
            == json!(true)
    );
    // Filters: the actor, an action family, a time range.
    b.goto(&format!("{}/supervisor/audit", app.base)).await;
    b.type_into("#f-actor", "cli").await;
    b.type_into("#f-action", "user.").await;
    b.click("#f-show").await;
    b.wait_url("actor=cli").await;
    let n = b
        .js("return Array.from(document.querySelectorAll('#audit tbody tr')).filter(function (r) { \
             return r.children[2].textContent === 'cli' && r.children[3].textContent.indexOf('user.') === 0; }).length")
        .await;
    assert_eq!(n, json!(50));
    b.click("#older").await;
    b.wait_url("before=").await;
    assert_eq!(seqs(&b).await.len(), 11, "61 changes by cli in all");
    // From T0+10 min to T0+19 min: the changes made at minutes 10..=19.
    b.goto(&format!(
        "{}/supervisor/audit?actor=cli&from=2026-06-01T12:10&to=2026-06-01T12:19",
        app.base
    ))
    .await;
    assert_eq!(seqs(&b).await.len(), 10);
    axe::assert_accessible(&b, "the audit browser").await;
    // The export: every matching entry, formulas kept as text.
    let csv = js_async(
        &b,
        "var done = arguments[arguments.length - 1]; \
         fetch('/supervisor/audit.csv?action=list.entry_disabled').then(function (r) { \
           return r.text().then(function (t) { done([r.headers.get('content-type'), t]); }); })",
    )
    .await;
    assert_eq!(csv[0], json!("text/csv; charset=utf-8"));
    let text = csv[1].as_str().unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("\"id\",\"seq\",\"at\",\"actor\""));
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\""),
        "{text}"
    );
    assert!(lines[1].contains("\"sam\",\"list.entry_disabled\""));
    // The chain: seal, verify from the page, then tamper and verify again.
    takedown_review::audit::seal(&app.store, 10_000)
        .await
        .unwrap();
    let (head_id, head_hash) = takedown_review::audit::head(&app.store)
        .await
        .unwrap()
        .unwrap();
    b.goto(&format!("{}/supervisor/audit", app.base)).await;
    assert_eq!(b.text("#head-id").await, head_id);
    assert_eq!(b.text("#head-hash").await, head_hash);
    b.click("#verify").await;
    b.wait_url("/supervisor/audit").await;
    let status = b.text("#chain-status").await;
    assert!(
        status.starts_with("Intact:") && status.contains("by ode"),
        "{status}"
    );
    let _: String = redis::cmd("XADD")
        .arg(app.store.key("audit"))
        .arg("*")
        .arg(&[
            "seq", "999", "subject", "x", "actor", "mallory", "at", "0", "action", "forged",
        ])
        .query_async(&mut app.store.connection())
        .await
        .unwrap();
    b.click("#verify").await;
    let status = wait_text(&b, "#chain-status", "Broken:").await;
    assert!(status.contains("sequence 999"), "{status}");
    b.screenshot("31-audit-browser").await;
    axe::assert_accessible(&b, "the audit browser with a broken chain").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_entries_are_found_by_hash_prefix_and_label_a_page_at_a_time() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "sam", Role::SeniorModerator, PASSWORD, "test")
        .await
        .unwrap();
    let list = takedown_hashlists::ListId::parse("gifct").unwrap();
    app.lists
        .put_list(&takedown_hashlists::ListMeta::new(list.clone(), "test"))
        .await
        .unwrap();
    // 300 entries: values i repeated; every third labelled gifct:glorification.
    let mut all = Vec::new();
    let mut changes = Vec::new();
    for i in 0..300u32 {
        let value = format!("{i:04x}").repeat(16);
        let mut e = takedown_hashlists::Entry::new(SignalType::Pdq, &value).unwrap();
        if i % 3 == 0 {
            e.add_labels(["gifct:glorification".to_string()]);
        } else {
            e.add_labels(["tat:other".to_string()]);
        }
        all.push(e.key());
        changes.push(takedown_hashlists::Change::Added { entry: e });
    }
    let mut w = app.lists.writer(&list, "test").await.unwrap();
    w.stage(changes).await.unwrap();
    w.commit(None).await.unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "sam").await;
    // A hash prefix: the 16 entries whose value starts 00a (0x00a0..=0x00af).
    b.goto(&format!("{}/supervisor/lists", app.base)).await;
    b.type_into("#s-prefix", "pdq:00a").await;
    b.click("#s-go").await;
    b.wait_url("search=1").await;
    let mut found = keys(&b).await;
    found.sort();
    let want: Vec<String> = (0xa0..=0xafu32)
        .map(|i| format!("pdq:{}", format!("{i:04x}").repeat(16)))
        .collect();
    assert_eq!(found, want);
    axe::assert_accessible(&b, "list search results").await;
    // A bare hex prefix finds the same, of any signal type.
    b.goto(&format!(
        "{}/supervisor/lists?search=1&list=gifct&prefix=00a",
        app.base
    ))
    .await;
    assert_eq!(keys(&b).await.len(), 16);
    // A label, page by page: every labelled entry once, each page bounded.
    b.goto(&format!(
        "{}/supervisor/lists?search=1&list=gifct&label=gifct:",
        app.base
    ))
    .await;
    let mut labelled = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let page = keys(&b).await;
        assert!(page.len() <= 150, "a page holds {}", page.len());
        labelled.extend(page);
        if b.js("return document.getElementById('more') === null")
            .await
            == json!(true)
        {
            break;
        }
        click_away(&b, "#more").await;
        assert!(pages < 50, "the search never ended");
    }
    assert!(pages > 1, "300 entries fit no single page");
    labelled.sort();
    labelled.dedup();
    let mut want: Vec<String> = all.iter().step_by(3).cloned().collect();
    want.sort();
    assert_eq!(labelled, want);
    // A glob character is refused, not passed to Redis.
    b.goto(&format!(
        "{}/supervisor/lists?search=1&list=gifct&prefix=*",
        app.base
    ))
    .await;
    assert_eq!(b.text("h1").await, "Cannot do that");
    b.quit().await;
}

/// Waits (up to 10 s) until the text of `css` starts with `prefix` (a form's answer loaded).
async fn wait_text(b: &Browser, css: &str, prefix: &str) -> String {
    wait_for(b, css, |t| t.starts_with(prefix)).await
}

/// Waits (up to 10 s) until the text of `css` satisfies `ok`.
async fn wait_for(b: &Browser, css: &str, ok: impl Fn(&str) -> bool) -> String {
    for _ in 0..200 {
        let t = b.text(css).await;
        if ok(&t) {
            return t;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("{css} never came: {}", b.text(css).await)
}

/// Clicks `css` and waits until the browser shows another address.
async fn click_away(b: &Browser, css: &str) {
    let before = b.current_url().await;
    b.click(css).await;
    for _ in 0..200 {
        if b.current_url().await != before {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("{css} led nowhere from {before}")
}

/// The sequence numbers of the audit rows shown.
async fn seqs(b: &Browser) -> Vec<u64> {
    b.js("return Array.from(document.querySelectorAll('#audit tbody tr td:first-child')).map(function (t) { return +t.textContent; })")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// The entry keys of the list search results shown.
async fn keys(b: &Browser) -> Vec<String> {
    b.js("return Array.from(document.querySelectorAll('#results tbody code')).map(function (c) { return c.textContent; })")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Logs `name` in with `password` and waits for the URL to contain `lands`.
async fn login_as(b: &Browser, base: &str, name: &str, password: &str, lands: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#name", name).await;
    b.type_into("#password", password).await;
    b.click("#login").await;
    b.wait_url(lands).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_changes_and_disables_accounts_and_each_change_is_audited() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "ada", Role::Admin, PASSWORD, "test")
        .await
        .unwrap();
    let admin = Browser::start().await;
    admin.login(&app.base, "ada").await;
    admin.goto(&format!("{}/admin/users", app.base)).await;
    admin.type_into("#new-name", "nora").await;
    admin.click("#create").await;
    let otp = admin.text("#one-time").await;
    assert_eq!(otp.chars().count(), 20);
    assert_eq!(
        admin.text("#accounts tr[data-name=nora] .state").await,
        "active, must change password"
    );
    axe::assert_accessible(&admin, "accounts with a one-time password").await;
    admin.screenshot("32-accounts-created").await;
    // The password is in no audit entry.
    let trail = takedown_review::audit::read(&app.store, None, 10_000)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .all(|e| e.fields.iter().all(|(_, v)| !v.contains(&otp)))
    );
    // nora logs in with it and must choose her own before anything else.
    let nora = Browser::start().await;
    login_as(&nora, &app.base, "nora", &otp, "/account/password").await;
    assert!(
        nora.text("#must-change")
            .await
            .starts_with("Choose a new password")
    );
    nora.goto(&format!("{}/queue", app.base)).await;
    nora.wait_url("/account/password").await;
    axe::assert_accessible(&nora, "the password change").await;
    nora.type_into("#current", &otp).await;
    nora.type_into("#new", "nora's own long password").await;
    nora.type_into("#confirm", "nora's own long password").await;
    nora.click("#change").await;
    nora.wait_url("done=1").await;
    nora.goto(&format!("{}/queue", app.base)).await;
    assert_eq!(nora.text("h1").await, "Queue");
    // The one-time password is spent.
    assert_eq!(
        app.store
            .connection()
            .hget::<_, _, Option<String>>(
                app.store.key(takedown_review::store::tokens::UI_ACCOUNTS),
                "nora"
            )
            .await
            .unwrap()
            .map(|j| j.contains("\"must_change\":false")),
        Some(true)
    );
    // A role change ends nora's session.
    admin.goto(&format!("{}/admin/users", app.base)).await;
    let set_role = "#accounts tr[data-name=nora] select[name=role]";
    admin
        .js(&format!(
            "document.querySelector({}).value = 'senior_moderator'; return 1",
            json!(set_role)
        ))
        .await;
    admin.click("#accounts tr[data-name=nora] .set-role").await;
    admin.wait_url("done=role").await;
    nora.goto(&format!("{}/queue", app.base)).await;
    nora.wait_url("/login").await;
    login_as(
        &nora,
        &app.base,
        "nora",
        "nora's own long password",
        "/queue",
    )
    .await;
    assert!(nora.text(".who").await.contains("senior_moderator"));
    // Requiring a new password sends her back to the form.
    admin
        .click("#accounts tr[data-name=nora] .require-password")
        .await;
    admin.wait_url("done=password").await;
    nora.goto(&format!("{}/queue", app.base)).await;
    nora.wait_url("/login").await;
    login_as(
        &nora,
        &app.base,
        "nora",
        "nora's own long password",
        "/account/password",
    )
    .await;
    // Disabling ends the session and refuses the login.
    admin.click("#accounts tr[data-name=nora] .disable").await;
    admin.wait_url("done=disabled").await;
    assert!(
        admin
            .text("#accounts tr[data-name=nora] .state")
            .await
            .starts_with("disabled")
    );
    nora.goto(&format!("{}/account/password", app.base)).await;
    nora.wait_url("/login").await;
    nora.type_into("#name", "nora").await;
    nora.type_into("#password", "nora's own long password")
        .await;
    nora.click("#login").await;
    wait_for(&nora, "main", |t| t.contains("Wrong name or password")).await;
    // An admin cannot lock themselves out.
    let own = js_async(
        &admin,
        "var done = arguments[arguments.length - 1]; \
         fetch('/admin/users/disable', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, \
           body: 'csrf=' + document.body.dataset.csrf + '&name=ada&disabled=true'}).then(function (r) { done(r.status); })",
    )
    .await;
    assert_eq!(own, json!(422));
    let actions: Vec<(String, String)> = audit_actions(&app.store, "nora")
        .await
        .into_iter()
        .filter(|(a, _)| !a.starts_with("ui."))
        .collect();
    let want = [
        ("user.created", "ada"),
        ("user.password_changed", "nora"),
        ("user.role_changed", "ada"),
        ("user.password_change_required", "ada"),
        ("user.disabled", "ada"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(actions, want);
    admin.quit().await;
    nora.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_gets_403_from_every_supervision_route() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [("mia", Role::Moderator), ("ada", Role::Admin)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    let status = |method: &str, path: &str| {
        format!(
            "var done = arguments[arguments.length - 1]; \
             fetch('{path}', {{method: '{method}', redirect: 'manual', \
               headers: {{'content-type': 'application/x-www-form-urlencoded'}}, \
               body: {body}}}).then(function (r) {{ done(r.status); }})",
            body = if method == "POST" {
                "'csrf=' + document.body.dataset.csrf + '&name=ada&role=moderator&disabled=true'"
            } else {
                "undefined"
            }
        )
    };
    for (method, path) in [
        ("GET", "/supervisor/sla?range=7d"),
        ("GET", "/supervisor/audit?actor=ada"),
        ("GET", "/supervisor/audit.csv"),
        ("POST", "/supervisor/audit/verify"),
        ("GET", "/supervisor/lists?search=1&list=gifct&prefix=ab"),
        ("GET", "/admin/users"),
        ("POST", "/admin/users/create"),
        ("POST", "/admin/users/role"),
        ("POST", "/admin/users/disable"),
        ("POST", "/admin/users/require-password"),
    ] {
        assert_eq!(
            js_async(&b, &status(method, path)).await,
            json!(403),
            "{method} {path}"
        );
    }
    // Nothing changed: ada is still an active admin, and no account was created.
    let accounts: Vec<String> = app
        .store
        .connection()
        .hkeys(app.store.key(takedown_review::store::tokens::UI_ACCOUNTS))
        .await
        .unwrap();
    assert_eq!(accounts.len(), 2);
    b.goto(&format!("{}/supervisor/sla", app.base)).await;
    axe::assert_accessible(&b, "the 403 page").await;
    b.quit().await;
}
