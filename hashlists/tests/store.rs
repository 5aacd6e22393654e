//! The hash-list store against a real Redis: round trips, all-or-nothing imports, syncs with
//! deletions and checkpoints, the sync lock, crash recovery, curation, and followers.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use takedown_core::SignalType;
use takedown_hashlists::follow::{Follower, ListUpdate};
use takedown_hashlists::formats::{self, Format, Location, PageInfo};
use takedown_hashlists::model::{Change, Entry, ListId, ListMeta};
use takedown_hashlists::store::{ImportOptions, Store, StoreError, Verdict};
use takedown_hashlists::sync::{HttpOptions, Source, SyncError, SyncOptions, sync};
use takedown_local_services::{RedisServer, unique_name};

#[path = "store/search.rs"]
mod search;

async fn store(redis: &RedisServer) -> Store {
    Store::connect(&redis.url(), &unique_name("td"))
        .await
        .unwrap()
}

async fn new_list(store: &Store, name: &str) -> ListId {
    let id = ListId::parse(name).unwrap();
    store
        .put_list(&ListMeta::new(id.clone(), "test"))
        .await
        .unwrap();
    id
}

fn pdq(i: u64) -> String {
    // Distinct, valid PDQ values.
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        i,
        i.wrapping_mul(31),
        !i,
        i ^ 0xdead_beef
    )
}

fn md5(i: u64) -> String {
    format!("{:032x}", i as u128 * 0x1_0000_0001)
}

fn plain_file(range: std::ops::Range<u64>) -> String {
    range.map(|i| format!("pdq {}\n", pdq(i))).collect()
}

fn import_text(format: Format, text: &str) -> formats::Records {
    formats::read(format, Cursor::new(text.as_bytes().to_vec())).unwrap()
}

/// Lets every list's write lease lapse (as its expiry would after a writer died); returns a
/// connection for further checks.
async fn expire_write_locks(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let lock_keys: Vec<String> = redis::cmd("KEYS")
        .arg("*:lock")
        .query_async(&mut conn)
        .await
        .unwrap();
    for k in lock_keys {
        redis::cmd("DEL")
            .arg(k)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
    conn
}

async fn redis_conn(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The one Redis key of list `list` ending in `suffix` (`staging`, `log`, `lock`), if it exists.
async fn list_key(
    conn: &mut redis::aio::MultiplexedConnection,
    list: &ListId,
    suffix: &str,
) -> Option<String> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("*:list:{{{list}}}:{suffix}"))
        .query_async(conn)
        .await
        .unwrap();
    assert!(keys.len() <= 1, "{keys:?}");
    keys.into_iter().next()
}

