//! List search over every list (issue 18, part 6's gap): with "Every list" chosen, a hash
//! prefix or a label finds entries of all lists, each row naming its list and opening the
//! entry there, a bounded page at a time with the next page going on across lists.

use super::super::*;
use super::{click_away, keys};
use crate::console::axe;

/// The list named on each result row.
async fn row_lists(b: &Browser) -> Vec<String> {
    b.js("return Array.from(document.querySelectorAll('#results tbody tr')).map(function (r) { return r.getAttribute('data-list'); })")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_of_every_list_names_each_entrys_list_a_page_at_a_time() {
    let _one = BROWSER.lock().await;
    let app = app().await;
    web::add_user(&app.store, "sam", Role::SeniorModerator, PASSWORD, "test")
        .await
        .unwrap();
    // Two lists of 200 entries; the same values in both, every fourth labelled "gifct:x".
    for name in ["gifct", "tat"] {
        let list = takedown_hashlists::ListId::parse(name).unwrap();
        app.lists
            .put_list(&takedown_hashlists::ListMeta::new(list.clone(), "test"))
            .await
            .unwrap();
        let changes = (0..200u32)
            .map(|i| {
                let value = format!("{i:04x}").repeat(16);
                let mut e = takedown_hashlists::Entry::new(SignalType::Pdq, &value).unwrap();
                if i % 4 == 0 {
                    e.add_labels(["gifct:x".to_string()]);
                }
                takedown_hashlists::Change::Added { entry: e }
            })
            .collect();
        let mut w = app.lists.writer(&list, "test").await.unwrap();
        w.stage(changes).await.unwrap();
        w.commit(None).await.unwrap();
    }
    let b = Browser::start().await;
    b.login(&app.base, "sam").await;
    b.goto(&format!("{}/supervisor/lists", app.base)).await;
    // "Every list" is the default choice.
    assert_eq!(
        b.js("return document.getElementById('s-list').value").await,
        json!("")
    );
    b.type_into("#s-prefix", "00a").await;
    b.click("#s-go").await;
    b.wait_url("search=1").await;
    // 16 values start 00a, in each of the two lists: 32 rows, each naming its list.
    let lists = row_lists(&b).await;
    assert_eq!(lists.len(), 32, "{lists:?}");
    assert_eq!(lists.iter().filter(|l| *l == "gifct").count(), 16);
    assert_eq!(lists.iter().filter(|l| *l == "tat").count(), 16);
    assert!(
        b.text("#results caption")
            .await
            .starts_with("Entries of every list")
    );
    axe::assert_accessible(&b, "list search over every list").await;
    b.screenshot("32-lists-every-list").await;
    // A row opens its entry in its own list.
    let href = b
        .js("return document.querySelector('#results tbody tr[data-list=tat] a').getAttribute('href')")
        .await;
    assert!(
        href.as_str()
            .unwrap()
            .starts_with("/supervisor/lists?list=tat&key=pdq"),
        "{href}"
    );
    click_away(&b, "#results tbody tr[data-list=tat] a").await;
    assert!(b.text("dl.fields").await.contains("pdq:00a"));
    // A label over every list, page by page: each labelled entry of each list once.
    b.goto(&format!(
        "{}/supervisor/lists?search=1&list=&label=gifct:",
        app.base
    ))
    .await;
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let page: Vec<String> = row_lists(&b)
            .await
            .into_iter()
            .zip(keys(&b).await)
            .map(|(l, k)| format!("{l}/{k}"))
            .collect();
        assert!(page.len() <= 100, "a page holds {}", page.len());
        found.extend(page);
        if b.js("return document.getElementById('more') === null")
            .await
            == json!(true)
        {
            break;
        }
        click_away(&b, "#more").await;
        assert!(pages < 50, "the search never ended");
    }
    assert!(pages > 1, "100 results fit no single page of 50");
    let total = found.len();
    found.sort();
    found.dedup();
    assert_eq!((found.len(), total), (100, 100));
    assert_eq!(found.iter().filter(|k| k.starts_with("tat/")).count(), 50);
    b.quit().await;
}
