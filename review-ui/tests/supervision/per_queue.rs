//! The SLA dashboard of one queue (issue 18, part 4's gap): `?queue=` counts only that
//! queue's cases, open and decided; its urgency bars link to the queue filtered by urgency
//! and by that queue; the selector offers only queues the viewer may see, and any other
//! queue is "not found". Without a choice a senior's dashboard leaves out a queue hidden
//! from seniors, as their queue page does.

use super::super::*;
use super::{decision, queue_rows};
use crate::console::axe;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_of_one_queue_counts_and_links_only_its_cases() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    for (name, role) in [("sam", Role::SeniorModerator), ("mia", Role::Moderator)] {
        web::add_user(&app.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    // Queue `bombs` (moderators and seniors) takes label "bomb"; `orders` (legal only)
    // takes label "legal".
    let mut config = takedown_review::routing::RoutingConfig::default();
    for (name, roles) in [
        ("bombs", vec![Role::Moderator, Role::SeniorModerator]),
        ("orders", vec![Role::Legal]),
    ] {
        config.queues.push(takedown_review::routing::QueueDef {
            name: name.into(),
            title: format!("Queue {name}"),
            roles,
            qa_percent: 0.0,
        });
    }
    config.rules = vec![
        takedown_review::routing::Rule {
            when: takedown_review::routing::Conditions {
                label: Some("bomb".into()),
                ..Default::default()
            },
            queue: "bombs".into(),
        },
        takedown_review::routing::Rule {
            when: takedown_review::routing::Conditions {
                label: Some("legal".into()),
                ..Default::default()
            },
            queue: "orders".into(),
        },
    ];
    app.store.save_routing(0, config, "root").await.unwrap();
    // Two bomb cases (one of them, or the general case, decided by mia), one general case,
    // one case of the legal team's queue (hidden from seniors).
    let mut bombs = Vec::new();
    for (post, hex) in [("b1", "11"), ("b2", "22")] {
        let mut m = a_match(post, &hex.repeat(32));
        m.labels = vec!["bomb".into()];
        bombs.push(app.store.ingest_match(&m).await.unwrap().0);
    }
    let (plain, _) = app
        .store
        .ingest_match(&a_match("p1", &"33".repeat(32)))
        .await
        .unwrap();
    let mut legal = a_match("h1", &"44".repeat(32));
    legal.labels = vec!["legal".into()];
    let (order, _) = app.store.ingest_match(&legal).await.unwrap();
    assert_eq!(
        app.store.case_queue(&order).await.unwrap().as_deref(),
        Some("orders")
    );
    let claimed = app
        .store
        .claim_next_as("mia", Role::Moderator)
        .await
        .unwrap()
        .unwrap();
    let decided_bomb = bombs.contains(&claimed);
    app.store
        .decide(
            &claimed,
            "mia",
            &decision(json!({"outcome": "remove", "grounds": ["art2_7_a"]})),
        )
        .await
        .unwrap();

    let b = Browser::start().await;
    b.login(&app.base, "sam").await;
    b.goto(&format!("{}/supervisor/sla", app.base)).await;
    // Every queue sam may see, not the legal team's: the order is in no count.
    let options = b
        .js("return Array.from(document.querySelectorAll('#scope-queue option')).map(o => o.value)")
        .await;
    let options: Vec<&str> = options
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        options.starts_with(&["", "general"]) && options.contains(&"bombs"),
        "{options:?}"
    );
    assert!(!options.contains(&"orders"), "{options:?}");
    let open_ok = "#urgency-table tr[data-urgency=ok] a";
    assert_eq!(b.text(open_ok).await, "2");
    assert_eq!(b.text("#decisions-total").await, "1");
    axe::assert_accessible(&b, "the SLA dashboard with its queue selector").await;

    // Choosing `bombs`: its open case(s) only, and its decision only if mia's was a bomb.
    b.js("var s = document.getElementById('scope-queue'); s.value = 'bombs'; return 1")
        .await;
    b.click("#queue-scope button").await;
    b.wait_url("queue=bombs").await;
    assert_eq!(b.text("h1").await, "SLA dashboard: Queue bombs");
    let open_bombs = if decided_bomb { 1 } else { 2 };
    assert_eq!(b.text(open_ok).await, open_bombs.to_string());
    assert_eq!(
        b.text("#decisions-total").await,
        if decided_bomb { "1" } else { "0" }
    );
    // The range links keep the queue.
    assert_eq!(
        b.js("return document.querySelector('nav[aria-label=Range] a').getAttribute('href')")
            .await,
        json!("/supervisor/sla?range=24h&queue=bombs")
    );
    axe::assert_accessible(&b, "the SLA dashboard of one queue").await;
    b.screenshot("31-sla-dashboard-queue").await;
    // The green bar opens the queue of bombs with exactly the open bomb cases.
    b.click("svg a[href*=\"urgency=ok\"]").await;
    let url = b.wait_url("urgency=ok").await;
    assert!(url.contains("queue=bombs"), "{url}");
    let mut rows: Vec<String> = queue_rows(&b).await.into_iter().map(|r| r.0).collect();
    rows.sort();
    let mut want: Vec<String> = bombs.iter().filter(|c| **c != claimed).cloned().collect();
    want.sort();
    assert_eq!(rows, want);
    assert!(!rows.contains(&plain));

    // A queue sam may not see, or none of that name, is "not found" alike.
    for q in ["orders", "nosuch"] {
        b.goto(&format!("{}/supervisor/sla?queue={q}", app.base))
            .await;
        assert_eq!(b.text("h1").await, "Not found", "{q}");
    }
    b.quit().await;
}
