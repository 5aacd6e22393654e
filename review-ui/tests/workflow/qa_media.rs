//! The QA review shows a case's media as the case page does (issue 18, part 3's gap): the
//! server's blurred preview first, the original only after the reviewer's click (or space),
//! audited, blurred again on the next press; without the script the reveal comes back to the
//! task, never to the case page that shows the first outcome.

use super::super::*;
use super::{audit_count, login_as, wait_js};
use crate::console::axe;

const SRC: &str = "return document.querySelector('#evidence figure.media img').getAttribute('src')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qa_reviewer_sees_the_blurred_preview_until_revealing_it() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for name in ["ana", "ben"] {
        web::add_user(&app.store, name, Role::Moderator, PASSWORD, "test")
            .await
            .unwrap();
    }
    let mut config = app.store.routing().await.unwrap();
    for q in &mut config.queues {
        if q.name == takedown_review::routing::GENERAL {
            q.qa_percent = 100.0;
        }
    }
    app.store.save_routing(0, config, "root").await.unwrap();
    let (case, _) = app
        .store
        .ingest_match(&agreeing(a_match("p1", &"11".repeat(32)), &png()))
        .await
        .unwrap();
    let sha = app
        .evidence
        .push(&case, "platform", Some("image/png"), png())
        .await
        .unwrap();
    let sha = sha.sha256.expect("captured");
    app.store.claim_next("ana", false).await.unwrap().unwrap();
    let removal = takedown_review::model::DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![takedown_review::model::Ground::Incitement],
        tos_clauses: vec![],
        justification: "First reasons.".into(),
    };
    app.store.decide(&case, "ana", &removal).await.unwrap();
    let task = app.store.qa_pending(10).await.unwrap().remove(0).id;

    let b = Browser::start().await;
    login_as(&b, &app.base, "ben").await;
    b.goto(&format!("{}/qa/{task}", app.base)).await;
    // First the server's blurred preview, and the original is refused without a reveal.
    assert_eq!(
        b.js(SRC).await,
        json!(format!("/cases/{case}/evidence/{sha}/preview"))
    );
    wait_js(
        &b,
        "var i = document.querySelector('#evidence figure.media img'); return i.complete && i.naturalWidth > 0",
        json!(true),
    )
    .await;
    let original = format!(
        "var x = new XMLHttpRequest(); x.open('GET', '/cases/{case}/evidence/{sha}/original', false); \
         x.send(); return x.status"
    );
    assert_eq!(b.js(&original).await, json!(403));
    assert_eq!(audit_count(&app.store, &case, "evidence.revealed").await, 0);
    axe::assert_accessible(&b, "/qa/{id} with media").await;
    // The click reveals the original (audited); the page keeps the task, not the outcome.
    b.click("#evidence figure.media").await;
    wait_js(
        &b,
        &format!("{SRC}.endsWith('/original') && document.querySelector('#evidence figure.media').classList.contains('revealed')"),
        json!(true),
    )
    .await;
    wait_js(
        &b,
        "var i = document.querySelector('#evidence figure.media img'); return i.complete && i.naturalWidth > 0",
        json!(true),
    )
    .await;
    assert_eq!(audit_count(&app.store, &case, "evidence.revealed").await, 1);
    assert_eq!(b.text("#exposure-count").await, "1");
    b.screenshot("65-qa-revealed").await;
    axe::assert_accessible(&b, "/qa/{id} revealed").await;
    // Space on the focused figure blurs it again.
    b.js("document.querySelector('#evidence figure.media').focus(); return 1")
        .await;
    b.key(" ").await;
    wait_js(&b, &format!("{SRC}.endsWith('/preview')"), json!(true)).await;
    // And space reveals it again, the same control as the case page's.
    b.key(" ").await;
    wait_js(&b, &format!("{SRC}.endsWith('/original')"), json!(true)).await;
    assert_eq!(audit_count(&app.store, &case, "evidence.revealed").await, 2);
    // Without the script the form's reveal comes back to this task.
    let back = b
        .js(&format!(
            "var f = new URLSearchParams(new FormData(document.querySelector('#evidence form'))); \
             var x = new XMLHttpRequest(); x.open('POST', '/cases/{case}/evidence/{sha}/reveal', false); \
             x.send(f); return x.responseURL"
        ))
        .await;
    assert_eq!(back, json!(format!("{}/qa/{task}", app.base)));
    b.quit().await;
}
