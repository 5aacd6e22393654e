//! The whole pipeline as operators run it: `takedown ingest` and `takedown match` processes on
//! a real broker and list store, 1,000 posts of every kind, and the ingest process killed with
//! SIGKILL mid-stream and restarted. Every post must be accounted for (signals or dead letter),
//! and the distinct match ids must be exactly the expected ones.

use base64::Engine;
use image::RgbImage;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use takedown::local::{jpeg, picture, png};
use takedown_core::SignalType;
use takedown_core::messages::{Match, PostSignals, match_id};
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_local_services::fixtures::png_claiming;
use takedown_local_services::{KafkaBroker, RedisServer, unique_name};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};

fn post(id: &str, media: serde_json::Value) -> Vec<u8> {
    post_with_text(id, "hello", media)
}

fn post_with_text(id: &str, text: &str, media: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "post_id": id, "platform": "test", "author_id": "a", "created_at": "2026-11-23T10:00:00Z",
        "text": text, "media": media,
    }))
    .unwrap()
}

/// The list's text rule: posts linking to this (made-up) outlet match it.
const OUTLET_RULE: &str = r"https?://outlet\.example/\S+";

fn inline(bytes: &[u8]) -> serde_json::Value {
    serde_json::json!([{"media_id": "m", "data_base64": base64::engine::general_purpose::STANDARD.encode(bytes)}])
}

