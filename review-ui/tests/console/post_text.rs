//! The post's text on the case page: collapsed until opened (`t`), its links defanged and
//! not links, the span a text rule matched marked, and blurred until unveiled when a list of
//! critical severity matched.

use super::super::*;
use super::{axe, wait_js};
use takedown_core::messages::PostText;

const TEXT: &str = "Plan the attack now.\nJoin at https://evil.example/join";

/// A text-rule match on `post` with the post's text, on a list of `severity`.
fn text_match(post: &str, severity: &str) -> Match {
    let mut m = a_match(post, &"00".repeat(32));
    m.media_id = "text".into();
    m.signal_type = SignalType::TextRegex;
    m.entry = "text_regex:(?i)attack now".into();
    m.match_id = match_id(post, "text", "gifct", &m.entry);
    m.severity = severity.into();
    m.distance = 0;
    m.query_hash = "attack now".into();
    m.list_hash = "(?i)attack now".into();
    m.post_text = Some(PostText {
        text: TEXT.into(),
        cut_from: Some(12_345),
    });
    m
}

const FILTER: &str = "return getComputedStyle(document.getElementById('post-text-body')).filter";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_post_text_is_collapsed_defanged_marked_and_veiled_when_critical() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    let (critical, _) = app
        .store
        .ingest_match(&text_match("p-crit", "critical"))
        .await
        .unwrap();
    let (high, _) = app
        .store
        .ingest_match(&text_match("p-high", "high"))
        .await
        .unwrap();
    let b = Browser::start_sized(1366, 900).await;
    b.login(&app.base, "mia").await;

    b.goto(&format!("{}/cases/{high}", app.base)).await;
    assert_eq!(
        b.js("return document.getElementById('post-text').open")
            .await,
        json!(false),
        "collapsed at first"
    );
    assert!(
        b.text("#post-text summary")
            .await
            .contains("the first of 12345")
    );
    b.key("t").await;
    wait_js(
        &b,
        "return document.getElementById('post-text').open",
        json!(true),
    )
    .await;
    assert_eq!(
        b.text("#post-text-body").await,
        "Plan the attack now.\nJoin at hxxps[://]evil[.]example/join"
    );
    assert_eq!(
        b.js("var q = document.getElementById('post-text-body'); \
              return [q.querySelectorAll('a').length, \
                      Array.from(q.querySelectorAll('mark')).map(m => m.textContent)]")
            .await,
        json!([0, ["attack now"]])
    );
    assert_eq!(
        b.js(FILTER).await,
        json!("none"),
        "high severity: not veiled"
    );
    assert_eq!(
        b.js("return document.querySelectorAll('button.unveil').length")
            .await,
        json!(0)
    );
    axe::assert_accessible(&b, "a case page with its post text open").await;
    b.key("t").await;
    wait_js(
        &b,
        "return document.getElementById('post-text').open",
        json!(false),
    )
    .await;

    b.goto(&format!("{}/cases/{critical}", app.base)).await;
    b.key("t").await;
    wait_js(
        &b,
        "return document.getElementById('post-text').open",
        json!(true),
    )
    .await;
    assert!(
        b.js(FILTER).await.as_str().unwrap().contains("blur"),
        "critical: blurred even when open"
    );
    assert!(
        b.js("return getComputedStyle(document.querySelector('q.matched-text')).filter")
            .await
            .as_str()
            .unwrap()
            .contains("blur"),
        "the matched span in the match table too"
    );
    b.screenshot("30-post-text-veiled").await;
    b.click("button.unveil").await;
    wait_js(&b, FILTER, json!("none")).await;
    assert_eq!(
        b.js("return document.querySelector('button.unveil').getAttribute('aria-pressed')")
            .await,
        json!("true")
    );
    axe::assert_accessible(&b, "a critical case's post text, unveiled").await;
    b.quit().await;
}