/// Waits until a writer's pipelined staging reached Redis: `fields` keys in the list's staging
/// hash and at least one record above the committed version in its change log.
async fn wait_until_staged(redis: &RedisServer, list: &ListId, fields: usize, committed: u64) {
    let mut conn = redis_conn(redis).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let staged = match list_key(&mut conn, list, "staging").await {
            Some(k) => redis::cmd("HLEN")
                .arg(k)
                .query_async(&mut conn)
                .await
                .unwrap(),
            None => 0usize,
        };
        let logged = match list_key(&mut conn, list, "log").await {
            Some(k) => {
                let above: Vec<redis::Value> = redis::cmd("XRANGE")
                    .arg(k)
                    .arg(format!("{}-0", committed + 1))
                    .arg("+")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                above.len()
            }
            None => 0,
        };
        if staged >= fields && logged > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "staged writes did not reach Redis: {staged} staged keys, {logged} log records"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn opts() -> ImportOptions {
    ImportOptions {
        actor: "test".into(),
        ..ImportOptions::default()
    }
}

#[tokio::test]
async fn every_format_round_trips_through_the_store() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    // An HMA state file's type is in its file name, not its rows: tests/pytx_formats.rs
    // round-trips it through files named as HMA names them.
    for format in Format::ALL.into_iter().filter(|f| *f != Format::Hma) {
        let mut entries = Vec::new();
        for i in 0..5u64 {
            let mut e = Entry::new(
                if i % 2 == 0 {
                    SignalType::Pdq
                } else {
                    SignalType::Md5
                },
                &if i % 2 == 0 { pdq(i) } else { md5(i) },
            )
            .unwrap();
            match format {
                Format::Plain => {}
                Format::Csv => e.add_labels([format!("collab:c{i}"), "terror".to_string()]),
                Format::Tat => {
                    e.add_labels([format!("ideology:i{i}"), "file_type:image".to_string()]);
                    e.source_id = Some(format!("{i}"));
                }
                Format::Te | Format::Jsonl | Format::Hma => {
                    e.add_labels([format!("label-{i}")]);
                    e.source_id = Some(format!("d{i}"));
                }
            }
            entries.push(e);
        }
        let mut file = Vec::new();
        formats::write(format, entries.iter(), &mut file, &PageInfo::default()).unwrap();
        let first = new_list(&store, &format!("first-{format}")).await;
        let summary = store
            .import(
                &first,
                import_text(format, std::str::from_utf8(&file).unwrap()).records,
                &opts(),
            )
            .await
            .unwrap();
        assert_eq!((summary.added, summary.version), (5, Some(1)), "{format}");

        // Export what the store holds, import that into a second list: same entries.
        let (_, stored) = store.snapshot(&first).await.unwrap();
        let mut exported = Vec::new();
        formats::write(format, stored.iter(), &mut exported, &PageInfo::default()).unwrap();
        let second = new_list(&store, &format!("second-{format}")).await;
        store
            .import(
                &second,
                import_text(format, std::str::from_utf8(&exported).unwrap()).records,
                &opts(),
            )
            .await
            .unwrap();
        let (_, again) = store.snapshot(&second).await.unwrap();
        assert_eq!(again, stored, "{format} round trip through the store");
        let strip = |v: &[Entry]| -> Vec<Entry> {
            let mut v: Vec<Entry> = v
                .iter()
                .cloned()
                .map(|mut e| {
                    e.added_version = None;
                    e
                })
                .collect();
            v.sort_by(|a, b| (a.signal_type, &a.value).cmp(&(b.signal_type, &b.value)));
            v
        };
        assert_eq!(
            strip(&stored),
            strip(&entries),
            "{format}: what went in came out"
        );

        // Importing the same file again changes nothing and makes no version.
        let again = store
            .import(
                &first,
                import_text(format, std::str::from_utf8(&file).unwrap()).records,
                &opts(),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.version, again.unchanged),
            (None, 5),
            "{format} re-import"
        );
    }
}

#[tokio::test]
async fn a_broken_file_changes_nothing_and_names_the_line() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "gifct").await;
    store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..100)).records,
            &opts(),
        )
        .await
        .unwrap();
    let before = store.snapshot(&list).await.unwrap();

    // 6,000 good lines (several staged batches) with one bad line near the end.
    let mut text = plain_file(100..5100);
    text.push_str("pdq 0123\n");
    text.push_str(&plain_file(5100..6100));
    let err = store
        .import(&list, import_text(Format::Plain, &text).records, &opts())
        .await
        .unwrap_err();
    match err {
        StoreError::Invalid { invalid, errors } => {
            assert_eq!(invalid, 1);
            assert_eq!(errors[0].location, Location::Line(5001));
            assert!(
                errors[0].reason.contains("64 hex characters"),
                "{}",
                errors[0]
            );
        }
        other => panic!("expected Invalid, got {other}"),
    }
    assert_eq!(
        store.snapshot(&list).await.unwrap(),
        before,
        "nothing changed"
    );
    assert_eq!(store.state(&list).await.unwrap().version, 1);

    // The staged batches of the failed import left nothing behind: the next import is clean.
    let with_skip = ImportOptions {
        skip_invalid: true,
        ..opts()
    };
    let summary = store
        .import(&list, import_text(Format::Plain, &text).records, &with_skip)
        .await
        .unwrap();
    assert_eq!(
        (summary.added, summary.invalid, summary.version),
        (6000, 1, Some(2))
    );
    assert_eq!(store.state(&list).await.unwrap().entries, 6100);
    let changes = store.changes(&list, 1, 2).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].1.len(),
        6000,
        "exactly the new entries, no orphans of the failed import"
    );
}

