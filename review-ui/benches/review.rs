//! Review-engine benchmarks against a real Redis started by local-services: decisions per
//! second with 1M open cases, how long a removal order takes from receipt to the head of the
//! queue, and how late the sweeper fires 100,000 deadlines due within one second.
//!
//! These are one-shot measurements over a large prepared state (minutes of setup), which
//! criterion's repeated sampling does not fit, so this is a plain program that prints its
//! figures: `cargo bench -p takedown-review-ui --bench review`. `TAKEDOWN_BENCH_CASES` sets the
//! number of open cases (default 1,000,000), `TAKEDOWN_BENCH_DECISIONS` the decisions timed
//! (default 50,000) and `TAKEDOWN_BENCH_MODERATORS` how many decide at once (default 64);
//! `TAKEDOWN_BENCH_PARTS` (default `decisions,orders,sweeper,routing`) picks the parts to run. Each
//! part also prints the CPU time Redis and this process spent on it, per operation.
//! `TAKEDOWN_BENCH_SWEEP` sets the deadlines of the sweeper burst (default 100,000).
//!
//! Part `routing` measures what named queues add: `TAKEDOWN_BENCH_ROUTED` matches (default
//! the smaller of 20,000 and `TAKEDOWN_BENCH_DECISIONS`) are ingested as new cases, claimed
//! by moderators and decided, once under the built-in queues with no rule and once with 20
//! queues and 20 rules none of which matches (every rule is evaluated for every case, the
//! worst case for a first-match table).
//!
//! `TAKEDOWN_BENCH_PERSISTENCE` (default `aof,none`) names the Redis configurations to run every
//! part against, each on a fresh server: `aof` is production's (`appendonly yes`,
//! `appendfsync always`, which docs/review.md requires), `none` has no persistence at all.
//! Targets are judged on `aof`.
//!
//! The open cases are bulk-loaded with pipelined writes of exactly the fields the store's
//! `create_case` writes (case hash with its JSON document, queue entry, breach deadline),
//! without their `case.created` audit entries: loading through the Lua path is the same
//! work one case at a time and would only make the setup slower. Everything timed goes
//! through the store's public API.

use std::sync::Arc;
use std::time::{Duration, Instant};
use takedown_core::clock::SystemClock;
use takedown_local_services::{RedisOptions, RedisServer, unique_name};
use takedown_review::model::{
    Case, CaseState, DecisionInput, Ground, Outcome, Source, Subject, queue_score, rank,
};
use takedown_review::sla::{SlaClass, SlaConfig};
use takedown_review::store::{ReviewStore, StoreOptions, deadline_member};
use time::OffsetDateTime;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A hash-match case as `ingest_match` would create it.
fn case(id: String, received_at: OffsetDateTime, now: OffsetDateTime) -> Case {
    Case {
        subject: Subject {
            platform: "web".into(),
            post_id: Some(id.clone()),
            media_id: Some("m".into()),
            url: Some(format!("https://example.org/{id}")),
            language: None,
        },
        id,
        sources: vec![Source::HashMatch],
        state: CaseState::Open,
        rank: rank(SlaClass::HashMatch, Some("medium"), false),
        senior_only: false,
        threat_to_life: false,
        sla: SlaConfig::default()
            .start(SlaClass::HashMatch, received_at)
            .expect("default hash-match profile"),
        embargo: None,
        decision: None,
        history: vec![],
        preservation: None,
        evidence_holds: Vec::new(),
        created_at: now,
        first_claimed_at: None,
    }
}

/// Writes `count` open cases `b<i>` from `first`, 5,000 per pipeline; `due` gives each
/// case's breach deadline (or the profile's when `None`).
async fn bulk_load(
    store: &ReviewStore,
    first: usize,
    count: usize,
    due: impl Fn(usize) -> Option<OffsetDateTime>,
) {
    let now = OffsetDateTime::now_utc();
    let mut conn = store.connection();
    let queue = store.key("queue");
    for chunk in (first..first + count).collect::<Vec<_>>().chunks(5_000) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            // Older cases first, a millisecond apart, all received in the last hours.
            let received = now - time::Duration::milliseconds((first + count - i) as i64);
            let mut c = case(format!("b{i}"), received, now);
            if let Some(at) = due(i) {
                c.sla.period = at - received;
            }
            let score = queue_score(c.rank, received);
            pipe.hset_multiple(
                store.key(&format!("case:{}", c.id)),
                &[
                    ("doc", serde_json::to_string(&c).expect("case JSON")),
                    ("ver", "1".into()),
                    ("state", "open".into()),
                    ("score", score.to_string()),
                    ("queue", queue.clone()),
                    ("esc", "0".into()),
                ],
            )
            .ignore()
            .zadd(&queue, &c.id, score)
            .ignore();
            for e in c.sla.events() {
                pipe.zadd(store.key("deadlines"), deadline_member(&c.id, &e), ms(e.at))
                    .ignore();
            }
        }
        let () = pipe.query_async(&mut conn).await.expect("bulk load");
    }
}

