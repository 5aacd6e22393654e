//! The moderator web UI end to end: a real headless Chromium (Debian `chromium` and
//! `chromium-driver`, driven over WebDriver with plain HTTP) against the UI served on a free
//! loopback port over a real Redis. The server's clock is a manual clock, so countdowns and
//! deadlines are exact; the media are generated images. Screenshots go to
//! `$CARGO_TARGET_DIR/ui-screenshots` (or `target/ui-screenshots`).

use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;
use takedown_core::SignalType;
use takedown_core::clock::ManualClock;
use takedown_core::messages::{Match, match_id};
use takedown_local_services::{RedisServer, unique_name};
use takedown_review::model::{Outcome, Role};
use takedown_review::order::parse_order;
use takedown_review::store::{ReviewStore, StoreOptions};
use takedown_review_ui::web::{self, WebConfig};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

mod console;
mod evidence;
mod reports;
mod supervision;
mod video_strip;
mod workflow;

const T0: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const PASSWORD: &str = "a long test password";

/// Browsers are heavy on a 2-core machine: one at a time.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct App {
    _redis: RedisServer,
    /// Pushes media into the evidence store, as the platform would.
    evidence: takedown_review::evidence::EvidenceWorker,
    /// Every request path the server saw, in order (its access log).
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    _evidence_dir: tempfile::TempDir,
    store: ReviewStore,
    lists: takedown_hashlists::store::Store,
    clock: Arc<ManualClock>,
    base: String,
}

async fn app() -> App {
    let redis = RedisServer::start().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let opts = StoreOptions {
        prefix: unique_name("web"),
        ..StoreOptions::default()
    };
    let store = ReviewStore::connect(&redis.url(), opts, clock.clone())
        .await
        .unwrap();
    let lists = takedown_hashlists::store::Store::connect(&redis.url(), &unique_name("lists"))
        .await
        .unwrap();
    let evidence_dir = tempfile::tempdir().unwrap();
    let evidence_store = takedown_evidence::EvidenceStore::open(
        &takedown_evidence::Location::Local(evidence_dir.path().into()),
        takedown_evidence::Keyring::random(),
    )
    .unwrap();
    let evidence = takedown_review::evidence::EvidenceWorker::new(
        store.clone(),
        evidence_store.clone(),
        takedown_ingest::fetch::Fetcher::new(Default::default()).unwrap(),
        Default::default(),
        takedown_review::evidence::EvidenceMetrics::new(),
    );
    let cfg = WebConfig {
        lists: Some(lists.clone()),
        evidence: Some(evidence_store),
        ..WebConfig::default()
    };
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = requests.clone();
    let router = web::router(store.clone(), cfg).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            log.lock().unwrap().push(req.uri().path().to_string());
            next.run(req)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    App {
        _redis: redis,
        evidence,
        requests,
        _evidence_dir: evidence_dir,
        store,
        lists,
        clock,
        base,
    }
}

/// A one-URL removal order with `reference`, as an authority files it.
fn order_body(reference: &str) -> Vec<u8> {
    json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:00:00Z",
            "reference": reference},
        "section_b": {"urls": [format!("https://bad.example.org/v/{reference}")],
            "grounds": ["art2_7_a"], "reasons": "glorification"},
        "section_c": {"do_not_inform": false}
    })
    .to_string()
    .into_bytes()
}

fn a_match(post: &str, entry_hex: &str) -> Match {
    let entry = format!("pdq:{entry_hex}");
    Match {
        schema: 1,
        match_id: match_id(post, "m1", "gifct", &entry),
        post_id: post.into(),
        platform: "web".into(),
        post_url: Some(format!("https://bad.example.org/{post}")),
        media_url: None,
        media_id: "m1".into(),
        signal_type: SignalType::Pdq,
        list_id: "gifct".into(),
        entry,
        labels: vec!["gifct:glorification".into()],
        severity: "high".into(),
        distance: 4,
        query_hash: "ab".repeat(32),
        list_hash: entry_hex.into(),
        matched_at: T0 - Duration::hours(2),
        video: None,
        post_text: None,
        language: None,
    }
}