#[tokio::test]
async fn replace_import_deletes_what_the_file_no_longer_has() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "full").await;
    store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..10)).records,
            &opts(),
        )
        .await
        .unwrap();
    let replace = ImportOptions {
        replace: true,
        ..opts()
    };
    let s = store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(5..12)).records,
            &replace,
        )
        .await
        .unwrap();
    assert_eq!((s.added, s.deleted, s.unchanged), (2, 5, 5));
    let (_, entries) = store.snapshot(&list).await.unwrap();
    let mut values: Vec<String> = entries.into_iter().map(|e| e.value).collect();
    values.sort();
    let mut expected: Vec<String> = (5..12).map(pdq).collect();
    expected.sort();
    assert_eq!(values, expected);
}

#[tokio::test]
async fn crashed_writer_leaves_nothing_visible_and_the_next_writer_cleans_up() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "crash").await;
    store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..3)).records,
            &opts(),
        )
        .await
        .unwrap();

    let mut writer = store.writer(&list, "doomed").await.unwrap();
    let e = Entry::new(SignalType::Pdq, &pdq(99)).unwrap();
    writer
        .stage(vec![Change::Added { entry: e }])
        .await
        .unwrap();
    // The staged change is in Redis (log and staging hash) when the process dies, so the
    // cleanup below has a real orphan to remove.
    wait_until_staged(&redis, &list, 1, 1).await;
    std::mem::forget(writer); // the process dies: no commit, no abort, no unlock
    assert!(matches!(
        store.writer(&list, "other").await,
        Err(StoreError::Locked(_))
    ));

    // A reader sees version 1 only.
    let (v, entries) = store.snapshot(&list).await.unwrap();
    assert_eq!((v, entries.len()), (1, 3));
    assert!(store.changes(&list, 1, 2).await.unwrap().is_empty());

    // The lease expires (simulated by deleting it); the next import removes the orphan.
    expire_write_locks(&redis).await;
    let s = store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(3..4)).records,
            &opts(),
        )
        .await
        .unwrap();
    assert_eq!(s.version, Some(2));
    let changes = store.changes(&list, 1, 2).await.unwrap();
    assert_eq!(changes[0].1.len(), 1, "only the real change of version 2");
    assert!(
        store
            .entry(&list, &format!("pdq:{}", pdq(99)))
            .await
            .unwrap()
            .is_none()
    );
    let mut conn = redis_conn(&redis).await;
    assert_eq!(
        list_key(&mut conn, &list, "staging").await,
        None,
        "the orphaned staging hash is gone"
    );
}

/// The write lock and the sync lock expire on their own: a writer that dies holding one
/// (no release, no renewal) blocks its list only until the lease lapses, never for ever.
#[tokio::test]
async fn locks_of_a_crashed_writer_expire() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "ttl").await;
    let writer = store.writer(&list, "doomed").await.unwrap();
    let sync_lease = store.sync_lease(&list, "doomed").await.unwrap();
    std::mem::forget(writer);
    std::mem::forget(sync_lease);
    let mut conn = redis_conn(&redis).await;
    for suffix in ["lock", "lock:sync-lock"] {
        let key = list_key(&mut conn, &list, suffix)
            .await
            .unwrap_or_else(|| panic!("the {suffix} key exists"));
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            pttl > 0 && pttl <= 60_000,
            "{suffix} must expire within the lease (60 s): PTTL {pttl} ms"
        );
    }
    assert!(matches!(
        store.writer(&list, "other").await,
        Err(StoreError::Locked(_))
    ));
}