async fn connect(redis: &RedisServer, prefix: &str) -> ReviewStore {
    let opts = StoreOptions {
        prefix: prefix.to_string(),
        ..StoreOptions::default()
    };
    ReviewStore::connect(&redis.url(), opts, Arc::new(SystemClock))
        .await
        .expect("connect")
}

/// CPU seconds used so far by Redis (main thread and all) and by this process.
async fn cpu(store: &ReviewStore) -> (f64, f64) {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut store.connection())
        .await
        .unwrap();
    let field = |name: &str| -> f64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let redis = field("used_cpu_user:") + field("used_cpu_sys:");
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let ticks: f64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    (redis, ticks / 100.0)
}

/// Prints the CPU time spent since `before` per operation.
async fn print_cpu(store: &ReviewStore, before: (f64, f64), ops: usize, what: &str) {
    let after = cpu(store).await;
    println!(
        "  CPU per {what}: Redis {:.1} µs, bench process {:.1} µs",
        (after.0 - before.0) * 1e6 / ops as f64,
        (after.1 - before.1) * 1e6 / ops as f64
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn decisions(store: &ReviewStore, decisions: usize, workers: usize) {
    let decision = DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![Ground::Incitement],
        tos_clauses: vec![],
        justification: String::new(),
    };
    let per = decisions / workers;
    // Claims first (each worker holds `per` cases), then decisions alone are timed.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::with_capacity(per);
            for _ in 0..per {
                held.push(
                    s.claim_next(&format!("mod{w}"), false)
                        .await
                        .unwrap()
                        .unwrap(),
                );
            }
            held
        }));
    }
    let mut held = Vec::new();
    for t in tasks {
        held.push(t.await.unwrap());
    }
    let claim_time = started.elapsed();
    println!(
        "claims: {} in {:.2} s = {:.0}/s ({workers} concurrent moderators)",
        per * workers,
        claim_time.as_secs_f64(),
        (per * workers) as f64 / claim_time.as_secs_f64()
    );
    let before = cpu(store).await;
    let started = Instant::now();
    decide_all(store, held, &decision).await;
    let decide_time = started.elapsed();
    println!(
        "decisions (remove: audit, outbox, preservation): {} in {:.2} s = {:.0}/s",
        per * workers,
        decide_time.as_secs_f64(),
        (per * workers) as f64 / decide_time.as_secs_f64()
    );
    print_cpu(store, before, per * workers, "decision").await;
}

