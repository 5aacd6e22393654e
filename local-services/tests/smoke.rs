//! Smoke tests: the test services start, do what Takedown's integration tests rely on, and
//! are gone after drop.
//!
//! With `TAKEDOWN_TEST_KAFKA=host:port` set, the Kafka test runs against that broker.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset};
use redis::AsyncTypedCommands;
use takedown_local_services::{KafkaBroker, RedisOptions, RedisServer, unique_name};

/// Each test stays well under a minute, or fails saying it timed out.
const TEST_TIMEOUT: Duration = Duration::from_secs(50);
/// How many keyed messages the Kafka test sends.
const MESSAGES: usize = 20;

/// A message as the test compares it: (partition, offset) → (key, payload).
type Messages = BTreeMap<(i32, i64), (String, String)>;

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8(bytes.expect("key and payload are set").to_vec()).expect("UTF-8")
}

fn entry(message: &BorrowedMessage<'_>) -> ((i32, i64), (String, String)) {
    (
        (message.partition(), message.offset()),
        (text(message.key()), text(message.payload())),
    )
}

async fn recv(
    consumer: &StreamConsumer,
    within: Duration,
) -> Option<((i32, i64), (String, String))> {
    match tokio::time::timeout(within, consumer.recv()).await {
        Ok(message) => Some(entry(
            &message.expect("the consumer receives without error"),
        )),
        Err(_) => None,
    }
}

#[tokio::test]
async fn kafka_multi_partition_topic_with_committed_consumer_group() {
    tokio::time::timeout(TEST_TIMEOUT, kafka_scenario())
        .await
        .expect("the Kafka scenario finishes in time");
}

async fn kafka_scenario() {
    let started = Instant::now();
    let broker = KafkaBroker::start().expect("the broker starts");
    eprintln!("broker {broker:?} ready after {:?}", started.elapsed());
    let topic = unique_name("smoke-posts");
    let group = unique_name("smoke-group");
    broker
        .create_topic(&topic, 2)
        .await
        .expect("the topic is created");

    // Produce keyed messages; the broker's answers say where each went.
    let producer: FutureProducer = broker.producer_config().create().expect("producer");
    let mut sent = Messages::new();
    for i in 0..MESSAGES {
        let (key, payload) = (format!("post-{i}"), format!("payload-{i}"));
        let record = FutureRecord::to(&topic).key(&key).payload(&payload);
        let delivery = producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(err, _)| err)
            .expect("the broker acknowledges the message");
        sent.insert((delivery.partition, delivery.offset), (key, payload));
    }
    let mut per_partition = BTreeMap::<i32, i64>::new();
    for (partition, _) in sent.keys() {
        *per_partition.entry(*partition).or_default() += 1;
    }
    assert_eq!(
        per_partition.keys().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([0, 1]),
        "{MESSAGES} keys land on both partitions of the topic"
    );
    for (partition, count) in &per_partition {
        let offsets: Vec<i64> = sent
            .keys()
            .filter(|(p, _)| p == partition)
            .map(|(_, o)| *o)
            .collect();
        assert_eq!(
            offsets,
            (0..*count).collect::<Vec<_>>(),
            "dense offsets in partition {partition}"
        );
    }
    eprintln!("produced {MESSAGES} messages after {:?}", started.elapsed());

    // A consumer group reads everything exactly as it was sent, then commits.
    let consumer: StreamConsumer = broker
        .consumer_config(&group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let mut received = Messages::new();
    while received.len() < MESSAGES {
        let (at, message) = recv(&consumer, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("only {} of {MESSAGES} messages arrived", received.len()));
        assert!(received.insert(at, message).is_none(), "no message twice");
    }
    assert_eq!(received, sent);
    eprintln!("consumed {MESSAGES} messages after {:?}", started.elapsed());
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("offsets are committed");
    let committed = consumer
        .committed(Duration::from_secs(10))
        .expect("committed offsets can be read back");
    for (partition, count) in &per_partition {
        let offset = committed
            .find_partition(&topic, *partition)
            .map(|element| element.offset());
        assert_eq!(
            offset,
            Some(Offset::Offset(*count)),
            "committed offset of partition {partition}"
        );
    }
    // A partition list from librdkafka can hold references into the consumer's internals:
    // while one lives, dropping the consumer waits for it forever.
    drop(committed);
    drop(consumer);

    // One more message, then a new member of the same group: it must start where the group
    // committed, so the new message is the first and only one it sees.
    let (key, payload) = ("post-0".to_owned(), "after-close".to_owned());
    let delivery = producer
        .send(
            FutureRecord::to(&topic).key(&key).payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(err, _)| err)
        .expect("the broker acknowledges the message");
    assert_eq!(delivery.offset, per_partition[&delivery.partition]);
    let resumed: StreamConsumer = broker
        .consumer_config(&group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    resumed.subscribe(&[&topic]).expect("subscribe");
    let first = recv(&resumed, Duration::from_secs(30))
        .await
        .expect("the new message arrives");
    assert_eq!(
        first,
        ((delivery.partition, delivery.offset), (key, payload))
    );
    assert_eq!(
        recv(&resumed, Duration::from_secs(2)).await,
        None,
        "nothing else is delivered"
    );
    eprintln!(
        "resumed from committed offsets after {:?}",
        started.elapsed()
    );
    drop(resumed);
    drop(producer);

    // Dropping the broker stops it and removes its directory.
    if let Some(log_path) = broker.log_path().map(ToOwned::to_owned) {
        let addr = broker.bootstrap_servers().to_owned();
        assert!(log_path.exists());
        drop(broker);
        assert!(!log_path.exists(), "the broker's directory is removed");
        assert!(TcpStream::connect(&addr).is_err(), "the broker is stopped");
    }
}

#[tokio::test]
async fn redis_set_get_and_stop_on_drop() {
    let redis = RedisServer::start().expect("redis starts");
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}/", redis.port()));
    let client = redis::Client::open(redis.url()).expect("valid URL");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    con.set("case:1", "open").await.expect("SET");
    assert_eq!(
        con.get("case:1").await.expect("GET").as_deref(),
        Some("open")
    );
    assert_eq!(con.get("case:2").await.expect("GET"), None);
    drop(con);

    let (addr, data_dir) = (redis.addr(), redis.data_dir().to_owned());
    drop(redis);
    assert!(TcpStream::connect(addr).is_err(), "the server is stopped");
    assert!(!data_dir.exists(), "its directory is removed");
}