/// A local Tech Against Terrorism-style endpoint: pages keyed by the checkpoint asked for.
#[derive(Clone, Default)]
struct Tat {
    pages: Arc<std::sync::Mutex<HashMap<String, (StatusCode, String)>>>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    delay_ms: Arc<AtomicUsize>,
    /// When set, each request waits for `release` before it is answered.
    hold: Arc<std::sync::atomic::AtomicBool>,
    /// Signalled when a request arrives.
    arrived: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

async fn tat_page(
    State(tat): State<Tat>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    // As pytx's client asks: a first page `?order=asc[&after=<checkpoint>]`, then `next`.
    let key = q
        .get("page")
        .or(q.get("after"))
        .cloned()
        .unwrap_or_else(|| "start".into());
    if q.contains_key("after") || key == "start" {
        assert_eq!(q.get("order").map(String::as_str), Some("asc"), "{q:?}");
    }
    tat.requests.lock().unwrap().push(key.clone());
    tat.arrived.notify_one();
    if tat.hold.load(Ordering::SeqCst) {
        tat.release.notified().await;
    }
    let delay = tat.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    tat.pages
        .lock()
        .unwrap()
        .get(&key)
        .cloned()
        .unwrap_or((StatusCode::NOT_FOUND, "no such page".into()))
}

async fn serve_tat(tat: Tat) -> String {
    let app = Router::new()
        .route("/hashes", get(tat_page))
        .with_state(tat);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hashes")
}

/// An HTTP source on this machine's loopback, which plain `http://` needs allowed explicitly.
fn loopback_source(url: &str, token: Option<&str>) -> Source {
    Source::parse(url, Format::Tat, token.map(str::to_string))
        .unwrap()
        .with_http_options(HttpOptions {
            allow_insecure_loopback: true,
            ..HttpOptions::default()
        })
}

/// Another origin: answers every path with an empty TAT page and records the requests and the
/// `Authorization` headers it saw.
async fn serve_elsewhere() -> (String, Arc<std::sync::Mutex<Vec<Option<String>>>>) {
    let seen: Arc<std::sync::Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let app = Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(
                headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string()),
            );
            r#"{"count": 0, "next": null, "checkpoint": 1, "results": []}"#
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn tat_json(
    base: &str,
    checkpoint: u64,
    next: Option<&str>,
    items: &[(String, &str, bool)],
) -> String {
    let results: Vec<serde_json::Value> = items
        .iter()
        .enumerate()
        .map(|(i, (hash, algo, deleted))| {
            serde_json::json!({"hash_digest": hash, "algorithm": algo, "ideology": "x",
                "file_type": "image", "deleted": deleted, "id": i,
                "created_on": "2026-01-01T00:00:00Z", "updated_on": "2026-01-02T00:00:00Z"})
        })
        .collect();
    serde_json::json!({
        "count": items.len(),
        "next": next.map(|n| format!("{base}?page={n}")),
        "checkpoint": checkpoint,
        "results": results,
    })
    .to_string()
}

#[tokio::test]
async fn http_sync_follows_pages_honours_deletions_and_resumes_from_its_checkpoint() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "tat").await;
    let tat = Tat::default();
    let url = serve_tat(tat.clone()).await;
    {
        let mut pages = tat.pages.lock().unwrap();
        pages.insert(
            "start".into(),
            (
                StatusCode::OK,
                tat_json(
                    &url,
                    100,
                    Some("p2"),
                    &[
                        (pdq(1), "PDQ", false),
                        (pdq(2), "PDQ", false),
                        (md5(3), "MD5", false),
                    ],
                ),
            ),
        );
        pages.insert(
            "p2".into(),
            (StatusCode::INTERNAL_SERVER_ERROR, "down".into()),
        );
    }
    let source = loopback_source(&url, Some("secret-token"));

    // Page 2 fails: page 1 stays committed with its checkpoint.
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Http { .. }), "{err}");
    assert!(!err.to_string().contains("secret-token"));
    let state = store.state(&list).await.unwrap();
    assert_eq!(
        (state.version, state.checkpoint.as_deref(), state.entries),
        (1, Some("100"), 3)
    );

    // The source recovers; a new sync resumes from checkpoint 100 and applies a deletion.
    tat.pages.lock().unwrap().insert(
        "100".into(),
        (
            StatusCode::OK,
            tat_json(
                &url,
                200,
                None,
                &[(pdq(2), "PDQ", true), (pdq(4), "PDQ", false)],
            ),
        ),
    );
    let mut follower = Follower::new(store.clone());
    follower.poll().await.unwrap();
    let summary = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (
            summary.added,
            summary.deleted,
            summary.checkpoint.as_deref()
        ),
        (1, 1, Some("200"))
    );
    assert_eq!(
        tat.requests.lock().unwrap().last().map(String::as_str),
        Some("100")
    );
    assert!(
        store
            .entry(&list, &format!("pdq:{}", pdq(2)))
            .await
            .unwrap()
            .is_none()
    );

    // The follower (a matcher) sees the deletion as a change: the entry stops matching.
    let updates = follower.poll().await.unwrap();
    let ListUpdate::Changes { changes, to, .. } = &updates[0] else {
        panic!("{updates:?}")
    };
    assert_eq!(*to, 2);
    assert!(changes.contains(&Change::Deleted {
        key: format!("pdq:{}", pdq(2))
    }));

    // A page whose checkpoint is older than the stored one is refused; nothing changes.
    tat.pages.lock().unwrap().insert(
        "200".into(),
        (
            StatusCode::OK,
            tat_json(&url, 150, None, &[(pdq(9), "PDQ", false)]),
        ),
    );
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Store(StoreError::CheckpointBackwards { .. })
        ),
        "{err}"
    );
    let state = store.state(&list).await.unwrap();
    assert_eq!(
        (state.version, state.checkpoint.as_deref()),
        (2, Some("200"))
    );
    assert!(
        store
            .entry(&list, &format!("pdq:{}", pdq(9)))
            .await
            .unwrap()
            .is_none()
    );
}

