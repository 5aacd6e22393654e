//! `TAKEDOWN_KAFKA_PROPERTIES_FILE` reaches librdkafka and keeps its secrets: a property
//! Takedown owns is refused naming its line, an invalid value is refused by librdkafka itself
//! (so the file's properties are really applied to the clients), and no value of the file is
//! printed either way.

use std::process::Command;
use takedown_local_services::RedisServer;

/// Runs `takedown match` with the properties `text` against a real Redis (the lists load
/// before any Kafka client is made) and returns its exit status and stderr.
fn run_match(redis: &RedisServer, text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kafka.properties");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .arg("match")
        .env("TAKEDOWN_BROKERS", "127.0.0.1:9")
        .env("TAKEDOWN_REDIS_URL", redis.url())
        .env("TAKEDOWN_METRICS_ADDR", "127.0.0.1:0")
        .env("TAKEDOWN_KAFKA_PROPERTIES_FILE", &file)
        .env("TAKEDOWN_LOG", "info")
        .output()
        .expect("run takedown");
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

#[test]
fn owned_keys_are_refused_by_line_and_bad_values_by_librdkafka_without_echoing_secrets() {
    let redis = RedisServer::start().unwrap();
    let (ok, err) = run_match(&redis, "sasl.password=hunter2\n# ours\ngroup.id=other\n");
    assert!(!ok, "{err}");
    assert!(err.contains("line 3") && err.contains("group.id"), "{err}");
    assert!(!err.contains("hunter2"), "a value was printed: {err}");

    let (ok, err) = run_match(&redis, "sasl.password=hunter2\nsecurity.protocol=bogus\n");
    assert!(!ok, "{err}");
    assert!(
        err.contains("security.protocol"),
        "librdkafka refuses the value it was given: {err}"
    );
    assert!(!err.contains("hunter2"), "a value was printed: {err}");
}