/// A post to send: its key, its bytes, the dead-letter code it must get (if any), and the
/// listed picture it must match (if any).
type Case = (String, Vec<u8>, Option<&'static str>, Option<usize>);

struct Role {
    child: Child,
}

impl Role {
    fn start(role: &str, env: &[(&str, String)]) -> Role {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_takedown"));
        cmd.arg(role)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Role {
            child: cmd.spawn().unwrap(),
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix: no drain, no commit
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_posts_survive_a_killed_consumer() {
    let broker = KafkaBroker::start().unwrap();
    let redis = RedisServer::start().unwrap();
    let prefix = unique_name("td");
    let (posts, signals, matches) = (
        unique_name("posts"),
        unique_name("post-signals"),
        unique_name("matches"),
    );
    for t in [
        &posts,
        &signals,
        &matches,
        &format!("{posts}.dlq"),
        &format!("{signals}.dlq"),
    ] {
        broker.create_topic(t, 4).await.unwrap();
    }

    // The list: ten generated pictures.
    let listed: Vec<RgbImage> = (0..10).map(|i| picture(1000 + i, 320, 240)).collect();
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let mut list_text = String::new();
    // The list file's PDQ lines, in order: line n is picture n's hash (the list's input, not
    // what the test expects to come out).
    let mut list_lines = Vec::new();
    for img in &listed {
        let s = computer.compute(&png(img), &[SignalType::Pdq]).unwrap();
        let line = s.pdq.unwrap().hash.to_string();
        list_text.push_str(&format!("pdq {line}\n"));
        list_lines.push(line);
    }
    list_text.push_str(&format!("text_regex {OUTLET_RULE}\n"));
    let store = Store::connect(&redis.url(), &prefix).await.unwrap();
    let list = ListId::parse("demo").unwrap();
    store
        .put_list(&ListMeta::new(list.clone(), "test"))
        .await
        .unwrap();
    let records = formats::read(Format::Plain, Cursor::new(list_text.into_bytes()))
        .unwrap()
        .records;
    store
        .import(
            &list,
            records,
            &ImportOptions {
                actor: "t".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The entries as the store holds them: what the match stage loads and names in its matches.
    let (_, stored) = store.snapshot(&list).await.unwrap();
    assert_eq!(stored.len(), 11, "ten pictures and the text rule");
    let stored_entry: Vec<String> = list_lines
        .iter()
        .map(|line| {
            stored
                .iter()
                .find(|e| e.signal_type == SignalType::Pdq && e.value == *line)
                .unwrap_or_else(|| panic!("list line {line} is in the store"))
                .key()
        })
        .collect();

    // A slow media host on loopback.
    let app = axum::Router::new().route(
        "/slow.jpg",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_url = format!("http://{}/slow.jpg", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // 1,000 posts: (key, payload, expected dead-letter code, matches list item?)
    let truncated = {
        let j = jpeg(&picture(7, 200, 150), 90);
        j[..j.len() / 2].to_vec()
    };
    let bomb = png_claiming(100_000, 100_000);
    let mut cases: Vec<Case> = Vec::new();
    for i in 0..1000usize {
        let id = format!("post-{i:04}");
        let case = match i % 20 {
            0..=3 => (post(&id, inline(&png(&listed[i % 10]))), None, Some(i % 10)),
            4..=7 => (
                post(&id, inline(&jpeg(&listed[i % 10], 60))),
                None,
                Some(i % 10),
            ),
            8 | 9 => {
                let small = image::imageops::resize(
                    &listed[i % 10],
                    240,
                    180,
                    image::imageops::FilterType::Triangle,
                );
                (post(&id, inline(&jpeg(&small, 80))), None, Some(i % 10))
            }
            10 => (
                post_with_text(
                    &id,
                    &format!("watch https://outlet.example/v/{i} today"),
                    inline(&jpeg(&picture(5000 + i as u64, 320, 240), 85)),
                ),
                None,
                None,
            ),
            11..=15 => (
                post(&id, inline(&jpeg(&picture(5000 + i as u64, 320, 240), 85))),
                None,
                None,
            ),
            16 => (
                b"{\"post_id\": oops".to_vec(),
                Some("invalid_message"),
                None,
            ),
            17 => (post(&id, inline(&bomb)), Some("dimensions_too_large"), None),
            18 => (post(&id, inline(&truncated)), Some("decode_failed"), None),
            _ => {
                if i % 40 == 19 {
                    (
                        post(
                            &id,
                            serde_json::json!([{"media_id": "m", "url": "http://169.254.169.254/latest/meta-data/"}]),
                        ),
                        Some("fetch_forbidden"),
                        None,
                    )
                } else {
                    (
                        post(&id, serde_json::json!([{"media_id": "m", "url": slow_url}])),
                        Some("fetch_failed"),
                        None,
                    )
                }
            }
        };
        cases.push((id, case.0, case.1, case.2));
    }

    let metrics_port = free_port();
    let common = vec![
        ("TAKEDOWN_BROKERS", broker.bootstrap_servers().to_string()),
        ("TAKEDOWN_SESSION_TIMEOUT_MS", "6000".to_string()),
        ("TAKEDOWN_LOG", "warn".to_string()),
    ];
    let mut ingest_env = common.clone();
    ingest_env.extend([
        ("TAKEDOWN_INPUT_TOPIC", posts.clone()),
        ("TAKEDOWN_OUTPUT_TOPIC", signals.clone()),
        ("TAKEDOWN_GROUP_ID", unique_name("ingest")),
        ("TAKEDOWN_ALLOW_FETCH", "127.0.0.1/32:*".to_string()),
        ("TAKEDOWN_FETCH_TIMEOUT_MS", "500".to_string()),
        ("TAKEDOWN_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
        ("TAKEDOWN_REDIS_URL", redis.url()),
        ("TAKEDOWN_REDIS_PREFIX", prefix.clone()),
    ]);
    let mut match_env = common.clone();
    match_env.extend([
        ("TAKEDOWN_INPUT_TOPIC", signals.clone()),
        ("TAKEDOWN_OUTPUT_TOPIC", matches.clone()),
        ("TAKEDOWN_GROUP_ID", unique_name("match")),
        ("TAKEDOWN_REDIS_URL", redis.url()),
        ("TAKEDOWN_REDIS_PREFIX", prefix.clone()),
        (
            "TAKEDOWN_METRICS_ADDR",
            format!("127.0.0.1:{}", free_port()),
        ),
    ]);
    let mut matcher = Role::start("match", &match_env);
    let mut ingest = Role::start("ingest", &ingest_env);

    let producer: FutureProducer = broker.producer_config().create().unwrap();
    for (key, payload, _, _) in &cases {
        producer
            .send(
                FutureRecord::to(&posts).key(key).payload(payload),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }

    let reader = |topic: &str| {
        let c: StreamConsumer = broker
            .consumer_config(&unique_name("reader"))
            .create()
            .unwrap();
        c.subscribe(&[topic]).unwrap();
        c
    };
    let signals_reader = reader(&signals);
    let dlq_reader = reader(&format!("{posts}.dlq"));
    let expected_signals: HashSet<&str> = cases
        .iter()
        .filter(|c| c.2 != Some("invalid_message"))
        .map(|c| c.0.as_str())
        .collect();
    let expected_dead: HashMap<&str, &str> = cases
        .iter()
        .filter_map(|c| c.2.map(|code| (c.0.as_str(), code)))
        .collect();

    let mut seen_signals: HashMap<String, usize> = HashMap::new();
    let mut dead: HashMap<String, String> = HashMap::new();
    let mut killed = false;
    let mut accounted_at_kill = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    while seen_signals.len() < expected_signals.len() || dead.len() < expected_dead.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "accounted for in time: {} signals, {} dead",
            seen_signals.len(),
            dead.len()
        );
        if !killed && seen_signals.len() >= 300 {
            // Work must be outstanding when the consumer dies, or the restart proves nothing:
            // the ingest process itself says it has not consumed every post yet.
            let consumed = consumed_total(metrics_port).await;
            assert!(
                consumed < cases.len() as u64,
                "ingest consumed {consumed} of {} posts before the kill: nothing outstanding",
                cases.len()
            );
            ingest.kill9();
            accounted_at_kill = seen_signals.len() + dead.len();
            assert!(
                accounted_at_kill < expected_signals.len() + expected_dead.len(),
                "posts unaccounted for at the kill"
            );
            ingest = Role::start("ingest", &ingest_env);
            killed = true;
        }
        tokio::select! {
            m = signals_reader.recv() => {
                let m = m.unwrap();
                let s: PostSignals = serde_json::from_slice(m.payload().unwrap()).unwrap();
                *seen_signals.entry(s.post_id).or_default() += 1;
            }
            m = dlq_reader.recv() => {
                let m = m.unwrap();
                let key = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
                let code = takedown_ingest::runner::header_text(&m, "error.code").unwrap_or_default();
                // The malformed posts' keys are their Kafka keys.
                dead.insert(key, code);
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    assert!(killed, "the consumer was killed mid-stream");
    // The restarted process did part of the work: its own counter, not just the outputs.
    let consumed_after = consumed_total(metrics_port).await;
    assert!(
        consumed_after > 0,
        "the restarted ingest consumed nothing (outputs at the kill: {accounted_at_kill})"
    );
    println!(
        "accounted for at the kill: {accounted_at_kill}; consumed by the restarted ingest: {consumed_after}"
    );
    for (key, code) in &expected_dead {
        assert_eq!(dead.get(*key).map(String::as_str), Some(*code), "{key}");
    }
    assert_eq!(
        dead.len(),
        expected_dead.len(),
        "no good post was dead-lettered"
    );
    let signal_keys: HashSet<&str> = seen_signals.keys().map(String::as_str).collect();
    assert_eq!(
        signal_keys, expected_signals,
        "every hashable post has signals"
    );

    // Matches: the distinct match ids are exactly the expected ones.
    let mut expected_ids: HashSet<String> = cases
        .iter()
        .filter_map(|c| c.3.map(|n| (c.0.clone(), stored_entry[n].clone())))
        .map(|(post_id, entry)| match_id(&post_id, "m", "demo", &entry))
        .collect();
    // Every 20th post links to the outlet in its text.
    let rule_key = format!("text_regex:{OUTLET_RULE}");
    expected_ids.extend(
        (0..1000)
            .filter(|i| i % 20 == 10)
            .map(|i| match_id(&format!("post-{i:04}"), "text", "demo", &rule_key)),
    );
    let match_reader = reader(&matches);
    let mut ids: HashMap<String, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while ids.len() < expected_ids.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {} matches",
            ids.len(),
            expected_ids.len()
        );
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(5), match_reader.recv()).await {
            let m: Match = serde_json::from_slice(m.payload().unwrap()).unwrap();
            assert!(m.distance <= 31);
            *ids.entry(m.match_id).or_default() += 1;
        }
    }
    // Nothing unexpected trails behind.
    while let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(3), match_reader.recv()).await {
        let m: Match = serde_json::from_slice(m.payload().unwrap()).unwrap();
        *ids.entry(m.match_id).or_default() += 1;
    }
    let got: HashSet<String> = ids.keys().cloned().collect();
    assert_eq!(got, expected_ids, "exactly the expected matches");
    let redelivered = seen_signals.values().filter(|n| **n > 1).count();
    println!(
        "posts redelivered after the kill: {redelivered}; duplicate match records: {}",
        ids.values().map(|n| n - 1).sum::<usize>()
    );

    ingest.terminate();
    matcher.terminate();
}

/// `takedown_messages_consumed_total` of the ingest process serving `/metrics` on `port`,
/// waiting for it to answer (a process just started needs a moment to bind).
async fn consumed_total(port: u16) -> u64 {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(&url).await
            && let Ok(text) = r.text().await
            && let Some(n) = text
                .lines()
                .find(|l| l.starts_with("takedown_messages_consumed_total{stage=\"ingest\"}"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
        {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ingest /metrics on port {port} did not answer"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The README's run command: `takedown demo` starts its own services and stages, and its
/// summary says exactly the expected matches and dead letters came out.
#[test]
fn the_demo_shows_exactly_the_expected_matches() {
    let out = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(["demo", "--posts", "20", "--exit-when-done"])
        .env("TAKEDOWN_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 20 posts: 4 re-encoded and 4 resized copies, 4 links to the outlet, 2 truncated images.
    // Each match became a case in the review role the demo runs (8 pictures, 4 links).
    assert!(
        stdout.contains(
            "12 of 12 expected matches, 0 unexpected; 2 of 2 expected dead letters; \
             12 of 12 expected cases from matches."
        ),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("match ")).count(),
        12,
        "{stdout}"
    );
}

/// Without `--exit-when-done` the demo keeps serving the moderator UI: the account it prints
/// logs in, the queue holds the cases from the matches and the demo removal order, a matched
/// post's generated picture is served for review; Ctrl-C (SIGINT) then stops it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_the_moderator_ui_with_its_account() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(["demo", "--posts", "10"])
        .env("TAKEDOWN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ui = None;
    let mut printed = String::new();
    let read_until_summary = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Moderator UI ") {
                // "Moderator UI  <url>  account <name>  password <password>  (shown once)"
                let words: Vec<&str> = line.split_whitespace().collect();
                let after = |w: &str| words[words.iter().position(|x| *x == w).unwrap() + 1];
                ui = Some((
                    words[2].to_string(),
                    after("account").to_string(),
                    after("password").to_string(),
                ));
            }
            if line.starts_with("Summary: ") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(240), read_until_summary)
        .await
        .expect("the demo printed its summary");
    // 10 posts: 2 re-encoded and 2 resized copies, 2 links to the outlet, 1 truncated image.
    assert!(
        printed.contains("6 of 6 expected matches, 0 unexpected; 1 of 1 expected dead letters; 6 of 6 expected cases"),
        "{printed}"
    );
    let (url, account, password) = ui.unwrap_or_else(|| panic!("no UI line in {printed}"));
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    let base = url.trim_end_matches('/');

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let token = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let form = |password: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", &token)
            .append_pair("name", &account)
            .append_pair("password", password)
            .finish()
    };
    let post_login = |body: String| {
        http.post(format!("{base}/login"))
            .header("cookie", format!("td_login={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let session_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("td_session="))
            .map(|c| c.split(';').next().unwrap().to_string())
    };
    let wrong = post_login(form("not the demo password")).await.unwrap();
    assert_eq!(session_of(&wrong), None);
    let ok = post_login(form(&password)).await.unwrap();
    let session = session_of(&ok).expect("the printed account logs in");

    let queue = http
        .get(format!("{base}/queue"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    let page = queue.text().await.unwrap();
    // Six cases from the matches and the demo removal order's.
    assert!(
        page.contains("<strong id=\"count-queued\">7</strong>"),
        "{page}"
    );
    // post-000 is a re-encoded listed picture: its case has the generated JPEG for review.
    let case = takedown_review::model::derive_id("m", &["demo", "post-000", "m1"]);
    let case_page = http
        .get(format!("{base}/cases/{case}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page links only the preview of the pushed JPEG; the original needs a reveal.
    let prefix = format!("<img src=\"/cases/{case}/evidence/");
    let at = case_page.find(&prefix).expect("an evidence image") + prefix.len();
    let sha = &case_page[at..at + 64];
    assert!(
        case_page[at + 64..].starts_with("/preview\""),
        "{case_page}"
    );
    let media = http
        .get(format!("{base}/cases/{case}/evidence/{sha}/preview"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 200);
    assert_eq!(media.headers()["content-type"], "image/jpeg");
    assert_eq!(&media.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    let original = http
        .get(format!("{base}/cases/{case}/evidence/{sha}/original"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 403, "no original before a reveal");

    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the demo stops on Ctrl-C")
        .unwrap();
    assert!(status.success(), "{status}");
}
