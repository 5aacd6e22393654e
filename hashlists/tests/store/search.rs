//! Searching a list's entries: by key prefix and label, a bounded walk from a cursor per page.

use super::*;
use takedown_hashlists::store::EntryQuery;

#[tokio::test]
async fn searches_find_by_prefix_and_label_and_stop_at_their_budget() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    let list = new_list(&store, "search").await;
    // 2,000 MD5 entries; every tenth labelled "tat:flagged".
    let changes: Vec<Change> = (0..2000u64)
        .map(|i| {
            let mut e = Entry::new(SignalType::Md5, &format!("{i:04}{}", "0".repeat(28))).unwrap();
            if i % 10 == 0 {
                e.add_labels(["tat:flagged".to_string()]);
            }
            Change::Added { entry: e }
        })
        .collect();
    let mut w = store.writer(&list, "test").await.unwrap();
    w.stage(changes).await.unwrap();
    w.commit(None).await.unwrap();
    let q = |prefix: &str, label: &str| EntryQuery {
        key_prefix: prefix.into(),
        label: label.into(),
    };
    // A prefix: md5:12 starts the values 1200..=1299.
    let mut keys = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store
            .search_entries(&list, &q("md5:12", ""), cursor, 50, 100_000)
            .await
            .unwrap();
        keys.extend(page.entries.iter().map(|e| e.value[..4].to_string()));
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    keys.sort();
    let want: Vec<String> = (1200..1300).map(|i| format!("{i}")).collect();
    assert_eq!(keys, want);
    // A label that nothing has, with a budget of 300: the call stops early and says where
    // to go on; walking on visits the whole list, finding nothing.
    let first = store
        .search_entries(&list, &q("", "nobody:"), 0, 50, 300)
        .await
        .unwrap();
    assert!(first.entries.is_empty());
    assert_ne!(
        first.cursor, 0,
        "2,000 entries are more than a budget of 300"
    );
    assert!(
        first.scanned >= 300 && first.scanned < 2000,
        "{}",
        first.scanned
    );
    // A label family, page by page: each page about 50, all 200 found once.
    let mut flagged = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store
            .search_entries(&list, &q("", "tat:"), cursor, 50, 100_000)
            .await
            .unwrap();
        assert!(page.entries.len() <= 100, "{}", page.entries.len());
        flagged.extend(page.entries.into_iter().map(|e| e.value));
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    flagged.sort();
    flagged.dedup();
    assert_eq!(flagged.len(), 200);
    // Glob characters are refused before Redis sees them.
    assert!(matches!(
        store
            .search_entries(&list, &q("md5:1*", ""), 0, 50, 100)
            .await,
        Err(StoreError::InvalidValue(_))
    ));
}