async fn order_to_head(store: &ReviewStore, orders: usize) {
    use takedown_review::model::Role;
    use takedown_review_ui::api::{add_token, router};
    let token = add_token(store, "bench-authority", Role::AuthorityClient)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let mut times = Vec::new();
    for i in 0..orders {
        let body = serde_json::json!({
            "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
                "addressee": "Example Ltd", "contact_point": "tco@example.org",
                "member_state_of_establishment": "IE", "issued_at": "2026-06-01T11:50:00Z",
                "reference": format!("BENCH-{}-{i}", unique_name("r"))},
            "section_b": {"urls": [format!("https://example.org/order/{i}")],
                "grounds": ["art2_7_a"], "reasons": "glorification"}
        });
        let started = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/removal-orders"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let created: serde_json::Value = r.json().await.unwrap();
        let case_id = created["order"]["case_ids"][0]
            .as_str()
            .unwrap()
            .to_string();
        loop {
            if store.queue_head(1).await.unwrap().first() == Some(&case_id) {
                break;
            }
        }
        times.push(started.elapsed());
        // Take it off the head so the next order is measured on its own.
        assert_eq!(
            store.claim_next("bench-mod", false).await.unwrap(),
            Some(case_id)
        );
    }
    times.sort();
    println!(
        "removal order, POST sent to case at the head of a {}-case queue ({orders} orders): \
         median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        store.counts().await.unwrap().0,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.9).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

async fn sweeper_burst(redis: &RedisServer, n: usize) {
    let store = connect(redis, &unique_name("bench-sweep")).await;
    // Deadlines spread evenly over one second, starting after loading ends: 60 s ahead for
    // 100,000 (loading them into an AOF Redis took 23.5 s at load 6), at least 2 s.
    let load_start = Instant::now();
    let lead = (60 * n as i64 / 100_000).max(2);
    let window_start = OffsetDateTime::now_utc() + time::Duration::seconds(lead);
    bulk_load(&store, 0, n, |i| {
        Some(window_start + time::Duration::microseconds((i as i64 * 1_000_000) / n as i64))
    })
    .await;
    let loaded = load_start.elapsed();
    assert!(
        OffsetDateTime::now_utc() < window_start,
        "loading took {loaded:?}, past the window"
    );
    let before = cpu(&store).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(takedown_review::sweeper::run(
        store.clone(),
        Duration::from_millis(500),
        stop_rx,
    ));
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, _, _, pending) = store.counts().await.unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            OffsetDateTime::now_utc() < window_start + time::Duration::seconds(60),
            "deadlines still pending a minute after the window"
        );
    }
    let _ = stop_tx.send(true);
    sweeper.await.unwrap().unwrap();
    print_cpu(
        &store,
        before,
        n,
        "fired deadline (with the waiting before the window)",
    )
    .await;
    let mut lateness = Vec::with_capacity(n);
    let mut last_fired = 0i64;
    let mut after = "-".to_string();
    loop {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(store.key("sla_events"))
            .arg(&after)
            .arg("+")
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut store.connection())
            .await
            .unwrap();
        let Some(last) = reply.ids.last() else { break };
        after = format!("({}", last.id);
        for e in &reply.ids {
            let due: i64 = e.get("due_at").unwrap();
            let fired: i64 = e.get("fired_at").unwrap();
            last_fired = last_fired.max(fired);
            lateness.push(Duration::from_millis((fired - due).max(0) as u64));
        }
    }
    assert_eq!(lateness.len(), n, "every deadline fired once");
    lateness.sort();
    let window_end = ms(window_start) + 1000;
    println!(
        "sweeper: {n} deadlines due within one second (loaded in {:.1} s): all fired {} ms \
         after the first was due ({} ms after the last was due); lateness median {} ms, \
         p99 {} ms, max {} ms",
        loaded.as_secs_f64(),
        last_fired - ms(window_start),
        last_fired - window_end,
        percentile(&lateness, 0.5).as_millis(),
        percentile(&lateness, 0.99).as_millis(),
        lateness.last().unwrap().as_millis()
    );
}

async fn run(appendonly: bool) {
    println!(
        "== Redis persistence: {}",
        if appendonly {
            "AOF, appendfsync always (production)"
        } else {
            "none"
        }
    );
    let cases = env_usize("TAKEDOWN_BENCH_CASES", 1_000_000);
    let sweep = env_usize("TAKEDOWN_BENCH_SWEEP", 100_000);
    let decided = env_usize("TAKEDOWN_BENCH_DECISIONS", 50_000);
    let parts = std::env::var("TAKEDOWN_BENCH_PARTS")
        .unwrap_or_else(|_| "decisions,orders,sweeper,routing".into());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
    let redis = RedisServer::start_with(RedisOptions {
        appendonly,
        ..RedisOptions::default()
    })
    .expect("redis-server (scripts/install-test-deps)");
    if part("routing") {
        let n = env_usize("TAKEDOWN_BENCH_ROUTED", decided.min(20_000));
        for rules in [0, 20] {
            routing_cost(&redis, n, rules).await;
        }
    }
    if !part("decisions") && !part("orders") {
        if part("sweeper") {
            sweeper_burst(&redis, sweep).await;
        }
        return;
    }
    let store = connect(&redis, &unique_name("bench")).await;
    let started = Instant::now();
    // Two loaders in parallel, each with its own pipelined connection.
    let half = cases / 2;
    let (a, b) = (
        store.clone(),
        connect(&redis, &store.options().prefix).await,
    );
    tokio::join!(
        bulk_load(&a, 0, half, |_| None),
        bulk_load(&b, half, cases - half, |_| None)
    );
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut store.connection())
        .await
        .unwrap();
    let used = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory_human:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    println!(
        "loaded {cases} open cases in {:.1} s (Redis used memory {used})",
        started.elapsed().as_secs_f64()
    );
    if part("decisions") {
        decisions(&store, decided, env_usize("TAKEDOWN_BENCH_MODERATORS", 64)).await;
    }
    if part("orders") {
        order_to_head(&store, 50).await;
    }
    drop(store);
    if part("sweeper") {
        sweeper_burst(&redis, sweep).await;
    }
}