/// A TAT page as the API (and pytx) types it: checkpoint `"<timestamp>,<id>"`, numeric ids
/// and `updated_on` (seconds), `previous` beside `next`.
fn tat_api_json(
    base: &str,
    checkpoint: &str,
    next: Option<&str>,
    items: &[(u64, String, bool)],
) -> String {
    let results: Vec<serde_json::Value> = items
        .iter()
        .map(|(id, hash, deleted)| {
            serde_json::json!({"hash_digest": hash, "algorithm": "PDQ", "ideology": "islamist",
                "file_type": "jpg", "deleted": deleted, "id": id,
                "created_on": "2024-01-01T05:00:00Z", "updated_on": 1704085200.0 + *id as f64})
        })
        .collect();
    serde_json::json!({
        "count": items.len(),
        "next": next.map(|n| format!("{base}?page={n}")),
        "previous": null,
        "checkpoint": checkpoint,
        "results": results,
    })
    .to_string()
}

#[tokio::test]
async fn http_sync_orders_tat_checkpoints_numerically_and_applies_deletions_across_pages() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "tat-api").await;
    let tat = Tat::default();
    let url = serve_tat(tat.clone()).await;
    {
        let mut pages = tat.pages.lock().unwrap();
        pages.insert(
            "start".into(),
            (
                StatusCode::OK,
                tat_api_json(
                    &url,
                    "1704085200,99",
                    Some("p2"),
                    &[(98, pdq(1), false), (99, pdq(2), false)],
                ),
            ),
        );
        // Page 2's checkpoint is smaller as text ("…,124" < "…,99") but later as numbers; it
        // deletes an entry page 1 added.
        pages.insert(
            "p2".into(),
            (
                StatusCode::OK,
                tat_api_json(
                    &url,
                    "1704085200,124",
                    None,
                    &[(123, pdq(1), true), (124, pdq(3), false)],
                ),
            ),
        );
    }
    let source = loopback_source(&url, None);
    let summary = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (
            summary.added,
            summary.deleted,
            summary.checkpoint.as_deref()
        ),
        (3, 1, Some("1704085200,124"))
    );
    let state = store.state(&list).await.unwrap();
    assert_eq!((state.version, state.entries), (2, 2));
    assert!(
        store
            .entry(&list, &format!("pdq:{}", pdq(1)))
            .await
            .unwrap()
            .is_none()
    );
    let kept = store
        .entry(&list, &format!("pdq:{}", pdq(3)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.source_updated.as_deref(), Some("1704085324.0"));
    assert_eq!(kept.source_id.as_deref(), Some("124"));

    // Resuming asks `after=<stored>`; a page of a later id in the same second moves on, one
    // of an earlier id is refused and changes nothing.
    tat.pages.lock().unwrap().insert(
        "1704085200,124".into(),
        (
            StatusCode::OK,
            tat_api_json(&url, "1704085200,1000", None, &[(1000, pdq(4), false)]),
        ),
    );
    let summary = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.checkpoint.as_deref(), Some("1704085200,1000"));
    tat.pages.lock().unwrap().insert(
        "1704085200,1000".into(),
        (
            StatusCode::OK,
            tat_api_json(&url, "1704085200,999", None, &[(999, pdq(5), false)]),
        ),
    );
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Store(StoreError::CheckpointBackwards { .. })
        ),
        "{err}"
    );
    assert!(
        store
            .entry(&list, &format!("pdq:{}", pdq(5)))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        tat.requests.lock().unwrap().as_slice(),
        ["start", "p2", "1704085200,124", "1704085200,1000"]
    );
}

