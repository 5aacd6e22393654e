//! Import throughput of a large plain PDQ file: parsing alone, then loading into a real Redis.
//!
//! `cargo bench -p takedown-hashlists --bench import` (entries from `TAKEDOWN_BENCH_ENTRIES`,
//! default 1,000,000). Prints one JSON object. Peak memory (VmHWM) is read after the parse and
//! after the load to show that the import streams: memory does not grow with the file. The CPU
//! seconds of this process and of Redis during the load are printed too: on a busy machine
//! they say more than the wall time.
//!
//! `TAKEDOWN_BENCH_PERSISTENCE` (default `aof,none`) names the Redis configurations the load runs
//! against, one JSON object each: `aof` is production's (`appendonly yes`, `appendfsync always`,
//! as docs/review.md requires), `none` has no persistence at all.

use std::io::{BufWriter, Write};
use std::time::Instant;
use takedown_hashlists::formats::{self, Format};
use takedown_hashlists::model::{ListId, ListMeta};
use takedown_hashlists::store::{ImportOptions, Store};
use takedown_local_services::{RedisOptions, RedisServer};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds this process (all its threads) has used, user + system, from /proc/self/stat
/// (in clock ticks, 100 a second on Linux).
fn own_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces): state is the first, utime
            // and stime the 12th and 13th.
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// CPU seconds the Redis server has used, from `INFO cpu`.
async fn redis_cpu_s(conn: &mut redis::aio::MultiplexedConnection) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .expect("INFO cpu");
    info.lines()
        .filter(|l| l.starts_with("used_cpu_user:") || l.starts_with("used_cpu_sys:"))
        .filter_map(|l| l.split_once(':')?.1.trim().parse::<f64>().ok())
        .sum()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks
    }
    let entries: u64 = std::env::var("TAKEDOWN_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("list.txt");
    {
        let mut out = BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..entries {
            let mut words = [0u64; 4];
            for w in &mut words {
                // xorshift64*: fast, deterministic, distinct enough for a benchmark.
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                *w = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            }
            writeln!(
                out,
                "pdq {:016x}{:016x}{:016x}{:016x}",
                words[0], words[1], words[2], words[3]
            )
            .expect("write");
        }
    }
    let size_mib = std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64;
    let rss_before = peak_rss_mib();

    let open = || std::io::BufReader::new(std::fs::File::open(&path).expect("open"));
    let started = Instant::now();
    let parsed = formats::read(Format::Plain, open()).expect("readable");
    let mut valid = 0u64;
    for r in parsed.records {
        valid += u64::from(r.is_ok());
    }
    let parse_s = started.elapsed().as_secs_f64();
    assert_eq!(valid, entries);
    let rss_after_parse = peak_rss_mib();

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
        load(
            &path,
            entries,
            size_mib,
            (parse_s, rss_before, rss_after_parse),
            appendonly,
        );
    }
}

/// Loads the file into an empty list of a fresh Redis and prints the report.
fn load(
    path: &std::path::Path,
    entries: u64,
    size_mib: f64,
    (parse_s, rss_before, rss_after_parse): (f64, f64, f64),
    appendonly: bool,
) {
    let open = || std::io::BufReader::new(std::fs::File::open(path).expect("open"));
    let redis = RedisServer::start_with(RedisOptions {
        appendonly,
        ..RedisOptions::default()
    })
    .expect("redis-server");
    // A multi-threaded runtime, as `takedown lists import` uses: the Redis connection's I/O
    // goes on while the import task parses the next batch.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (load_s, client_cpu_s, redis_cpu_s, summary) = runtime.block_on(async {
        let store = Store::connect(&redis.url(), "bench")
            .await
            .expect("connect");
        let id = ListId::parse("bench").expect("id");
        store
            .put_list(&ListMeta::new(id.clone(), "bench"))
            .await
            .expect("list");
        let parsed = formats::read(Format::Plain, open()).expect("readable");
        let mut conn = store
            .client()
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let redis_before = redis_cpu_s(&mut conn).await;
        let client_before = own_cpu_s();
        let started = Instant::now();
        let summary = store
            .import(
                &id,
                parsed.records,
                &ImportOptions {
                    actor: "bench".into(),
                    ..ImportOptions::default()
                },
            )
            .await
            .expect("import");
        let load_s = started.elapsed().as_secs_f64();
        (
            load_s,
            own_cpu_s() - client_before,
            redis_cpu_s(&mut conn).await - redis_before,
            summary,
        )
    });
    assert_eq!(summary.added, entries);
    let report = serde_json::json!({
        "redis_persistence": if appendonly { "aof appendfsync always" } else { "none" },
        "entries": entries,
        "file_mib": (size_mib * 10.0).round() / 10.0,
        "parse_s": parse_s,
        "parse_lines_per_s": (entries as f64 / parse_s).round(),
        "load_s": load_s,
        "load_entries_per_s": (entries as f64 / load_s).round(),
        // CPU used during the load (the client includes parsing): what the wall time would
        // shrink towards on an idle machine with a core each.
        "load_cpu_s_client": client_cpu_s,
        "load_cpu_s_redis": redis_cpu_s,
        "peak_rss_mib_before": rss_before.round(),
        "peak_rss_mib_after_parse": rss_after_parse.round(),
        "peak_rss_mib_after_load": peak_rss_mib().round(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
    });
    println!("{report}");
}
