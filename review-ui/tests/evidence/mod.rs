//! The case page serves only the preview until a reveal: in Chromium (with its stylesheets
//! removed, the server's own access log as the network log) and over plain HTTP (the reveal
//! form without JavaScript, grants per user).

use super::*;

fn originals_requested(app: &App) -> Vec<String> {
    app.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.ends_with("/original"))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_is_never_requested_before_reveal_and_css_off_shows_the_preview() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (case_id, _) = app
        .store
        .ingest_match(&agreeing(a_match("p9", &"99".repeat(32)), &png()))
        .await
        .unwrap();
    app.evidence
        .push(&case_id, "platform", Some("image/png"), png())
        .await
        .unwrap();
    let b = Browser::start().await;
    b.login(&app.base, "mia").await;
    b.goto(&format!("{}/cases/{case_id}", app.base)).await;
    // Stylesheets off: the page still shows only the small server-made preview.
    b.js("document.querySelectorAll('link[rel=stylesheet]').forEach(function (l) { l.remove(); }); return 1")
        .await;
    let probe = "var i = document.querySelector('figure.media img'); \
                 return [i.complete, i.naturalWidth, i.naturalHeight, i.getAttribute('src')]";
    let mut shown = b.js(probe).await;
    for _ in 0..40 {
        if shown[0] == json!(true) && shown[1].as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        shown = b.js(probe).await;
    }
    assert!(shown[3].as_str().unwrap().ends_with("/preview"), "{shown}");
    // The original is 320×240; the preview at most 192 px wide and greyscale-blurred.
    assert!(shown[1].as_u64().unwrap() <= 192, "{shown}");
    let styles = b.js("return document.styleSheets.length").await;
    assert_eq!(styles, json!(0));
    b.screenshot("10-css-off-preview-only").await;
    assert!(
        originals_requested(&app).is_empty(),
        "original fetched before reveal"
    );
    let actions = audit_actions(&app.store, &case_id).await;
    assert!(
        !actions
            .iter()
            .any(|(a, _)| a == "evidence.revealed" || a == "evidence.read"),
        "a page load is not a reveal: {actions:?}"
    );
    // Reveal: now, and only now, the original is fetched and audited.
    b.click("figure.media").await;
    for _ in 0..40 {
        if !originals_requested(&app).is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(originals_requested(&app).len(), 1);
    let actions = audit_actions(&app.store, &case_id).await;
    for wanted in ["evidence.revealed", "evidence.read"] {
        assert!(
            actions.iter().any(|(a, who)| a == wanted && who == "mia"),
            "{wanted} missing from {actions:?}"
        );
    }
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_reveal_form_works_and_grants_are_per_user() {
    let app = app().await;
    for (name, role) in [("mia", Role::Moderator), ("ode", Role::Auditor)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    let (case_id, _) = app
        .store
        .ingest_match(&agreeing(a_match("p8", &"88".repeat(32)), &png()))
        .await
        .unwrap();
    let item = app
        .evidence
        .push(&case_id, "platform", Some("image/png"), png())
        .await
        .unwrap();
    let sha = item.sha256.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mia = http_login(&http, &app.base, "mia").await;
    let ode = http_login(&http, &app.base, "ode").await;
    let page = |cookie: String| {
        let http = http.clone();
        let url = format!("{}/cases/{case_id}", app.base);
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
    let html = page(mia.clone()).await;
    assert!(html.contains(&format!("/evidence/{sha}/preview")));
    assert!(!html.contains(&format!("/evidence/{sha}/original")));
    let original = format!("{}/cases/{case_id}/evidence/{sha}/original", app.base);
    let refused = http
        .get(&original)
        .header("cookie", &mia)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "no original before a reveal");

    let reveal = http
        .post(format!(
            "{}/cases/{case_id}/evidence/{sha}/reveal",
            app.base
        ))
        .header("cookie", &mia)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", csrf_of(&html)))
        .send()
        .await
        .unwrap();
    assert_eq!(reveal.status(), 303);
    let html = page(mia.clone()).await;
    assert!(html.contains(&format!("/evidence/{sha}/original")));
    let got = http
        .get(&original)
        .header("cookie", &mia)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png());
    // Another user has no grant of their own.
    let other = http
        .get(&original)
        .header("cookie", &ode)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    // The grant ends with its ten minutes (by the server's clock).
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let late = http
        .get(&original)
        .header("cookie", &mia)
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 403);

    // A capture refused by the SSRF guard shows on the case and in the queue's filter.
    let (failing, _) = app
        .store
        .ingest_match(&a_match("p7", &"77".repeat(32)))
        .await
        .unwrap();
    app.store
        .enqueue_capture(&failing, "http://127.0.0.1:9/x.jpg")
        .await
        .unwrap();
    assert_eq!(app.evidence.capture_due(10, 1).await.unwrap(), 1);
    let html = page_of(&http, &app.base, &failing, &mia).await;
    assert!(html.contains("<code>fetch_forbidden</code>"), "{html}");
    let queue = http
        .get(format!("{}/queue?capture=failed", app.base))
        .header("cookie", &mia)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains(&failing), "{queue}");
    assert!(!queue.contains(&case_id), "only failed captures: {queue}");
}

async fn page_of(http: &reqwest::Client, base: &str, case: &str, cookie: &str) -> String {
    http.get(format!("{base}/cases/{case}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