#[tokio::test]
async fn http_sync_sends_its_token_only_to_its_own_origin_and_only_over_https() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "origin").await;
    let tat = Tat::default();
    let url = serve_tat(tat.clone()).await;
    let (elsewhere, seen) = serve_elsewhere().await;

    // A `next` link to another origin (same host, other port) is refused with a clear error;
    // the first page stays committed and the other origin never hears from us.
    tat.pages.lock().unwrap().insert(
        "start".into(),
        (
            StatusCode::OK,
            serde_json::json!({"count": 1, "next": format!("{elsewhere}/steal?page=2"),
                "checkpoint": 10, "results": [{"hash_digest": pdq(1), "algorithm": "PDQ"}]})
            .to_string(),
        ),
    );
    let source = loopback_source(&url, Some("secret-token"));
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("another origin"), "{err}");
    assert!(!err.to_string().contains("secret-token"), "{err}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    assert_eq!(
        store.state(&list).await.unwrap().checkpoint.as_deref(),
        Some("10")
    );

    // Plain http:// is refused unless the host is loopback and that was allowed explicitly.
    let plain = Source::parse(&url, Format::Tat, Some("secret-token".into())).unwrap();
    let err = sync(&store, &list, &plain, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("https"), "{err}");
    let remote = Source::parse("http://example.com/hashes", Format::Tat, None)
        .unwrap()
        .with_http_options(HttpOptions {
            allow_insecure_loopback: true,
            ..HttpOptions::default()
        });
    let err = sync(&store, &list, &remote, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Refused { .. }), "{err}");
    let requests_before = tat.requests.lock().unwrap().len();
    assert_eq!(requests_before, 1, "refused sources were never asked");
}

#[tokio::test]
async fn http_sync_follows_no_redirect_to_another_origin() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "redirect").await;
    let (elsewhere, seen) = serve_elsewhere().await;
    let target = format!("{elsewhere}/steal");
    let app = Router::new().fallback(move || {
        let target = target.clone();
        async move { (StatusCode::FOUND, [("location", target)]) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let source = loopback_source(&format!("http://{addr}/hashes"), Some("secret-token"));
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another origin"), "{err}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    assert_eq!(store.state(&list).await.unwrap().version, 0);
}

#[tokio::test]
async fn http_sync_refuses_a_page_over_the_size_cap() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "big-page").await;
    let tat = Tat::default();
    let url = serve_tat(tat.clone()).await;
    let items: Vec<(String, &str, bool)> = (0..100).map(|i| (pdq(i), "PDQ", false)).collect();
    let page = tat_json(&url, 5, None, &items);
    assert!(page.len() > 4096);
    tat.pages
        .lock()
        .unwrap()
        .insert("start".into(), (StatusCode::OK, page));
    let source = Source::parse(&url, Format::Tat, None)
        .unwrap()
        .with_http_options(HttpOptions {
            allow_insecure_loopback: true,
            max_page_bytes: 4096,
            ..HttpOptions::default()
        });
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 4096 bytes"), "{err}");
    assert_eq!(store.state(&list).await.unwrap().version, 0);

    // Without a declared length (chunked), the body is cut off as it passes the cap.
    let app = Router::new().fallback(|| async {
        let chunks = (0..64).map(|_| Ok::<_, std::io::Error>("x".repeat(1024)));
        axum::body::Body::from_stream(futures_util::stream::iter(chunks))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let source = Source::parse(&format!("http://{addr}/hashes"), Format::Tat, None)
        .unwrap()
        .with_http_options(HttpOptions {
            allow_insecure_loopback: true,
            max_page_bytes: 4096,
            ..HttpOptions::default()
        });
    let err = sync(&store, &list, &source, "test", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 4096 bytes"), "{err}");
}

#[tokio::test]
async fn two_syncs_of_one_list_cannot_interleave() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "locked").await;
    let tat = Tat::default();
    let url = serve_tat(tat.clone()).await;
    tat.pages.lock().unwrap().insert(
        "start".into(),
        (
            StatusCode::OK,
            tat_json(&url, 1, None, &[(pdq(1), "PDQ", false)]),
        ),
    );
    // The first sync's fetch is held open until the second sync has finished.
    tat.hold.store(true, Ordering::SeqCst);
    let source = loopback_source(&url, None);
    let (a, b) = {
        let (s1, s2) = (store.clone(), store.clone());
        let (l1, l2) = (list.clone(), list.clone());
        let (src1, src2) = (source.clone(), source.clone());
        let first =
            tokio::spawn(async move { sync(&s1, &l1, &src1, "a", &SyncOptions::default()).await });
        tokio::time::timeout(Duration::from_secs(10), tat.arrived.notified())
            .await
            .expect("the first sync fetches");
        let second = sync(&s2, &l2, &src2, "b", &SyncOptions::default()).await;
        tat.release.notify_one();
        (first.await.unwrap(), second)
    };
    assert!(a.is_ok(), "{a:?}");
    assert!(
        matches!(b, Err(SyncError::Store(StoreError::Locked(_)))),
        "{b:?}"
    );
    assert_eq!(
        tat.requests.lock().unwrap().len(),
        1,
        "the second sync fetched nothing"
    );
}

#[tokio::test]
async fn directory_sync_applies_delta_files_in_order_once() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "drops").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2026-11-01.txt"), plain_file(0..3)).unwrap();
    std::fs::write(dir.path().join("2026-11-02.txt"), plain_file(3..5)).unwrap();
    let source = Source::parse(
        &format!("dir:{}", dir.path().display()),
        Format::Plain,
        None,
    )
    .unwrap();
    let s = sync(&store, &list, &source, "t", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (s.units, s.added, s.checkpoint.as_deref()),
        (2, 5, Some("2026-11-02.txt"))
    );
    std::fs::write(dir.path().join("2026-11-03.txt"), plain_file(5..6)).unwrap();
    let s = sync(&store, &list, &source, "t", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!((s.units, s.added), (1, 1), "only the new file");
    assert_eq!(store.state(&list).await.unwrap().entries, 6);
}

