//! Security behaviour against a real Redis, over plain HTTP. The login guard: password
//! hashing stays bounded under a burst of logins, guessing is throttled without locking a
//! moderator out, parallel guesses cannot race past the throttle, and disabling an account,
//! changing its role or revoking a token takes effect on live sessions and tokens at once.
//! The API gate: anonymous, oversized and mistyped requests are refused in JSON before any
//! body is parsed, and the queue page does not echo what a link says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use takedown_core::clock::ManualClock;
use takedown_local_services::{RedisServer, unique_name};
use takedown_review::model::Role;
use takedown_review::store::{ReviewStore, StoreError, StoreOptions, tokens};
use takedown_review_ui::web::{self, LoginLimits, UserError, WebConfig};
use time::macros::datetime;

const PASSWORD: &str = "correct horse battery staple";

struct App {
    _redis: RedisServer,
    store: ReviewStore,
    base: String,
    http: reqwest::Client,
}

async fn app(login: LoginLimits) -> App {
    let redis = RedisServer::start().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 12:00 UTC)));
    let opts = StoreOptions {
        prefix: unique_name("login"),
        ..StoreOptions::default()
    };
    let store = ReviewStore::connect(&redis.url(), opts, clock)
        .await
        .unwrap();
    let cfg = WebConfig {
        login,
        ..WebConfig::default()
    };
    let router = web::router(store.clone(), cfg)
        .merge(takedown_review_ui::api::router(store.clone()))
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    App {
        _redis: redis,
        store,
        base,
        http,
    }
}

fn first_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// Posts the login form for `name` to `base`; `device` is a device cookie to send.
async fn login(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
    device: Option<&str>,
) -> reqwest::Response {
    let r = http.get(format!("{base}/login")).send().await.unwrap();
    let token = first_cookie(&r, "td_login").unwrap();
    let mut cookies = format!("td_login={token}");
    if let Some(d) = device {
        cookies.push_str(&format!("; td_device={d}"));
    }
    http.post(format!("{base}/login"))
        .header("cookie", cookies)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={token}&name={name}&password={}",
            password.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap()
}

impl App {
    async fn login(&self, name: &str, password: &str, device: Option<&str>) -> reqwest::Response {
        login(&self.http, &self.base, name, password, device).await
    }

