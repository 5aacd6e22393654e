//! The reports page end to end: a seeded report ledger and statements outbox (written with
//! `takedown-reports`, as the review engine and `takedown report sor submit` write them), the
//! UI over a real Redis, a real headless Chromium for legal (period picker, charts, outbox,
//! retry) and plain HTTP for the role checks and the downloads. Every expected figure below
//! is worked out by hand from the seeded decisions, not by the code under test.

use super::*;
use takedown_reports::event::{Decision, Effect, Event, SourceKind};
use takedown_reports::ledger::Ledger;
use takedown_reports::outbox::{Outbox, Outcome};

struct ReportsApp {
    _redis: RedisServer,
    _dir: tempfile::TempDir,
    dir: PathBuf,
    store: ReviewStore,
    base: String,
}

fn decision(
    case: &str,
    source: SourceKind,
    received: OffsetDateTime,
    took_min: i64,
    due_min: Option<i64>,
) -> Event {
    let at = received + Duration::minutes(took_min);
    let due_at = due_min.map(|m| received + Duration::minutes(m));
    let own = source == SourceKind::HashMatch;
    Event::Decision(Decision {
        case_id: case.into(),
        seq: 0,
        at,
        received_at: received,
        due_at,
        in_time: due_at.is_none_or(|d| at <= d),
        source,
        issuing_state: (!own).then(|| "DE".to_string()),
        effect: Effect::Removed,
        territories: vec![],
        legal_grounds: vec!["art2_7_a".into()],
        tos: false,
        labels: vec!["gifct:glorification".into()],
        signals: if own { vec!["pdq".into()] } else { vec![] },
        media: own,
        automated_decision: false,
        contested: None,
        contested_source: None,
    })
}

/// March: removal orders decided after 30, 70 and 90 minutes of their hour (two late) and
/// three own-initiative PDQ removals; April: one PDQ removal; May: orders after 20 and 40
/// minutes; June (outside the period shown): one order and one PDQ removal.
fn seeded_events() -> Vec<Event> {
    use SourceKind::{HashMatch, RemovalOrder};
    let mar = datetime!(2026-03-10 09:00 UTC);
    let apr = datetime!(2026-04-07 09:00 UTC);
    let may = datetime!(2026-05-02 09:00 UTC);
    let jun = datetime!(2026-06-01 08:00 UTC);
    vec![
        decision("o1", RemovalOrder, mar, 30, Some(60)),
        decision("o2", RemovalOrder, mar, 70, Some(60)),
        decision("o3", RemovalOrder, mar, 90, Some(60)),
        decision("h1", HashMatch, mar, 300, None),
        decision("h2", HashMatch, mar, 300, None),
        decision("h3", HashMatch, mar, 300, None),
        decision("h4", HashMatch, apr, 300, None),
        decision("o4", RemovalOrder, may, 20, Some(60)),
        decision("o5", RemovalOrder, may, 40, Some(60)),
        decision("o6", RemovalOrder, jun, 10, Some(60)),
        decision("h5", HashMatch, jun, 10, None),
    ]
}

const PERMALINK: &str = "https://transparency.example/statement/u-1";