#[tokio::test]
async fn curation_disable_expiry_and_feedback() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "curated").await;
    store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..2)).records,
            &opts(),
        )
        .await
        .unwrap();
    let key = format!("pdq:{}", pdq(0));
    let until = takedown_hashlists::store::now_ms() + 60_000;
    let v = store
        .disable(&list, &key, "stock photo", "ana", Some(until))
        .await
        .unwrap();
    assert_eq!(v, 2);
    let e = store.entry(&list, &key).await.unwrap().unwrap();
    assert!(e.is_disabled_at(until - 1) && !e.is_disabled_at(until));

    // A re-import does not silently re-enable a curated entry.
    let s = store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..2)).records,
            &opts(),
        )
        .await
        .unwrap();
    assert_eq!(s.version, None);
    assert!(
        store
            .entry(&list, &key)
            .await
            .unwrap()
            .unwrap()
            .disabled
            .is_some()
    );

    assert_eq!(store.expire_disables(&list, until - 1).await.unwrap(), None);
    assert_eq!(store.expire_disables(&list, until).await.unwrap(), Some(3));
    assert!(
        store
            .entry(&list, &key)
            .await
            .unwrap()
            .unwrap()
            .disabled
            .is_none()
    );
    let changes = store.changes(&list, 2, 3).await.unwrap();
    assert!(matches!(changes[0].1[0], Change::Enabled { .. }));

    assert!(matches!(
        store.disable(&list, "pdq:00", "x", "ana", None).await,
        Err(StoreError::NoSuchEntry { .. })
    ));
    store
        .record_feedback(&list, &key, Verdict::TruePositive)
        .await
        .unwrap();
    store
        .record_feedback(&list, &key, Verdict::TruePositive)
        .await
        .unwrap();
    let f = store
        .record_feedback(&list, &key, Verdict::FalsePositive)
        .await
        .unwrap();
    assert_eq!((f.true_positives, f.false_positives), (2, 1));
}

#[tokio::test]
async fn version_bumps_reach_a_running_follower() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "live").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let follower = Follower::new(store.clone());
    // Poll rarely: the update must come through pub/sub.
    tokio::spawn(follower.run(Duration::from_secs(3600), move |u| tx.send(u).is_ok()));
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(first, ListUpdate::Full { version: 0, .. }),
        "{first:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await; // subscribed
    store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(0..4)).records,
            &opts(),
        )
        .await
        .unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("update within 5 s")
        .unwrap();
    match update {
        ListUpdate::Changes {
            from, to, changes, ..
        } => {
            assert_eq!((from, to, changes.len()), (0, 1, 4));
        }
        other => panic!("{other:?}"),
    }
}