/// `m` with the PDQ of `bytes` as the post media's hash, so media pushed for its case agree.
fn agreeing(mut m: Match, bytes: &[u8]) -> Match {
    let mut c = takedown_matcher::SignalComputer::new(
        Default::default(),
        takedown_matcher::PreResize::Reference,
    );
    let signals = c.compute(bytes, &[SignalType::Pdq]).unwrap();
    m.query_hash = signals.pdq.unwrap().hash.to_string();
    m
}

/// A generated test image: a gradient with a bright square (never real material).
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        if (100..220).contains(&x) && (60..180).contains(&y) {
            image::Rgb([230, 30, 30])
        } else {
            image::Rgb([(x * 255 / 320) as u8, (y * 255 / 240) as u8, 160])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process with one headless Chromium session, ended on drop.
struct Browser {
    http: reqwest::Client,
    driver: Child,
    url: String,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        Browser::start_sized(1280, 1000).await
    }

    /// A browser whose window is `width`×`height`.
    async fn start_sized(width: u32, height: u32) -> Browser {
        let port = free_port();
        // Its own process group, which its Chromium inherits, so that ending the group ends
        // every browser process even when a test fails half-way.
        let driver = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian chromium-driver; scripts/install-test-deps)");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["value"]["ready"].as_bool())
                    == Some(true)
            {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(unique_name("td-chromium"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Browser {
            http,
            driver,
            url: format!("{base}/session/{session}"),
            profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let req = self.http.request(method, format!("{}{path}", self.url));
        let req = if body.is_null() { req } else { req.json(&body) };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, body).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    /// The rendered text of the first element matching `css` (read in one script, so a live
    /// page replacing the element meanwhile cannot make the reference stale); waits up to 5 s
    /// for the element to exist.
    async fn text(&self, css: &str) -> String {
        let script = format!(
            "var e = document.querySelector({}); \
             return e ? e.innerText.replace(/[ \\t]+/g, ' ').trim() : null",
            json!(css)
        );
        for _ in 0..100 {
            if let Value::String(t) = self.js(&script).await {
                return t;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        panic!("no element {css}")
    }

    async fn js(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Presses a key on the page, as a user would.
    async fn key(&self, key: &str) {
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
        )
        .await;
        self.cmd(reqwest::Method::DELETE, "/actions", Value::Null)
            .await;
    }

    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Waits until the page's URL contains `part`.
    async fn wait_url(&self, part: &str) -> String {
        for _ in 0..100 {
            let url = self.current_url().await;
            if url.contains(part) {
                return url;
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        let body = self.js("return document.body.innerText").await;
        panic!(
            "URL never contained {part}: {} showing {body}",
            self.current_url().await
        )
    }

    async fn login(&self, base: &str, name: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#name", name).await;
        self.type_into("#password", PASSWORD).await;
        self.click("#login").await;
        self.wait_url("/queue").await;
    }

    /// Ends the WebDriver session (closing Chromium), then the processes (on drop).
    async fn quit(self) {
        let _ = self.http.delete(&self.url).send().await;
    }

    /// Kills chromedriver's process group (chromedriver and every Chromium process).
    fn end(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -9 -{}", self.driver.id()))
            .status();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    // A failed test still ends its chromedriver and its Chromium.
    fn drop(&mut self) {
        self.end();
    }
}

async fn audit_actions(store: &ReviewStore, subject: &str) -> Vec<(String, String)> {
    takedown_review::audit::for_subject(store, subject, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let f = |k: &str| {
                e.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (f("action"), f("actor"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_claim_reveal_and_decide_in_chromium() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (case_id, _) = app
        .store
        .ingest_match(&agreeing(a_match("p1", &"11".repeat(32)), &png()))
        .await
        .unwrap();
    let (twin, _) = app
        .store
        .ingest_match(&a_match("p2", &"11".repeat(32)))
        .await
        .unwrap();
    app.evidence
        .push(&case_id, "platform", Some("image/png"), png())
        .await
        .unwrap();

    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.screenshot("01-queue").await;
    assert_eq!(b.text("#count-queued").await.trim(), "2");

    // One key claims the most urgent case.
    b.key("c").await;
    let url = b.wait_url("/cases/").await;
    let claimed = url.rsplit('/').next().unwrap().to_string();
    assert!(claimed == case_id || claimed == twin);
    if claimed != case_id {
        // Open the case with the media and claim it from its page.
        b.goto(&format!("{}/cases/{case_id}", app.base)).await;
        b.click("#claim-this button").await;
        b.wait_url(&format!("/cases/{case_id}")).await;
    }
    b.wait_url(&format!("/cases/{case_id}")).await;
    let holder = app.store.case(&case_id).await.unwrap().holder;
    assert_eq!(holder.as_deref(), Some("mia"));

    // The media is blurred and greyscale until revealed.
    let filter = "return getComputedStyle(document.querySelector('figure.media img')).filter";
    let before = b.js(filter).await;
    assert!(
        before.as_str().unwrap().contains("blur") && before.as_str().unwrap().contains("grayscale"),
        "{before}"
    );
    assert!(
        b.text(".defanged")
            .await
            .starts_with("hxxps[://]bad[.]example[.]org/")
    );
    b.screenshot("02-case-blurred").await;
    b.click("figure.media").await;
    for _ in 0..20 {
        if b.js(filter).await == json!("none") {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(b.js(filter).await, json!("none"));
    b.screenshot("03-case-revealed").await;
    // Blur again with the keyboard (space), as the help says.
    b.key(" ").await;
    assert!(b.js(filter).await.as_str().unwrap().contains("blur"));

    // r picks "remove" and moves to the grounds; decide for this case and its twin.
    b.key("r").await;
    assert_eq!(
        b.js("return document.getElementById('o-remove').checked")
            .await,
        json!(true)
    );
    assert_eq!(b.js("return document.activeElement.id").await, json!("g-a"));
    b.click("#g-a").await;
    b.click(&format!("input[name=bulk][value='{twin}']")).await;
    b.click("#submit-decision").await;
    b.wait_url("decided=").await;
    b.screenshot("04-decided").await;

    for id in [&case_id, &twin] {
        let view = app.store.case(id).await.unwrap();
        let d = view.case.decision.expect("decided");
        assert_eq!(d.input.outcome, Outcome::Remove);
        assert_eq!(d.decided_by, "mia");
    }
    let actions = audit_actions(&app.store, &case_id).await;
    for wanted in ["evidence.revealed", "evidence.read", "case.decided"] {
        assert!(
            actions.iter().any(|(a, who)| a == wanted && who == "mia"),
            "{wanted} missing from {actions:?}"
        );
    }
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_countdown_is_shown_coloured_and_moves() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    // A removal order received 50 minutes ago: 10 minutes of the hour are left.
    let body = json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:00:00Z",
            "reference": "FR-1"},
        "section_b": {"urls": ["https://bad.example.org/v/1"], "grounds": ["art2_7_a"],
            "reasons": "glorification"},
        "section_c": {"do_not_inform": true}
    })
    .to_string();
    let order = parse_order(body.as_bytes()).unwrap();
    let (record, _) = app
        .store
        .receive_order(
            body.as_bytes(),
            order,
            "fr-authority",
            T0 - Duration::minutes(50),
        )
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    let seconds = |text: String| -> i64 {
        let parts: Vec<i64> = text.split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600 + parts[1] * 60 + parts[2]
    };
    let first = b.text(".countdown").await;
    let class = b
        .js("return document.querySelector('.countdown').className")
        .await;
    assert!(class.as_str().unwrap().contains("critical"), "{class}");
    let s1 = seconds(first.clone());
    assert!((595..=600).contains(&s1), "{first}");
    b.screenshot("05-countdown").await;
    // The page's clock is the server's, as each live update brings it, plus the browser's
    // Date.now() since that update: freeze the browser's, so that only the server's (manual)
    // clock moves the countdown, and wait for the page's next update to show each step.
    b.js("var frozen = Date.now(); Date.now = function () { return frozen; }; return frozen;")
        .await;
    let countdown_after = |advance: Duration, at_most: i64| {
        let b = &b;
        let clock = app.clock.clone();
        async move {
            clock.advance(advance);
            let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
            loop {
                let s = seconds(b.text(".countdown").await);
                if s <= at_most {
                    return s;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the countdown did not move: {s} s left"
                );
                tokio::time::sleep(StdDuration::from_millis(50)).await;
            }
        }
    };
    // The order's deadline is 10 minutes after T0, the server's clock: a minute on, 9 left.
    let s2 = countdown_after(Duration::minutes(1), 540).await;
    assert_eq!(s2, 540, "{s1} then {s2}");
    let s3 = countdown_after(Duration::minutes(2), s2 - 1).await;
    assert_eq!(s2 - s3, 120, "{s2} then {s3}");
    // j selects the first case, ? opens the help, Escape closes it.
    b.key("j").await;
    assert_eq!(
        b.js("return document.activeElement.classList.contains('case-link')")
            .await,
        json!(true)
    );
    b.key("?").await;
    assert_eq!(
        b.js("return document.getElementById('help').open").await,
        json!(true)
    );
    b.screenshot("05b-help").await;
    b.key("\u{E00C}").await;
    assert_eq!(
        b.js("return document.getElementById('help').open").await,
        json!(false)
    );

    // The case page shows Annex I and the same clock; past the deadline it reads as breached.
    app.clock.advance(Duration::minutes(8));
    b.goto(&format!("{}/cases/{}", app.base, record.case_ids[0]))
        .await;
    assert!(b.text("#order-h").await.contains("Annex I"));
    let class = b
        .js("return document.querySelector('.countdown').className")
        .await;
    assert!(class.as_str().unwrap().contains("breached"), "{class}");
    assert!(b.text(".countdown").await.starts_with('-'));
    b.screenshot("06-order-breached").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_is_refused_admin_and_supervisor_pages() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    web::add_user(&app.store, "ada", Role::Admin, PASSWORD, "test")
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    for page in ["/admin/users", "/supervisor/audit", "/supervisor/sla"] {
        b.goto(&format!("{}{page}", app.base)).await;
        assert_eq!(b.text("h1").await, "Not allowed", "{page}");
        assert_eq!(
            b.js("return document.querySelector('[data-status]').dataset.status")
                .await,
            json!("403")
        );
    }
    b.screenshot("07-refused").await;
    b.quit().await;

    let b = Browser::start().await;
    b.login(&app.base, "ada").await;
    b.goto(&format!("{}/admin/users", app.base)).await;
    assert_eq!(b.text("h1").await, "Accounts");
    assert_eq!(
        b.text("#accounts tr[data-name=mia] select option:checked")
            .await,
        "moderator"
    );
    b.goto(&format!("{}/supervisor/sla", app.base)).await;
    assert_eq!(
        b.js("return document.querySelectorAll('svg.chart').length")
            .await,
        json!(5)
    );
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_post_is_refused() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (case_id, _) = app
        .store
        .ingest_match(&a_match("p1", &"22".repeat(32)))
        .await
        .unwrap();
    // Another site (localhost is not the same site as 127.0.0.1) with a form that tries to
    // decide the case.
    let target = format!("{}/cases/{case_id}/decide", app.base);
    let attacker = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move {
            axum::response::Html(format!(
                "<form method=post action=\"{target}\"><input name=outcome value=not_terrorist_content>\
                 <input name=justification value=x><button id=go>go</button></form>"
            ))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil = format!(
        "http://localhost:{}/",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, attacker).await });

    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.key("c").await;
    b.wait_url(&format!("/cases/{case_id}")).await;
    b.goto(&evil).await;
    b.click("#go").await;
    b.wait_url(&format!("/cases/{case_id}/decide")).await;
    assert_eq!(b.text("h1").await, "Cross-site request refused");
    b.screenshot("08-cross-site-refused").await;
    let view = app.store.case(&case_id).await.unwrap();
    assert!(view.case.decision.is_none());
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_security_headers_and_forms_need_tokens() {
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    assert!(
        web::add_user(&app.store, "x", Role::Moderator, "short", "test")
            .await
            .is_err()
    );
    assert!(
        web::add_user(&app.store, "x", Role::AuthorityClient, PASSWORD, "test")
            .await
            .is_err()
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let login_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(login_cookie.contains(flag), "{login_cookie}");
    }
    let token = login_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let login = |csrf: &str, password: &str| {
        http.post(format!("{}/login", app.base))
            .header("cookie", format!("td_login={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&name=mia&password={}",
                password.replace(' ', "+")
            ))
            .send()
    };
    assert_eq!(login("wrong", PASSWORD).await.unwrap().status(), 403);
    assert_eq!(login(&token, "nope nope nope").await.unwrap().status(), 401);
    let ok = login(&token, PASSWORD).await.unwrap();
    assert_eq!(ok.status(), 303);
    let session = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("td_session="))
        .unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(session.contains(flag), "{session}");
    }
    let sid = session.split(';').next().unwrap().to_string();
    // The session id is not stored in clear.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*web:session:*")
        .query_async(&mut app.store.connection())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(!keys[0].contains(sid.split_once('=').unwrap().1));
    let queue = http
        .get(format!("{}/queue", app.base))
        .header("cookie", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    assert!(queue.headers().contains_key("content-security-policy"));
    let html = queue.text().await.unwrap();
    assert!(!html.contains("<script>") && html.contains("<script src=\"/static/app.js\""));
    // A same-origin post without the form's CSRF token changes nothing.
    app.store
        .ingest_match(&a_match("p9", &"33".repeat(32)))
        .await
        .unwrap();
    let claim = http
        .post(format!("{}/queue/claim", app.base))
        .header("cookie", &sid)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status(), 403);
    assert_eq!(app.store.counts().await.unwrap().2, 0, "nothing claimed");
    // Without a session every page sends the browser to the login page.
    let anon = http
        .get(format!("{}/queue", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.headers()["location"], "/login");
}

/// Logs `name` in over plain HTTP (the login form's flow) and returns the session cookie.
async fn http_login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let r = http.get(format!("{base}/login")).send().await.unwrap();
    let token = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let ok = http
        .post(format!("{base}/login"))
        .header("cookie", format!("td_login={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={token}&name={name}&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    ok.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("td_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The page's CSRF token, as the layout renders it.
fn csrf_of(html: &str) -> String {
    let start = html.find("data-csrf=\"").unwrap() + "data-csrf=\"".len();
    html[start..start + 64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_roles_and_list_curation_over_http() {
    use takedown_hashlists::{Change, Entry, ListId, ListMeta};
    let app = app().await;
    for (name, role) in [
        ("mia", Role::Moderator),
        ("ode", Role::Auditor),
        ("sam", Role::SeniorModerator),
    ] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let (case_id, _) = app
        .store
        .ingest_match(&a_match("p1", &"44".repeat(32)))
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |cookie: String, path: String, body: String| {
        http.post(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let page = |cookie: String, path: String| {
        http.get(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .send()
    };

    // An auditor reads but may not claim.
    let ode = http_login(&http, &app.base, "ode").await;
    let html = page(ode.clone(), "/queue".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("claim-next"));
    let r = post(
        ode.clone(),
        "/queue/claim".into(),
        format!("csrf={}", csrf_of(&html)),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);

    // A moderator claims; a purpose exemption without a justification is refused with the
    // form kept, then accepted with one.
    let mia = http_login(&http, &app.base, "mia").await;
    let html = page(mia.clone(), "/queue".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let r = post(mia.clone(), "/queue/claim".into(), format!("csrf={csrf}"))
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], format!("/cases/{case_id}"));
    let decide = format!("/cases/{case_id}/decide");
    let r = post(
        mia.clone(),
        decide.clone(),
        format!("csrf={csrf}&outcome=not_terrorist_content&exemption=journalistic&justification="),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("purpose exemption (Art. 1(3)) needs a justification"));
    assert!(body.contains("value=\"journalistic\" selected"));
    let r = post(
        mia.clone(),
        decide.clone(),
        format!(
            "csrf={csrf}&outcome=not_terrorist_content&exemption=journalistic&justification=news+report"
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let d = app
        .store
        .case(&case_id)
        .await
        .unwrap()
        .case
        .decision
        .unwrap();
    assert_eq!(
        serde_json::to_value(&d.input.outcome).unwrap(),
        json!({"outcome": "not_terrorist_content", "exemption": "journalistic"})
    );
    // The auditor finds it in the audit log; the moderator may not open the log.
    let log = page(ode.clone(), format!("/supervisor/audit?subject={case_id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("case.decided") && log.contains("case.claimed"));
    let r = page(mia.clone(), "/supervisor/audit".into()).await.unwrap();
    assert_eq!(r.status(), 403);

    // A senior moderator disables a list entry and records feedback on another.
    let list = ListId::parse("gifct").unwrap();
    app.lists
        .put_list(&ListMeta::new(list.clone(), "test"))
        .await
        .unwrap();
    let mut writer = app.lists.writer(&list, "test").await.unwrap();
    let entries = ["55", "66"].map(|b| Entry::new(SignalType::Pdq, &b.repeat(32)).unwrap());
    writer
        .stage(
            entries
                .iter()
                .map(|e| Change::Added { entry: e.clone() })
                .collect(),
        )
        .await
        .unwrap();
    writer.commit(None).await.unwrap();
    let key = |hex: &str| format!("pdq:{}", hex.repeat(32));
    let r = page(
        mia.clone(),
        format!("/supervisor/lists?list=gifct&key={}", key("55")),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let sam = http_login(&http, &app.base, "sam").await;
    let html = page(
        sam.clone(),
        format!("/supervisor/lists?list=gifct&key={}", key("55")),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(html.contains("active"));
    let csrf = csrf_of(&html);
    let r = post(
        sam.clone(),
        "/supervisor/lists/disable".into(),
        format!(
            "csrf={csrf}&list=gifct&key={}&reason=misfires+on+memes",
            key("55")
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let e = app.lists.entry(&list, &key("55")).await.unwrap().unwrap();
    assert_eq!(e.disabled.unwrap().actor, "sam");
    let r = post(
        sam.clone(),
        "/supervisor/lists/feedback".into(),
        format!(
            "csrf={csrf}&list=gifct&key={}&verdict=false_positive",
            key("66")
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.lists
            .feedback(&list, &key("66"))
            .await
            .unwrap()
            .false_positives,
        1
    );
    let actions = audit_actions(&app.store, &format!("gifct/{}", key("55"))).await;
    assert_eq!(
        actions,
        vec![("list.entry_disabled".to_string(), "sam".to_string())]
    );
    // The UI's own audit entries keep the chain intact.
    takedown_review::audit::seal(&app.store, 10_000)
        .await
        .unwrap();
    let v = takedown_review::audit::verify(&app.store).await.unwrap();
    assert!(v.ok() && v.sealed_ok > 10, "{v:?}");
}
