//! The match stage with a real list store and broker: matches by distance and equality, the
//! quality floor, dead letters, and list changes reaching the running matcher.

use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;
use takedown_core::messages::{Match, MediaSignals, PostSignals, SignalValue};
use takedown_core::{PdqHash, SignalType};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta, Severity};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_ingest::list_feed::follow_until_loaded;
use takedown_ingest::match_stage::{MatchStage, Matcher};
use takedown_ingest::metrics::StageMetrics;
use takedown_ingest::runner::{self, RunnerConfig, header_text};
use takedown_local_services::{KafkaBroker, RedisServer, unique_name};

const LISTED: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
const LISTED_MD5: &str = "d35c785545392755e7e4164457657269";

fn flip(hex: &str, bits: usize) -> String {
    let mut h = PdqHash::parse(hex).unwrap();
    for k in 0..bits {
        h.words[k % 4] ^= 1 << (k * 7 % 64);
    }
    h.to_string()
}

fn signals(post: &str, pdq: Option<(&str, u8)>, md5: Option<&str>) -> Vec<u8> {
    let mut values = Vec::new();
    if let Some((h, _)) = pdq {
        values.push(SignalValue {
            signal_type: SignalType::Pdq,
            value: h.to_string(),
            pdq_convention: None,
            pdq_quality: None,
        });
    }
    if let Some(m) = md5 {
        values.push(SignalValue {
            signal_type: SignalType::Md5,
            value: m.to_string(),
            pdq_convention: None,
            pdq_quality: None,
        });
    }
    let s = PostSignals {
        schema: 1,
        post_id: post.to_string(),
        platform: "test".into(),
        url: Some(format!("https://platform.example/{post}")),
        created_at: time::OffsetDateTime::now_utc(),
        media: vec![MediaSignals {
            media_id: "m1".into(),
            url: None,
            signals: values,
            pdq_quality: pdq.map(|p| p.1),
            error: None,
        }],
        urls: vec![],
        text_hits: vec![],
        text: Some(takedown_core::messages::PostText {
            text: format!("the text of {post}"),
            cut_from: None,
        }),
        language: Some("de-AT".into()),
        ingested_at: time::OffsetDateTime::now_utc(),
    };
    serde_json::to_vec(&s).unwrap()
}

async fn import(store: &Store, list: &ListId, text: &str, replace: bool) {
    let records = formats::read(Format::Plain, Cursor::new(text.as_bytes().to_vec()))
        .unwrap()
        .records;
    let options = ImportOptions {
        replace,
        actor: "test".into(),
        ..ImportOptions::default()
    };
    store.import(list, records, &options).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_flow_and_list_changes_reach_the_running_matcher() {
    let redis = RedisServer::start().unwrap();
    let broker = KafkaBroker::start().unwrap();
    let store = Store::connect(&redis.url(), &unique_name("td"))
        .await
        .unwrap();
    let list = ListId::parse("gifct").unwrap();
    let mut meta = ListMeta::new(list.clone(), "gifct");
    meta.severity = Severity::High;
    meta.labels = vec!["terrorism".into()];
    store.put_list(&meta).await.unwrap();
    import(
        &store,
        &list,
        &format!("pdq {LISTED}\nmd5 {LISTED_MD5}\n"),
        false,
    )
    .await;

    let matcher = Matcher::default();
    follow_until_loaded(
        matcher.clone(),
        store.clone(),
        Duration::from_secs(3600),
        takedown_ingest::metrics::StageMetrics::new("match"),
    )
    .await
    .unwrap();

    let (input, output) = (unique_name("post-signals"), unique_name("matches"));
    for t in [&input, &output, &format!("{input}.dlq")] {
        broker.create_topic(t, 2).await.unwrap();
    }
    let mut rc = RunnerConfig::new(broker.bootstrap_servers(), &unique_name("match"), &input);
    rc.consumer_settings = vec![("session.timeout.ms".into(), "6000".into())];
    let stage = Arc::new(MatchStage::new(matcher.clone(), &output));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(runner::run(rc, stage, StageMetrics::new("match"), async {
        let _ = stopped.await;
    }));

    let producer: FutureProducer = broker.producer_config().create().unwrap();
    let send = |key: String, payload: Vec<u8>| {
        let producer = producer.clone();
        let topic = input.clone();
        async move {
            producer
                .send(
                    FutureRecord::to(&topic).key(&key).payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .unwrap();
        }
    };
    let near = flip(LISTED, 10);
    send("exact".into(), signals("exact", Some((LISTED, 100)), None)).await;
    send("near".into(), signals("near", Some((&near, 90)), None)).await;
    send(
        "far".into(),
        signals("far", Some((&flip(LISTED, 40), 100)), None),
    )
    .await;
    send("md5".into(), signals("md5", None, Some(LISTED_MD5))).await;
    send(
        "low-quality".into(),
        signals("low-quality", Some((LISTED, 20)), None),
    )
    .await;
    send("garbage".into(), b"{\"post_id\": 7}".to_vec()).await;

    let reader: StreamConsumer = broker.consumer_config(&unique_name("r")).create().unwrap();
    reader.subscribe(&[&output]).unwrap();
    let mut got: Vec<Match> = Vec::new();
    while got.len() < 3 {
        let m = tokio::time::timeout(Duration::from_secs(60), reader.recv())
            .await
            .expect("matches in time")
            .unwrap();
        got.push(serde_json::from_slice(m.payload().unwrap()).unwrap());
    }
    got.sort_by(|a, b| a.post_id.cmp(&b.post_id));
    let posts: Vec<&str> = got.iter().map(|m| m.post_id.as_str()).collect();
    assert_eq!(posts, ["exact", "md5", "near"]);
    let exact = &got[0];
    assert_eq!(
        (
            exact.distance,
            exact.list_id.as_str(),
            exact.severity.as_str()
        ),
        (0, "gifct", "high")
    );
    assert_eq!(exact.entry, format!("pdq:{LISTED}"));
    assert_eq!(
        exact.match_id,
        takedown_core::messages::match_id("exact", "m1", "gifct", &exact.entry)
    );
    assert!(exact.labels.contains(&"terrorism".to_string()));
    assert_eq!(
        exact.post_text.as_ref().map(|t| t.text.as_str()),
        Some("the text of exact"),
        "the post's text rides on the match"
    );
    assert_eq!(
        exact.language.as_deref(),
        Some("de-AT"),
        "so does its language"
    );
    assert_eq!(
        (
            got[2].distance,
            got[2].query_hash.as_str(),
            got[2].list_hash.as_str()
        ),
        (10, near.as_str(), LISTED)
    );
    assert_eq!(got[1].signal_type, SignalType::Md5);

    let dlq: StreamConsumer = broker.consumer_config(&unique_name("d")).create().unwrap();
    dlq.subscribe(&[&format!("{input}.dlq")]).unwrap();
    let dead = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header_text(&dead, "error.code").as_deref(),
        Some("invalid_message")
    );
    assert_eq!(header_text(&dead, "stage").as_deref(), Some("match"));

    // The list is replaced without the PDQ entry: the running matcher stops matching it.
    import(&store, &list, &format!("md5 {LISTED_MD5}\n"), true).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let post =
            serde_json::from_slice::<PostSignals>(&signals("probe", Some((LISTED, 100)), None))
                .unwrap();
        if matcher.match_post(&post).is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deletion reached the matcher"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    send(
        "after-delete".into(),
        signals("after-delete", Some((LISTED, 100)), Some(LISTED_MD5)),
    )
    .await;
    let m = tokio::time::timeout(Duration::from_secs(30), reader.recv())
        .await
        .unwrap()
        .unwrap();
    let m: Match = serde_json::from_slice(m.payload().unwrap()).unwrap();
    assert_eq!(
        (m.post_id.as_str(), m.signal_type),
        ("after-delete", SignalType::Md5),
        "only the MD5 still matches"
    );
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();
}