/// A routing table of `n` queues (open to moderators and seniors) and `n` rules, each sending
/// a label no match carries to its queue: every rule is looked at for every new case.
fn routing_table(n: usize) -> takedown_review::routing::RoutingConfig {
    use takedown_review::model::Role;
    use takedown_review::routing::{Conditions, QueueDef, RoutingConfig, Rule};
    let mut config = RoutingConfig::default();
    for i in 0..n {
        config.queues.push(QueueDef {
            name: format!("q{i}"),
            title: format!("Queue {i}"),
            roles: vec![Role::Moderator, Role::SeniorModerator],
            qa_percent: 5.0,
        });
        config.rules.push(Rule {
            when: Conditions {
                label: Some(format!("never-{i}")),
                severity: Some("critical".into()),
                ..Conditions::default()
            },
            queue: format!("q{i}"),
        });
    }
    config
}

/// Case creation (`ingest_match`), claims by role and decisions of `n` new cases under a
/// routing table of `rules` rules, 16 at a time.
async fn routing_cost(redis: &RedisServer, n: usize, rules: usize) {
    use takedown_core::messages::{Match, match_id};
    use takedown_review::model::Role;
    const WORKERS: usize = 16;
    let store = connect(redis, &unique_name("routing")).await;
    if rules > 0 {
        store
            .save_routing(0, routing_table(rules), "bench")
            .await
            .expect("routing saves");
    }
    let now = OffsetDateTime::now_utc();
    let per = n / WORKERS;
    let timed = |what: &'static str, took: Duration| {
        println!(
            "routing, {rules} rules: {what} {} in {:.2} s = {:.0}/s",
            per * WORKERS,
            took.as_secs_f64(),
            (per * WORKERS) as f64 / took.as_secs_f64()
        );
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in w * per..(w + 1) * per {
                let post_id = format!("post-{i}");
                let entry = format!("pdq:{i:064x}");
                let m = Match {
                    schema: 1,
                    match_id: match_id(&post_id, "m1", "gifct", &entry),
                    platform: "bench".into(),
                    post_url: None,
                    media_url: None,
                    media_id: "m1".into(),
                    signal_type: takedown_core::SignalType::Pdq,
                    labels: vec!["terrorism".into()],
                    severity: "high".into(),
                    distance: 0,
                    query_hash: "ab".repeat(32),
                    list_hash: entry[4..].to_string(),
                    matched_at: now,
                    video: None,
                    post_text: None,
                    language: Some("de".into()),
                    post_id,
                    list_id: "gifct".into(),
                    entry,
                };
                s.ingest_match(&m).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    timed("case creations (ingest_match)", started.elapsed());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::with_capacity(per);
            for _ in 0..per {
                let name = format!("mod{w}");
                held.push(
                    s.claim_next_as(&name, Role::Moderator)
                        .await
                        .unwrap()
                        .unwrap(),
                );
            }
            held
        }));
    }
    let mut held = Vec::new();
    for t in tasks {
        held.push(t.await.unwrap());
    }
    timed("claims by role (claim_next_as)", started.elapsed());
    let decision = DecisionInput {
        outcome: Outcome::Remove,
        grounds: vec![Ground::Incitement],
        tos_clauses: vec![],
        justification: String::new(),
    };
    let started = Instant::now();
    decide_all(&store, held, &decision).await;
    timed("decisions (with the QA draw)", started.elapsed());
}

/// Moderator `w` decides the cases of `held[w]`, all moderators at once.
async fn decide_all(store: &ReviewStore, held: Vec<Vec<String>>, decision: &DecisionInput) {
    let mut tasks = Vec::new();
    for (w, cases) in held.into_iter().enumerate() {
        let s = store.clone();
        let d = decision.clone();
        tasks.push(tokio::spawn(async move {
            for id in cases {
                s.decide(&id, &format!("mod{w}"), &d).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks
    }
    let persistence =
        std::env::var("TAKEDOWN_BENCH_PERSISTENCE").unwrap_or_else(|_| "aof,none".into());
    for config in persistence
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let appendonly = match config {
            "aof" => true,
            "none" => false,
            other => panic!("TAKEDOWN_BENCH_PERSISTENCE: unknown configuration {other}"),
        };
        runtime.block_on(run(appendonly));
    }
}
