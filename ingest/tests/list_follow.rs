//! Following the list store through a Redis outage: the in-memory view (here the text
//! rules) keeps being updated after Redis comes back, the outage is counted, and the stage's
//! `lists_synced` time says how current the view is (what the `TakedownIndexStale` alert
//! watches).

use std::io::Cursor;
use std::time::{Duration, Instant};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_ingest::list_feed::follow_until_loaded;
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::text_rules::TextRules;
use takedown_local_services::{RedisOptions, RedisServer, unique_name};

async fn import(store: &Store, list: &ListId, text: &str) {
    let records = formats::read(Format::Plain, Cursor::new(text.as_bytes().to_vec()))
        .unwrap()
        .records;
    let options = ImportOptions {
        actor: "test".into(),
        ..ImportOptions::default()
    };
    store.import(list, records, &options).await.unwrap();
}

/// Waits up to 30 s for `done`, checking every 50 ms.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_resumes_after_a_redis_outage_and_reports_how_current_it_is() {
    // With the append-only file, the lists (and their versions) survive the restart.
    let mut redis = RedisServer::start_with(RedisOptions {
        appendonly: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let prefix = unique_name("td");
    let store = Store::connect(&redis.url(), &prefix).await.unwrap();
    let list = ListId::parse("urls").unwrap();
    store
        .put_list(&ListMeta::new(list.clone(), "urls"))
        .await
        .unwrap();
    import(&store, &list, "url https://outlet.example/a\n").await;

    let rules = TextRules::default();
    let metrics = StageMetrics::new("ingest");
    assert_eq!(metrics.lists_synced.get(), 0, "not synced before loading");
    let task = follow_until_loaded(
        rules.clone(),
        store.clone(),
        Duration::from_millis(200),
        metrics.clone(),
    )
    .await
    .unwrap();
    assert_eq!(rules.len(), 1);
    let loaded_at = metrics.lists_synced.get();
    assert!(loaded_at > 1_700_000_000, "a Unix time: {loaded_at}");

    redis.stop();
    wait_for("the outage to be counted", || {
        metrics.list_follow_failures.get() >= 1
    })
    .await;
    redis.restart().unwrap();
    let store = Store::connect(&redis.url(), &prefix).await.unwrap();
    import(&store, &list, "url https://outlet.example/b\n").await;
    wait_for("the new version to reach the rules", || rules.len() == 2).await;
    let hits = rules.hits("", &["https://outlet.example/b".to_string()]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    wait_for("a later sync time", || {
        metrics.lists_synced.get() > loaded_at
    })
    .await;
    assert!(!task.is_finished(), "the follower keeps running");
    task.abort();
}