async fn reports_app() -> ReportsApp {
    let redis = RedisServer::start().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let opts = StoreOptions {
        prefix: unique_name("web-reports"),
        ..StoreOptions::default()
    };
    let store = ReviewStore::connect(&redis.url(), opts, clock)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    Ledger::open(dir.path())
        .unwrap()
        .append(&seeded_events())
        .unwrap();
    // h1 stored by the database, h2 refused by it; h3, h4 and h5 pending (orders get no
    // statement: Art. 17(5)).
    Outbox::open(dir.path())
        .unwrap()
        .record(&[
            (
                "td_h1_0".into(),
                Outcome::Stored {
                    uuid: Some("u-1".into()),
                    permalink: Some(PERMALINK.into()),
                },
            ),
            (
                "td_h2_0".into(),
                Outcome::Refused {
                    errors: [(
                        "category".to_string(),
                        vec!["The selected category is invalid.".to_string()],
                    )]
                    .into_iter()
                    .collect(),
                    by: "database".into(),
                },
            ),
        ])
        .unwrap();
    // Two events not archived yet.
    let mut conn = store.connection();
    for _ in 0..2 {
        let _: String = redis::cmd("XADD")
            .arg(store.key("ledger"))
            .arg("*")
            .arg("event")
            .arg("{}")
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let cfg = WebConfig {
        reports: Some(web::ReportsConfig {
            dir: dir.path().into(),
            mapping: Default::default(),
            provider: "Example Platform".into(),
        }),
        ..WebConfig::default()
    };
    let router = web::router(store.clone(), cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    for (name, role) in [
        ("lea", Role::Legal),
        ("ode", Role::Auditor),
        ("mia", Role::Moderator),
        ("sam", Role::SeniorModerator),
        ("ada", Role::Admin),
    ] {
        web::add_user(&store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    ReportsApp {
        _redis: redis,
        dir: dir.path().into(),
        _dir: dir,
        store,
        base,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_picks_a_period_reads_the_charts_and_sends_a_refused_statement_again() {
    let _one = BROWSER.lock().await;
    let app = reports_app().await;
    let b = Browser::start().await;
    b.login(&app.base, "lea").await;
    b.click("nav a[href='/reports']").await;
    b.wait_url("/reports").await;
    // Without a period: the clock's year so far (the clock reads 2026-06-01).
    assert_eq!(
        b.js("return [document.getElementById('from').value, document.getElementById('to').value]")
            .await,
        json!(["2026-01-01", "2026-06-01"])
    );
    b.js("document.getElementById('from').value = '2026-03-01'; \
          document.getElementById('to').value = '2026-05-31'; return 1")
        .await;
    b.click("#show").await;
    b.wait_url("from=2026-03-01&to=2026-05-31").await;

    // Removals per month: March o1–o3 and h1–h3, April h4, May o4 and o5.
    let rows = b
        .js(
            "return Array.from(document.querySelectorAll('#months tbody tr')).map(function (r) { \
               return Array.from(r.children).map(function (c) { return c.textContent; }); })",
        )
        .await;
    assert_eq!(
        rows,
        json!([
            ["2026-03", "6", "1.1667 h of 1 h (3 decided, 2 late)"],
            ["2026-04", "1", "–"],
            ["2026-05", "2", "0.5 h of 1 h (2 decided, 0 late)"]
        ])
    );
    // Two charts: removals, and removal orders against their hour (the only source with a
    // deadline); March's median (70 min) is past its mark, May's (30 min) is not.
    assert_eq!(
        b.js("return document.querySelectorAll('svg.chart').length")
            .await,
        json!(2)
    );
    assert_eq!(
        b.js(
            "return Array.from(document.querySelectorAll('svg.deadline rect')).map(function (r) { \
               return [r.getAttribute('class'), r.dataset.hours]; })"
        )
        .await,
        json!([["bar breached", "1.1667"], ["bar ok", "0.5"]])
    );
    assert_eq!(
        b.js("return Array.from(document.querySelectorAll('svg.deadline line.deadline-mark')).map(function (l) { return l.dataset.hours; })")
            .await,
        json!(["1", "1"])
    );
    assert_eq!(
        b.js("return Array.from(document.querySelectorAll('svg.chart:not(.deadline) .chart-value')).map(function (t) { return t.textContent; })")
            .await,
        json!(["6", "1", "2"])
    );
    // The outbox over every archived decision: h3, h4 and h5 pending, h1 stored, h2 refused.
    assert_eq!(b.text("#pending").await, "3");
    assert_eq!(b.text("#stored-count").await, "1");
    assert_eq!(b.text("#refused-count").await, "1");
    assert_eq!(b.text("#unarchived").await, "2 events");
    assert_eq!(
        b.js("return document.querySelector('#stored a').getAttribute('href')")
            .await,
        json!(PERMALINK)
    );
    let refused = b.text("#refused tbody tr").await;
    assert!(
        refused.contains("td_h2_0")
            && refused.contains("database")
            && refused.contains("category: The selected category is invalid."),
        "{refused}"
    );
    // The page counted the outbox, so the review gauges read 3.
    let mut conn = app.store.connection();
    let published = takedown_reports::pending::read(&mut conn, &app.store.options().prefix)
        .await
        .unwrap();
    assert_eq!(
        published,
        Some((3, (T0.unix_timestamp_nanos() / 1_000_000) as i64))
    );
    b.screenshot("20-reports").await;

    // Send again: queued, audited, and pending again.
    b.click("#refused button.retry").await;
    b.wait_url("done=").await;
    assert_eq!(b.text("p.flash").await, "td_h2_0 queued again.");
    assert_eq!(b.text("#pending").await, "4");
    assert_eq!(b.text("#refused-count").await, "0");
    assert!(
        b.current_url()
            .await
            .contains("from=2026-03-01&to=2026-05-31")
    );
    let audit = audit_actions(&app.store, "td_h2_0").await;
    assert_eq!(audit, [("sor.retry".to_string(), "lea".to_string())]);
    // The page only reads the report directory: the retry waits in Redis for the next
    // submission run, which writes it into the outbox.
    let prefix = &app.store.options().prefix;
    let outbox = Outbox::open(&app.dir).unwrap();
    assert!(matches!(
        outbox.outcomes().unwrap()["td_h2_0"],
        Outcome::Refused { .. }
    ));
    let queued = takedown_reports::pending::queued_retries(&mut conn, prefix)
        .await
        .unwrap();
    assert_eq!(queued.into_iter().collect::<Vec<_>>(), ["td_h2_0"]);
    let applied = takedown_reports::pending::apply_retries(&mut conn, prefix, &outbox)
        .await
        .unwrap();
    assert_eq!(applied, 1);
    assert_eq!(outbox.outcomes().unwrap()["td_h2_0"], Outcome::Retry);
    assert!(
        takedown_reports::pending::queued_retries(&mut conn, prefix)
            .await
            .unwrap()
            .is_empty()
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_read_and_download_but_only_legal_retries_and_others_are_refused() {
    let app = reports_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |cookie: &str, path: &str| {
        http.get(format!("{}{path}", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let period = "from=2026-03-01&to=2026-05-31";

    // Without a session: the login page, for the page and its files.
    for path in ["/reports", "/reports/tco/2026/tco-2026.json"] {
        let r = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        // To the login, which brings the visitor back to the page asked for.
        let location = r.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login"), "{path}: {location}");
    }

    // A moderator and a senior moderator are refused the page and its files.
    for name in ["mia", "sam"] {
        let c = http_login(&http, &app.base, name).await;
        for path in [
            format!("/reports?{period}"),
            format!("/reports/dsa/Part_1_summary.csv?{period}"),
            "/reports/tco/2026/tco-2026.json".to_string(),
        ] {
            assert_eq!(get(&c, &path).await.unwrap().status(), 403, "{name} {path}");
        }
        let html = get(&c, "/queue").await.unwrap().text().await.unwrap();
        assert!(!html.contains("href=\"/reports\""), "{name} sees no link");
    }

    // An auditor reads the page (no retry button) and may not retry.
    let ode = http_login(&http, &app.base, "ode").await;
    let html = get(&ode, &format!("/reports?{period}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("td_h2_0") && !html.contains("class=\"retry\""));
    assert!(html.contains("href=\"/reports\""));
    let r = http
        .post(format!("{}/reports/sor/retry", app.base))
        .header("cookie", ode.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&puid=td_h2_0", csrf_of(&html)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(matches!(
        Outbox::open(&app.dir).unwrap().outcomes().unwrap()["td_h2_0"],
        Outcome::Refused { .. }
    ));

    // Legal: a retry without the CSRF token is refused; a statement that was not refused
    // cannot be queued again.
    let lea = http_login(&http, &app.base, "lea").await;
    let html = get(&lea, "/reports").await.unwrap().text().await.unwrap();
    let post = |body: String| {
        http.post(format!("{}/reports/sor/retry", app.base))
            .header("cookie", lea.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(post("puid=td_h2_0".into()).await.unwrap().status(), 403);
    let r = post(format!("csrf={}&puid=td_h1_0", csrf_of(&html)))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("td_h1_0 is not a refused statement")
    );

    // Bad periods are named.
    for (q, want) in [
        ("from=2026-05-01&to=2026-03-01", 422),
        ("from=2026-13-01&to=2026-12-31", 422),
        ("from=&to=", 422),
    ] {
        assert_eq!(
            get(&ode, &format!("/reports?{q}")).await.unwrap().status(),
            want,
            "{q}"
        );
    }

    // Downloads: the DSA part for the period, with the template's header line.
    let r = get(&ode, &format!("/reports/dsa/Part_1_summary.csv?{period}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"Part_1_summary.csv\""
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("Applicability,Service,Indicator,Value\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Starting date of reporting period,2026-03-01\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Ending date of reporting period,2026-05-31\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Name of the service provider,Example Platform\r\n"),
        "{csv}"
    );
    assert_eq!(
        get(
            &ode,
            &format!("/reports/dsa/..%2Fsor%2Fresults.jsonl?{period}")
        )
        .await
        .unwrap()
        .status(),
        404
    );

    // The TCO report for 2026: (a) every removal of the year (o1–o6, h1–h5 = 11), (b) the
    // PDQ-detected ones (h1–h5 = 5), with the case ids behind (b).
    let r = get(&ode, "/reports/tco/2026/tco-2026.json").await.unwrap();
    assert_eq!(r.status(), 200);
    let tco: Value = r.json().await.unwrap();
    assert_eq!(tco["year"], 2026);
    assert_eq!(tco["figures"][0]["id"], "a");
    assert_eq!(tco["figures"][0]["value"], 11);
    assert_eq!(tco["figures"][1]["value"], 5);
    let ids = get(&ode, "/reports/tco/2026/figure_b.txt")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut ids: Vec<&str> = ids.lines().collect();
    ids.sort_unstable();
    assert_eq!(ids, ["h1", "h2", "h3", "h4", "h5"]);
    let html = get(&ode, "/reports/tco/2026/tco-2026.html")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Transparency report 2026") && !html.contains("src="));
    let csv = get(&ode, "/reports/tco/2026/tco-2026.csv")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("figure,item,value,cases_file\r\na,total,11,"),
        "{csv}"
    );
    for bad in [
        "/reports/tco/2026/tco-2025.json",
        "/reports/tco/2026/figure_z.txt",
    ] {
        assert_eq!(get(&ode, bad).await.unwrap().status(), 404, "{bad}");
    }

    // Admins may open every page and take every action (docs/ui.md): the page, its link, its
    // files and the retry, which is audited under the admin's name.
    let ada = http_login(&http, &app.base, "ada").await;
    let html = get(&ada, &format!("/reports?{period}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/reports\"") && html.contains("class=\"retry\""));
    assert_eq!(
        get(&ada, "/reports/tco/2026/tco-2026.json")
            .await
            .unwrap()
            .status(),
        200
    );
    let r = http
        .post(format!("{}/reports/sor/retry", app.base))
        .header("cookie", ada.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&puid=td_h2_0", csrf_of(&html)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut conn = app.store.connection();
    let queued = takedown_reports::pending::queued_retries(&mut conn, &app.store.options().prefix)
        .await
        .unwrap();
    assert_eq!(queued.into_iter().collect::<Vec<_>>(), ["td_h2_0"]);
    let audit = audit_actions(&app.store, "td_h2_0").await;
    assert_eq!(audit, [("sor.retry".to_string(), "ada".to_string())]);
}