    async fn page(&self, session: &str, path: &str) -> reqwest::StatusCode {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("td_session={session}"))
            .send()
            .await
            .unwrap()
            .status()
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_logins_keeps_memory_flat_and_the_right_password_still_gets_in() {
    let app = app(LoginLimits {
        hash_workers: 2,
        hash_queue: 4,
        // The throttle is not under test here: give every attempt a free pass.
        free_failures: 1_000,
        free_source_failures: 1_000,
        ..LoginLimits::default()
    })
    .await;
    web::add_user(&app.store, "ana", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let before = rss_kib();
    let mut burst = Vec::new();
    for i in 0..64 {
        let (http, base) = (app.http.clone(), app.base.clone());
        burst.push(tokio::spawn(async move {
            login(&http, &base, "ana", &format!("wrong password {i}"), None)
                .await
                .status()
        }));
    }
    let mut refused = 0;
    for t in burst {
        let status = t.await.unwrap();
        assert!(
            status == 401 || status == 503,
            "a wrong password gets 401, or 503 when the pool is full: {status}"
        );
        refused += usize::from(status == 503);
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(
        refused > 0,
        "64 logins at once against 2 workers + 4 queued"
    );
    assert!(
        grown_mib < 150,
        "memory grew {grown_mib} MiB under 64 concurrent logins (unbounded: ~1.2 GB)"
    );
    let started = Instant::now();
    let ok = app.login("ana", PASSWORD, None).await;
    assert_eq!(ok.status(), 303, "the right password after the burst");
    assert!(started.elapsed() < Duration::from_secs(2));
}

fn throttled() -> LoginLimits {
    LoginLimits {
        free_failures: 5,
        free_source_failures: 1_000,
        max_gap: Duration::from_secs(2),
        ..LoginLimits::default()
    }
}

fn retry_after(r: &reqwest::Response) -> Duration {
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    Duration::from_secs(secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_guesses_slow_guessing_but_never_lock_the_moderator_out() {
    let app = app(throttled()).await;
    web::add_user(&app.store, "ana", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    // Ana's browser has logged in before: it carries a device cookie.
    let first = app.login("ana", PASSWORD, None).await;
    assert_eq!(first.status(), 303);
    let device = first_cookie(&first, "td_device").expect("a device cookie at login");

    // A stranger guesses: five free failures, then attempts need a slot.
    let mut statuses = Vec::new();
    for i in 0..30 {
        statuses.push(app.login("ana", &format!("guess {i}"), None).await.status());
    }
    assert!(statuses[..5].iter().all(|s| *s == 401), "{statuses:?}");
    let throttled_count = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        throttled_count >= 20,
        "most further guesses wait for a slot: {statuses:?}"
    );

    // Ana's own browser is not slowed by the stranger at all.
    let ok = app.login("ana", PASSWORD, Some(&device)).await;
    assert_eq!(ok.status(), 303, "the known browser logs in at once");

    // From a browser without the cookie the right password still gets in: after at most
    // the longest gap, never after a fixed lockout.
    let r = app.login("ana", PASSWORD, None).await;
    let r = if r.status() == 429 {
        let wait = retry_after(&r);
        assert!(wait <= Duration::from_secs(2), "{wait:?}");
        tokio::time::sleep(wait + Duration::from_millis(50)).await;
        app.login("ana", PASSWORD, None).await
    } else {
        r
    };
    assert_eq!(r.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_race_past_the_throttle() {
    let app = app(LoginLimits {
        max_gap: Duration::from_secs(60),
        ..throttled()
    })
    .await;
    web::add_user(&app.store, "ana", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (http, base) = (app.http.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            login(&http, &base, "ana", &format!("guess {i}"), None)
                .await
                .status()
        }));
    }
    let mut verified = 0;
    for t in tasks {
        let s = t.await.unwrap();
        assert!(s == 401 || s == 429 || s == 503, "{s}");
        verified += usize::from(s == 401);
    }
    // Five free failures, then one slot: at most six passwords were ever checked.
    assert!(
        verified <= 6,
        "{verified} of 40 parallel guesses were checked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_or_changing_its_role_ends_its_sessions_at_once() {
    let app = app(LoginLimits::default()).await;
    web::add_user(&app.store, "ada", Role::Admin, PASSWORD, "test")
        .await
        .unwrap();
    let r = app.login("ada", PASSWORD, None).await;
    let session = first_cookie(&r, "td_session").unwrap();
    assert_eq!(app.page(&session, "/admin/users").await, 200);

    web::set_role(&app.store, "ada", Role::Moderator, "test")
        .await
        .unwrap();
    assert_eq!(
        app.page(&session, "/admin/users").await,
        303,
        "a demoted admin's session is over (sent to /login)"
    );
    let r = app.login("ada", PASSWORD, None).await;
    let session = first_cookie(&r, "td_session").unwrap();
    assert_eq!(app.page(&session, "/queue").await, 200);
    assert_eq!(app.page(&session, "/admin/users").await, 403);

    web::set_disabled(&app.store, "ada", true, "test")
        .await
        .unwrap();
    assert_eq!(app.page(&session, "/queue").await, 303);
    assert_eq!(app.login("ada", PASSWORD, None).await.status(), 401);
    web::set_disabled(&app.store, "ada", false, "test")
        .await
        .unwrap();
    assert_eq!(app.login("ada", PASSWORD, None).await.status(), 303);
    assert!(matches!(
        web::set_disabled(&app.store, "nobody", true, "test").await,
        Err(UserError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_revoked_at_once_and_share_one_name_space_with_accounts() {
    let app = app(LoginLimits::default()).await;
    let token = tokens::add_token(&app.store, "eu-ref", Role::AuthorityClient)
        .await
        .unwrap();
    let queue = |token: String| {
        let http = app.http.clone();
        let url = format!("{}/api/v1/removal-orders/none", app.base);
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        queue(token.clone()).await,
        404,
        "a live token reaches the route"
    );
    assert_eq!(tokens::revoke(&app.store, "eu-ref").await.unwrap(), 1);
    assert_eq!(
        queue(token).await,
        401,
        "a revoked token is refused at once"
    );
    assert_eq!(tokens::revoke(&app.store, "eu-ref").await.unwrap(), 0);

    // One name space: a token cannot take a moderator's name, nor an account a token's.
    web::add_user(&app.store, "mod1", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    assert!(matches!(
        tokens::add_token(&app.store, "mod1", Role::Moderator).await,
        Err(StoreError::Invalid(_))
    ));
    tokens::add_token(&app.store, "tok1", Role::Moderator)
        .await
        .unwrap();
    assert!(matches!(
        web::add_user(&app.store, "tok1", Role::Moderator, PASSWORD, "test").await,
        Err(UserError::NameTaken(_))
    ));
    for bad in ["", "Mod 1", "a/b", &"x".repeat(65)] {
        assert!(
            matches!(
                tokens::add_token(&app.store, bad, Role::Moderator).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_for_unknown_names_leave_no_audit_entry() {
    let app = app(LoginLimits::default()).await;
    web::add_user(&app.store, "ana", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    assert_eq!(app.login("ana", "wrong password", None).await.status(), 401);
    assert_eq!(
        app.login("nobody", "wrong password", None).await.status(),
        401
    );
    assert_eq!(app.login("<script>", "x", None).await.status(), 401);
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(app.store.key("audit"))
        .arg("-")
        .arg("+")
        .query_async(&mut app.store.connection())
        .await
        .unwrap();
    let failed: Vec<String> = entries
        .ids
        .iter()
        .filter(|e| e.get::<String>("action").as_deref() == Some("ui.login_failed"))
        .filter_map(|e| e.get::<String>("subject"))
        .collect();
    assert_eq!(
        failed,
        ["ana"],
        "only the real account's failure is audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_in_json_before_parsing_any_body() {
    let app = app(LoginLimits::default()).await;
    let token = tokens::add_token(&app.store, "eu-ref", Role::AuthorityClient)
        .await
        .unwrap();
    let post = |path: &str, token: Option<&str>, ctype: Option<&str>, body: Vec<u8>| {
        let mut r = app.http.post(format!("{}{path}", app.base)).body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(c) = ctype {
            r = r.header("content-type", c);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
            let body: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
            (
                status,
                ctype,
                body["code"].as_str().unwrap_or("").to_string(),
            )
        }
    };
    let garbage = b"\x00\xffnot json at all".to_vec();
    let json = |s: &str| s.starts_with("application/json");
    // Anonymous garbage: 401 in JSON, whatever its type.
    let (s, c, code) = post(
        "/api/v1/removal-orders",
        None,
        Some("text/plain"),
        garbage.clone(),
    )
    .await;
    assert_eq!((s, json(&c), code.as_str()), (401, true, "unauthenticated"));
    let (s, c, _) = post(
        "/api/v1/actions/a/enforced",
        Some("wrong"),
        None,
        garbage.clone(),
    )
    .await;
    assert_eq!((s, json(&c)), (401, true));
    // Too large, by its declared length: 413 in JSON.
    // (Sent by hand: the reply comes before the body, which is never read.)
    let reply = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = app.base.trim_start_matches("http://").to_string();
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/v1/removal-orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{{",
            5 * 1024 * 1024
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(
        reply.contains("application/json") && reply.contains("payload_too_large"),
        "{reply}"
    );
    // Not declared JSON: 415 in JSON.
    let (s, c, code) = post(
        "/api/v1/removal-orders",
        Some(&token),
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(
        (s, json(&c), code.as_str()),
        (415, true, "unsupported_media_type")
    );
    // A typed body that does not fit its type: JSON, with a fixed message.
    let (s, c, _) = post(
        "/api/v1/actions/a/enforced",
        Some(&token),
        Some("application/json; charset=utf-8"),
        b"{\"enforced_at\": \"<script>\"}".to_vec(),
    )
    .await;
    assert!(s == 400 || s == 422, "{s}");
    assert!(json(&c), "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_page_does_not_say_what_a_link_tells_it_to() {
    let app = app(LoginLimits::default()).await;
    web::add_user(&app.store, "ana", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let r = app.login("ana", PASSWORD, None).await;
    let session = first_cookie(&r, "td_session").unwrap();
    let page = |q: &str| {
        let url = format!("{}/queue?{q}", app.base);
        let http = app.http.clone();
        let cookie = format!("td_session={session}");
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let spoof = page("decided=Your+account+is+suspended.+Call+%2B1+555+0100").await;
    assert!(
        !spoof.contains("suspended"),
        "the query string reached the page"
    );
    assert!(spoof.contains("Decision recorded."));
    let id = takedown_review::model::derive_id("m", &["post", "media"]);
    assert!(page(&format!("decided={id}")).await.contains(&id));
}
