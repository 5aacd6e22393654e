//! `takedown review tokens add` and `takedown audit verify` as operators run them, against a
//! real Redis: a token is printed once and stored only as its SHA-256; the audit check passes on
//! an intact trail and fails, exit code 1, once an entry is deleted behind its back.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use takedown_core::SignalType;
use takedown_core::clock::SystemClock;
use takedown_core::messages::{Match, match_id};
use takedown_local_services::RedisServer;
use takedown_review::store::{ReviewStore, StoreOptions};

fn takedown(redis: &RedisServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(args)
        .env("TAKEDOWN_REDIS_URL", redis.url())
        .env("TAKEDOWN_LOG", "warn")
        .output()
        .unwrap()
}

fn redis_cli(redis: &RedisServer, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(redis.port().to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "redis-cli {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn sha256_hex(text: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn tokens_are_stored_hashed_and_audit_verify_detects_a_deleted_entry() {
    let redis = RedisServer::start().unwrap();

    let out = takedown(
        &redis,
        &[
            "review",
            "tokens",
            "add",
            "--name",
            "alice",
            "--role",
            "moderator",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.len() >= 32, "a token is printed: {token:?}");
    let stored = redis_cli(&redis, &["HGETALL", "td:review:tokens"]);
    assert!(stored.contains(&sha256_hex(&token)), "{stored}");
    assert!(!stored.contains(&token), "the token itself is not stored");

    // Some audited history: two matches become a case.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store =
            ReviewStore::connect(&redis.url(), StoreOptions::default(), Arc::new(SystemClock))
                .await
                .unwrap();
        for media in ["m1", "m2"] {
            let entry = format!("pdq:{}", "cd".repeat(32));
            store
                .ingest_match(&Match {
                    schema: 1,
                    match_id: match_id("p1", media, "gifct", &entry),
                    post_id: "p1".into(),
                    platform: "web".into(),
                    post_url: None,
                    media_url: None,
                    media_id: media.into(),
                    signal_type: SignalType::Pdq,
                    list_id: "gifct".into(),
                    entry,
                    labels: vec![],
                    severity: "high".into(),
                    distance: 2,
                    query_hash: "ab".repeat(32),
                    list_hash: "cd".repeat(32),
                    matched_at: time::OffsetDateTime::now_utc(),
                    video: None,
                    post_text: None,
                    language: None,
                })
                .await
                .unwrap();
        }
    });

    let out = takedown(&redis, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let ids = redis_cli(
        &redis,
        &["XRANGE", "td:review:audit", "-", "+", "COUNT", "1"],
    );
    let first = ids.lines().next().unwrap().trim().to_string();
    assert_eq!(
        redis_cli(&redis, &["XDEL", "td:review:audit", &first]).trim(),
        "1"
    );
    let out = takedown(&redis, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TAMPERED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