#[tokio::test]
async fn redis_with_aof_keeps_acknowledged_writes_across_a_crash() {
    let options = RedisOptions {
        appendonly: true,
        ..RedisOptions::default()
    };
    let mut redis = RedisServer::start_with(options).expect("redis starts");
    let client = redis::Client::open(redis.url()).expect("valid URL");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    con.set("case:1", "open").await.expect("SET");
    for _ in 0..3 {
        con.incr("cases", 1).await.expect("INCR");
    }
    con.rpush("audit:case:1", &["created", "claimed"])
        .await
        .expect("RPUSH");
    drop(con);

    let port = redis.port();
    redis.restart().expect("redis restarts");
    assert_eq!(redis.port(), port, "same port after a restart");
    assert!(redis.data_dir().join("appendonlydir").is_dir());

    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("reconnects");
    assert_eq!(
        con.get("case:1").await.expect("GET").as_deref(),
        Some("open")
    );
    assert_eq!(con.get("cases").await.expect("GET").as_deref(), Some("3"));
    assert_eq!(
        con.lrange("audit:case:1", 0, -1).await.expect("LRANGE"),
        ["created", "claimed"]
    );
}

/// The control for the test above: `restart` really replaces the process, so without an
/// append-only file everything is gone.
#[tokio::test]
async fn redis_without_aof_loses_everything_across_a_crash() {
    let mut redis = RedisServer::start().expect("redis starts");
    let client = redis::Client::open(redis.url()).expect("valid URL");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    con.set("case:1", "open").await.expect("SET");
    drop(con);

    redis.stop();
    assert!(!redis.is_running());
    assert!(
        client.get_multiplexed_async_connection().await.is_err(),
        "the server is down"
    );
    redis.restart().expect("redis restarts");
    assert!(redis.is_running());
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("reconnects");
    assert_eq!(con.get("case:1").await.expect("GET"), None);
}

/// A server that cannot come back says why, with its log; once the way is clear it can.
#[test]
fn redis_restart_reports_why_it_failed() {
    let mut redis = RedisServer::start().expect("redis starts");
    redis.stop();
    let squatter = std::net::TcpListener::bind(redis.addr()).expect("the port is free");
    let error = redis.restart().expect_err("the port is taken");
    let message = error.to_string();
    assert!(message.contains("Address already in use"), "{message}");
    assert!(!redis.is_running());

    drop(squatter);
    redis.restart().expect("redis restarts");
    assert!(TcpStream::connect(redis.addr()).is_ok());
}
