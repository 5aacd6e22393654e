//! Keyboard-only decisions of the outcomes the one-screen test does not cover: disable in
//! territories (`d`, a ground, Tab on to the territories) and threat to life (`l`).

use super::super::*;
use super::{CTRL, ENTER, chord, wait_js};

/// Presses Tab until the element with id `id` has the focus (at most 20 times).
async fn tab_to(b: &Browser, id: &str) {
    for _ in 0..20 {
        if b.js("return document.activeElement && document.activeElement.id")
            .await
            == json!(id)
        {
            return;
        }
        b.key("\u{E004}").await;
    }
    panic!("Tab never reached #{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_threat_to_life_are_decided_from_the_keyboard_alone() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "mia", Role::Moderator, PASSWORD, "test")
        .await
        .unwrap();
    for (post, hex) in [("k1", "71"), ("k2", "72"), ("k3", "73")] {
        app.store
            .ingest_match(&a_match(post, &hex.repeat(32)))
            .await
            .unwrap();
    }
    let b = Browser::start_sized(1366, 900).await;
    b.login(&app.base, "mia").await;

    // Disable: c, d (outcome ticked, ground (a) focused), space, Tab to the territories,
    // type them, Ctrl+Enter.
    b.key("c").await;
    let url = b.wait_url("/cases/").await;
    let first = url.rsplit('/').next().unwrap().to_string();
    b.key("d").await;
    wait_js(
        &b,
        "return [document.getElementById('o-disable').checked, document.activeElement.id]",
        json!([true, "g-a"]),
    )
    .await;
    b.key(" ").await;
    tab_to(&b, "territories").await;
    b.type_into("#territories", "DE FR").await;
    chord(&b, &[CTRL, ENTER]).await;
    b.wait_url(&format!("decided={first}")).await;
    let d = app.store.case(&first).await.unwrap().case.decision.unwrap();
    assert_eq!(
        d.input.outcome,
        Outcome::Disable {
            territories: vec!["DE".into(), "FR".into()]
        }
    );

    // Threat to life: l (justification focused), type, Ctrl+Enter; the next case opens.
    let url = b.wait_url("/cases/").await;
    let second = url
        .split("/cases/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    b.key("l").await;
    wait_js(
        &b,
        "return [document.getElementById('o-ttl').checked, document.activeElement.id]",
        json!([true, "justification"]),
    )
    .await;
    b.type_into("#justification", "Names a place and a time")
        .await;
    chord(&b, &[CTRL, ENTER]).await;
    b.wait_url(&format!("decided={second}")).await;
    let case = app.store.case(&second).await.unwrap().case;
    assert_eq!(case.decision.unwrap().input.outcome, Outcome::ThreatToLife);
    assert!(
        case.threat_to_life && case.senior_only,
        "with the seniors, flagged"
    );
    b.quit().await;
}