/// Records of one import that repeat, delete or change a key staged by an earlier batch of
/// the same import: compared with what was staged, not only with what was stored. Both for
/// the initial load of an empty list (the bulk path) and for a list with entries.
#[tokio::test]
async fn later_records_of_one_import_see_what_earlier_records_staged() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    for preloaded in [false, true] {
        let list = new_list(&store, if preloaded { "full" } else { "empty" }).await;
        let base = if preloaded {
            let s = store
                .import(
                    &list,
                    import_text(Format::Plain, &plain_file(10_000..10_001)).records,
                    &opts(),
                )
                .await
                .unwrap();
            s.version.unwrap()
        } else {
            0
        };
        let record = |i: u64, deleted: bool, label: Option<&str>| {
            let mut entry = Entry::new(SignalType::Pdq, &pdq(i)).unwrap();
            entry.add_labels(label.map(str::to_string));
            Ok(formats::Record { entry, deleted })
        };
        // 3,000 additions cross the writer's batches of 2,000; then a repeat, a deletion and
        // a change of keys staged in the first batch.
        let mut records: Vec<_> = (0..3_000).map(|i| record(i, false, None)).collect();
        records.push(record(5, false, None));
        records.push(record(10, true, None));
        records.push(record(20, false, Some("changed")));
        let s = store
            .import(&list, records.into_iter(), &opts())
            .await
            .unwrap();
        assert_eq!(
            (s.added, s.deleted, s.updated, s.unchanged),
            (3_000, 1, 1, 1),
            "preloaded: {preloaded}"
        );
        let (version, entries) = store.snapshot(&list).await.unwrap();
        assert_eq!(version, base + 1);
        assert_eq!(entries.len(), 2_999 + usize::from(preloaded));
        assert!(entries.iter().all(|e| e.value != pdq(10)));
        let changed = entries.iter().find(|e| e.value == pdq(20)).unwrap();
        assert_eq!(changed.labels, ["changed"]);
        assert!(
            store
                .entry(&list, &format!("pdq:{}", pdq(10)))
                .await
                .unwrap()
                .is_none()
        );

        // A follower replaying the version's change log reaches the same state.
        let mut replayed: HashMap<String, Entry> = HashMap::new();
        if preloaded {
            let (_, before) = store.snapshot(&list).await.unwrap();
            let kept = before.into_iter().find(|e| e.value == pdq(10_000)).unwrap();
            replayed.insert(kept.key(), kept);
        }
        for (_, changes) in store.changes(&list, base, version).await.unwrap() {
            for c in changes {
                match c.entry() {
                    Some(e) => replayed.insert(c.key(), e.clone()),
                    None => replayed.remove(&c.key()),
                };
            }
        }
        let mut replayed: Vec<Entry> = replayed.into_values().collect();
        replayed.sort_by(|a, b| a.value.cmp(&b.value));
        let mut expected = entries.clone();
        expected.sort_by(|a, b| a.value.cmp(&b.value));
        assert_eq!(replayed, expected, "preloaded: {preloaded}");
    }
}

/// A writer that dies during the initial load of an empty list leaves nothing visible, and
/// its staged entries never reach the list.
#[tokio::test]
async fn crashed_initial_load_leaves_nothing_visible() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "crash-bulk").await;
    let mut writer = store.writer(&list, "doomed").await.unwrap();
    let staged = (0..10)
        .map(|i| Change::Added {
            entry: Entry::new(SignalType::Pdq, &pdq(i)).unwrap(),
        })
        .collect();
    writer.stage(staged).await.unwrap();
    // The pipelined writes landed before the process "dies".
    wait_until_staged(&redis, &list, 10, 0).await;
    std::mem::forget(writer);
    let (v, entries) = store.snapshot(&list).await.unwrap();
    assert_eq!((v, entries.len()), (0, 0));

    let mut conn = expire_write_locks(&redis).await;
    let s = store
        .import(
            &list,
            import_text(Format::Plain, &plain_file(100..103)).records,
            &opts(),
        )
        .await
        .unwrap();
    assert_eq!((s.version, s.added), (Some(1), 3));
    let (_, entries) = store.snapshot(&list).await.unwrap();
    let values: Vec<&str> = entries.iter().map(|e| e.value.as_str()).collect();
    let mut expected: Vec<String> = (100..103).map(pdq).collect();
    expected.sort();
    assert_eq!(values, expected);
    let leftovers: Vec<String> = redis::cmd("KEYS")
        .arg("*:staging")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
