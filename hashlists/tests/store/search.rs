//! Searching a list's entries: by key prefix and label, a bounded walk from a cursor per page.

use super::*;
use takedown_hashlists::store::{AllCursor, EntryQuery};

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

#[tokio::test]
async fn a_search_over_every_list_names_each_entrys_list_and_pages_across_lists() {
    let redis = RedisServer::start().unwrap();
    let store = store(&redis).await;
    // Three lists (created out of name order) of 300 MD5 entries each; in each, every
    // entry whose value starts with 01 (10 of them) is labelled "tat:x".
    for name in ["c-list", "a-list", "b-list"] {
        let list = new_list(&store, name).await;
        let changes: Vec<Change> = (0..300u64)
            .map(|i| {
                let mut e =
                    Entry::new(SignalType::Md5, &format!("{i:04}{}", "0".repeat(28))).unwrap();
                if (10..20).contains(&i) {
                    e.add_labels(["tat:x".to_string()]);
                }
                Change::Added { entry: e }
            })
            .collect();
        let mut w = store.writer(&list, "test").await.unwrap();
        w.stage(changes).await.unwrap();
        w.commit(None).await.unwrap();
    }
    let q = |prefix: &str, label: &str| EntryQuery {
        key_prefix: prefix.into(),
        label: label.into(),
    };
    // A prefix over every list: 10 per list, each named with its list, lists by name.
    let page = store
        .search_all_lists(&q("md5:001", ""), &AllCursor::default(), 50, 100_000)
        .await
        .unwrap();
    assert_eq!(page.next, None);
    let lists: Vec<String> = page.entries.iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(lists.len(), 30);
    let mut in_order = lists.clone();
    in_order.sort();
    assert_eq!(lists, in_order, "list by list, by name");
    for name in ["a-list", "b-list", "c-list"] {
        assert_eq!(lists.iter().filter(|l| *l == name).count(), 10, "{name}");
    }
    assert!(page.entries.iter().all(|(_, e)| e.value.starts_with("001")));
    // Small pages (a budget of 100 looked at): walking on finds each labelled entry once,
    // and no page looks at much more than its budget.
    let mut found = Vec::new();
    let mut at = AllCursor::default();
    let mut pages = 0;
    loop {
        let page = store
            .search_all_lists(&q("", "tat:"), &at, 5, 100)
            .await
            .unwrap();
        pages += 1;
        assert!(page.scanned < 300, "{}", page.scanned);
        found.extend(
            page.entries
                .into_iter()
                .map(|(l, e)| format!("{l}/{}", e.value)),
        );
        match page.next {
            Some(next) => at = next,
            None => break,
        }
        assert!(pages < 100, "the walk ends");
    }
    let total = found.len();
    found.sort();
    found.dedup();
    assert_eq!((found.len(), total), (30, 30));
    assert!(pages >= 9, "900 entries at about 100 a page: {pages} pages");
    // A cursor naming a list since deleted (or never there) resumes at the next by name.
    let page = store
        .search_all_lists(
            &q("md5:001", ""),
            &AllCursor {
                list: Some(ListId::parse("b-zzz").unwrap()),
                cursor: 12345,
            },
            50,
            100_000,
        )
        .await
        .unwrap();
    assert!(page.entries.iter().all(|(l, _)| l.as_str() == "c-list"));
    assert_eq!(page.entries.len(), 10);
    // Bad prefixes are refused as in one list.
    assert!(matches!(
        store
            .search_all_lists(&q("md5:1*", ""), &AllCursor::default(), 50, 100)
            .await,
        Err(StoreError::InvalidValue(_))
    ));
}