/// Lists of both PDQ conventions, and a post whose image was hashed under both: each list is
/// compared with the hash of its own convention, an untagged hash with every list, and an
/// allow-list entry matching either hash suppresses the PDQ matches of both.
#[test]
fn each_list_is_matched_with_the_hash_of_its_convention() {
    use takedown_core::PdqConvention::{FullSize, Reference};
    use takedown_hashlists::follow::ListUpdate;
    use takedown_hashlists::model::{Entry, ListKind};

    let full_hash = flip(LISTED, 0);
    let reference_hash = flip(LISTED, 40);
    let matcher = Matcher::default();
    let load = |id: &str, convention, kind, hash: &str| {
        let list = ListId::parse(id).unwrap();
        let mut meta = ListMeta::new(list.clone(), "test");
        meta.pdq_convention = convention;
        meta.kind = kind;
        let entries = vec![Entry::new(SignalType::Pdq, hash).unwrap()];
        let update = ListUpdate::Full {
            list,
            version: 1,
            entries,
        };
        matcher.apply_update(&update, &meta).unwrap();
    };
    load("pytx", FullSize, ListKind::Block, &full_hash);
    load("ours", Reference, ListKind::Block, &reference_hash);
    let post = |values: Vec<(String, Option<takedown_core::PdqConvention>)>| PostSignals {
        schema: 1,
        post_id: "p".into(),
        platform: "test".into(),
        url: None,
        created_at: time::OffsetDateTime::now_utc(),
        media: vec![MediaSignals {
            media_id: "m1".into(),
            url: None,
            signals: values
                .into_iter()
                .map(|(value, pdq_convention)| SignalValue {
                    signal_type: SignalType::Pdq,
                    value,
                    pdq_convention,
                    pdq_quality: None,
                })
                .collect(),
            pdq_quality: Some(90),
            error: None,
        }],
        urls: vec![],
        text_hits: vec![],
        text: None,
        language: None,
        ingested_at: time::OffsetDateTime::now_utc(),
    };
    let lists = |m: Vec<Match>| {
        let mut l: Vec<(String, String)> = m
            .into_iter()
            .map(|m| (m.list_id.to_string(), m.query_hash))
            .collect();
        l.sort();
        l
    };
    // Both hashes, tagged: each list by its own (the full-size hash is 40 bits from the
    // reference list's entry, and the reference hash 40 from the pytx list's).
    let both = post(vec![
        (full_hash.clone(), Some(FullSize)),
        (reference_hash.clone(), Some(Reference)),
    ]);
    assert_eq!(
        lists(matcher.match_post(&both)),
        [
            ("ours".to_string(), reference_hash.clone()),
            ("pytx".to_string(), full_hash.clone())
        ]
    );
    // A full-size hash alone, tagged, does not match the reference list even where it would
    // by distance; untagged (an image of 512 px or less) it is compared with both.
    load("ours", Reference, ListKind::Block, &full_hash);
    let tagged = post(vec![(full_hash.clone(), Some(FullSize))]);
    assert_eq!(
        lists(matcher.match_post(&tagged)),
        [("pytx".to_string(), full_hash.clone())]
    );
    let untagged = post(vec![(full_hash.clone(), None)]);
    assert_eq!(lists(matcher.match_post(&untagged)).len(), 2);
    // An allow-list entry of the reference convention suppresses the full-size match too.
    load("benign", Reference, ListKind::Allow, &reference_hash);
    assert!(matcher.match_post(&both).is_empty());
}
