//! The Kubernetes manifests, run: `kubectl kustomize k8s/overlays/small` is rendered, and each
//! Deployment's container (command, args, env, mounted ConfigMaps) and the list sync CronJob's
//! are started as local processes exactly as written, against a real Redis and broker. The
//! only changes are the ones a node would make: in-cluster service names become the loopback
//! addresses of the test services, `0.0.0.0:PORT` listen addresses become free loopback ports
//! (three pods share one host here), mount paths become temporary directories, Secrets get the
//! values an operator would create, and the sync job's ConfigMap names a local list file.
//!
//! A post sent to the topic ingest reads must come out as a case in the review API, which
//! proves the manifests' wiring (topics, brokers, Redis URL and prefixes, config file path,
//! ports, probe paths), not just their syntax. Each probe must answer 200 on the port it names,
//! every role's `/metrics` must count the post, and on SIGTERM each process must exit cleanly
//! within its pod's `terminationGracePeriodSeconds`.
//!
//! Needs `kubectl` and the k8s tools venv (PyYAML) from `scripts/install-test-deps`.

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use takedown::local::{jpeg, picture};
use takedown_core::SignalType;
use takedown_local_services::{KafkaBroker, RedisServer};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};

/// Labelled families the alerts use that have no sample (and so no line at all on `/metrics`)
/// until their first event: evidence capture failures by error code. This run captures
/// nothing, so they cannot show up here; `review/src/evidence.rs` registers them.
const FIRST_SEEN_ON_EVENT: [&str; 1] = ["takedown_evidence_capture_failures_total"];

/// The `takedown_*` sample names in a text (Prometheus exposition, PromQL, JSON), with a
/// histogram's `_bucket`, `_sum` and `_count` samples named by the histogram.
fn metric_names(text: &str) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("takedown_") {
        let preceded = at > 0 && rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        if !preceded {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            names.insert(base.to_string());
        }
        rest = &tail[end..];
    }
    names
}

/// The Redis password the test's Redis requires, as Secret `takedown-redis` would carry it.
const REDIS_PASSWORD: &str = "manifests-run-password";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The python of the k8s tools venv (PyYAML), as `scripts/k8s-tools-venv` installs it.
fn venv_python() -> PathBuf {
    if let Ok(p) = std::env::var("TAKEDOWN_K8S_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").expect("HOME");
    let python = PathBuf::from(home).join(".cache/takedown/k8s-tools-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (it creates the k8s tools venv) or set \
         TAKEDOWN_K8S_PYTHON",
        python.display()
    );
    python
}

/// The rendered objects of an overlay.
fn render(overlay: &str) -> Vec<Value> {
    let out = Command::new(venv_python())
        .arg(repo().join("k8s/tests/render.py"))
        .arg(repo().join(overlay))
        .output()
        .expect("running k8s/tests/render.py (needs kubectl)");
    assert!(
        out.status.success(),
        "rendering {overlay} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("render.py prints JSON")
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the overlay has no {kind} {name}"))
}

fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the "node" knows: ConfigMaps and Secrets by name, and the in-cluster addresses
/// mapped onto the test services.
struct Cluster {
    config_maps: HashMap<String, HashMap<String, String>>,
    secrets: HashMap<String, HashMap<String, String>>,
    /// (in-cluster `host:port`, loopback `host:port`), longest first.
    addresses: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn rewrite_addresses(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.addresses {
            out = out.replace(from, to);
        }
        out
    }
}

/// A container turned into a local process.
struct Launch {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Named container ports and the loopback ports they became.
    ports: HashMap<String, u16>,
    grace: Duration,
    container: Value,
}

/// Expands `$(VAR)` in an argument as the kubelet does (only variables the container
/// defines; others stay as written).
fn expand(arg: &str, env: &[(String, String)]) -> String {
    let mut out = arg.to_string();
    for (k, v) in env {
        out = out.replace(&format!("$({k})"), v);
    }
    out
}

fn launch(cluster: &Cluster, pod: &Value) -> Launch {
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "one container per pod");
    let c = &containers[0];
    let name = str_of(&c["name"]).to_string();
    let root = cluster.dir.path().join(&name);

    // Listen addresses: each named containerPort becomes a free loopback port.
    let mut ports = HashMap::new();
    let mut rewrites: Vec<(String, String)> = Vec::new();
    for p in c["ports"].as_array().into_iter().flatten() {
        let local = free_port();
        let container_port = p["containerPort"].as_u64().expect("containerPort");
        ports.insert(str_of(&p["name"]).to_string(), local);
        rewrites.push((
            format!("0.0.0.0:{container_port}"),
            format!("127.0.0.1:{local}"),
        ));
    }
    let rewrite = |text: &str| {
        let mut out = cluster.rewrite_addresses(text);
        for (from, to) in &rewrites {
            out = out.replace(from, to);
        }
        out
    };

    // Mounts: ConfigMap and Secret volumes become directories of their (rewritten) files,
    // emptyDirs empty directories, and a PersistentVolumeClaim one directory per claim that
    // every pod mounting it shares (as the volume is shared).
    let volumes: HashMap<&str, &Value> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (str_of(&v["name"]), v))
        .collect();
    let mut mounts: Vec<(String, String)> = Vec::new();
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let volume = volumes[str_of(&m["name"])];
        let dir = match volume.get("persistentVolumeClaim") {
            Some(claim) => cluster
                .dir
                .path()
                .join("volumes")
                .join(str_of(&claim["claimName"])),
            None => root.join(str_of(&m["name"])),
        };
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(cm) = volume.get("configMap") {
            let data = &cluster.config_maps[str_of(&cm["name"])];
            for (file, text) in data {
                std::fs::write(dir.join(file), rewrite(text)).unwrap();
            }
        } else if let Some(secret) = volume.get("secret") {
            let secret_name = str_of(&secret["secretName"]);
            let data = cluster
                .secrets
                .get(secret_name)
                .unwrap_or_else(|| panic!("{name}: volume names a missing Secret {secret_name}"));
            for (file, text) in data {
                std::fs::write(dir.join(file), text).unwrap();
            }
        } else if volume.get("emptyDir").is_none() && volume.get("persistentVolumeClaim").is_none()
        {
            panic!("container {name}: volume kind of {volume} not mapped by this test");
        }
        mounts.push((
            str_of(&m["mountPath"]).to_string(),
            dir.to_str().unwrap().to_string(),
        ));
    }
    // A path under a mount, onto its directory (once: the directories are under /tmp too).
    let map_paths = |text: String| match mounts
        .iter()
        .find(|(from, _)| text == *from || text.starts_with(&format!("{from}/")))
    {
        Some((from, to)) => text.replacen(from.as_str(), to, 1),
        None => text,
    };

    let mut env = Vec::new();
    for e in c["env"].as_array().into_iter().flatten() {
        let key = str_of(&e["name"]).to_string();
        let value = if let Some(v) = e.get("value") {
            Some(str_of(v).to_string())
        } else if let Some(r) = e["valueFrom"].get("configMapKeyRef") {
            let data = cluster
                .config_maps
                .get(str_of(&r["name"]))
                .unwrap_or_else(|| panic!("{name}: env {key} names a missing ConfigMap"));
            Some(
                data.get(str_of(&r["key"]))
                    .unwrap_or_else(|| panic!("{name}: env {key} names a missing key"))
                    .clone(),
            )
        } else if let Some(r) = e["valueFrom"].get("secretKeyRef") {
            let found = cluster
                .secrets
                .get(str_of(&r["name"]))
                .and_then(|s| s.get(str_of(&r["key"])))
                .cloned();
            assert!(
                found.is_some() || r["optional"] == true,
                "{name}: env {key} needs Secret {} key {}",
                r["name"],
                r["key"]
            );
            found
        } else {
            panic!("{name}: env {key}: source not mapped by this test: {e}");
        };
        if let Some(v) = value {
            env.push((key, map_paths(rewrite(&v))));
        }
    }

    let command: Vec<&str> = c["command"]
        .as_array()
        .expect("every container names its command")
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(
        command,
        ["/usr/local/bin/takedown"],
        "the image's binary (Dockerfile)"
    );
    let args = c["args"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| map_paths(rewrite(&expand(str_of(a), &env))))
        .collect();
    let grace = Duration::from_secs(
        pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("every pod sets terminationGracePeriodSeconds"),
    );
    Launch {
        name,
        program: PathBuf::from(env!("CARGO_BIN_EXE_takedown")),
        args,
        env,
        ports,
        grace,
        container: c.clone(),
    }
}

impl Launch {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).env_clear().stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs to completion (a Job's container); panics unless it exits 0.
    fn run(&self) -> String {
        let out = self.command().output().unwrap();
        assert!(
            out.status.success(),
            "{} {:?} failed: {}",
            self.name,
            self.args,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn spawn(&self, log_dir: &Path) -> Proc {
        let log = std::fs::File::create(log_dir.join(format!("{}.log", self.name))).unwrap();
        let child = self
            .command()
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Proc {
            name: self.name.clone(),
            child,
            log: log_dir.join(format!("{}.log", self.name)),
        }
    }

    /// The URL of an httpGet probe of this container.
    fn probe_url(&self, probe: &str) -> Option<String> {
        let get = self.container[probe].get("httpGet")?;
        let port = self.ports[str_of(&get["port"])];
        Some(format!("http://127.0.0.1:{port}{}", str_of(&get["path"])))
    }
}

struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM, as the kubelet does, and waits up to `grace` for a clean exit.
    fn terminate(&mut self, grace: Duration) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "{} exited with {status}: {}",
                    self.name,
                    self.log()
                );
                return;
            }
            assert!(
                start.elapsed() < grace,
                "{} still running {grace:?} after SIGTERM (terminationGracePeriodSeconds): {}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `url` answers 200 (a process just started needs a moment to bind, a consumer
/// to get its partitions).
async fn wait_ok(url: &str, proc: &Proc, within: Duration) {
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(url).await
            && r.status() == 200
        {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{url} of {} did not answer 200 within {within:?}: {}",
            proc.name,
            proc.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn pod_of<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let o = object(objects, kind, name);
    match kind {
        "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &o["spec"]["template"]["spec"],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_small_overlay_runs_a_post_through_to_a_case() {
    let objects = render("k8s/overlays/small");
    let redis = RedisServer::start().unwrap();
    let broker = KafkaBroker::start().unwrap();
    let auth = Command::new("redis-cli")
        .args([
            "-p",
            &redis.port().to_string(),
            "CONFIG",
            "SET",
            "requirepass",
        ])
        .arg(REDIS_PASSWORD)
        .output()
        .expect("redis-cli (Debian's redis-tools, beside redis-server)");
    assert!(
        auth.status.success() && auth.stdout.starts_with(b"OK"),
        "{auth:?}"
    );

    // Every topic the Strimzi example declares, with its partitions.
    for t in objects.iter().filter(|o| o["kind"] == "KafkaTopic") {
        let partitions = t["spec"]["partitions"].as_i64().unwrap() as i32;
        broker
            .create_topic(str_of(&t["spec"]["topicName"]), partitions)
            .await
            .unwrap();
    }

    // Service names onto loopback: the Redis Service and Strimzi's bootstrap service.
    let namespace =
        str_of(&object(&objects, "StatefulSet", "takedown-redis")["metadata"]["namespace"])
            .to_string();
    let redis_service = object(&objects, "Service", "takedown-redis");
    let redis_port = redis_service["spec"]["ports"][0]["port"].as_u64().unwrap();
    let kafka = objects
        .iter()
        .find(|o| o["kind"] == "Kafka")
        .expect("the small overlay's Kafka");
    let kafka_port = kafka["spec"]["kafka"]["listeners"][0]["port"]
        .as_u64()
        .unwrap();
    // Strimzi names the bootstrap Service after the cluster.
    let bootstrap = format!("{}-kafka-bootstrap", str_of(&kafka["metadata"]["name"]));
    let mut addresses = Vec::new();
    for (host, port, to) in [
        ("takedown-redis", redis_port, redis.addr().to_string()),
        (
            bootstrap.as_str(),
            kafka_port,
            broker.bootstrap_servers().to_string(),
        ),
    ] {
        for name in [
            format!("{host}.{namespace}.svc.cluster.local"),
            format!("{host}.{namespace}.svc"),
            host.to_string(),
        ] {
            addresses.push((format!("{name}:{port}"), to.clone()));
        }
    }

    let config_maps: HashMap<String, HashMap<String, String>> = objects
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .map(|o| {
            let data = o["data"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), str_of(v).to_string()))
                .collect();
            (str_of(&o["metadata"]["name"]).to_string(), data)
        })
        .collect();
    let mut cluster = Cluster {
        config_maps,
        secrets: HashMap::new(),
        addresses,
        dir: tempfile::tempdir().unwrap(),
    };
    // The Secret docs/deploy.md tells the operator to create, with the in-cluster address.
    cluster.secrets.insert(
        "takedown-redis".into(),
        HashMap::from([(
            "url".to_string(),
            format!("redis://:{REDIS_PASSWORD}@takedown-redis:{redis_port}/"),
        )]),
    );
    // The evidence key docs/deploy.md tells the operator to generate.
    cluster.secrets.insert(
        "takedown-evidence-key".into(),
        HashMap::from([("keys".to_string(), format!("{}\n", "5a".repeat(32)))]),
    );

    // The list: one generated picture, as a plain file the sync job reads (its ConfigMap is
    // the operator's to fill in; here it names the file).
    let listed = picture(4242, 320, 240);
    let jpeg_bytes = jpeg(&listed, 90);
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let pdq = computer
        .compute(&jpeg_bytes, &[SignalType::Pdq])
        .unwrap()
        .pdq
        .unwrap()
        .hash;
    let list_file = cluster.dir.path().join("list.txt");
    std::fs::write(&list_file, format!("pdq {pdq}\n")).unwrap();
    let sync_config = cluster
        .config_maps
        .iter_mut()
        .find(|(k, _)| k.starts_with("takedown-lists-sync"))
        .expect("ConfigMap takedown-lists-sync")
        .1;
    let list = sync_config["list"].clone();
    sync_config.insert("source".into(), format!("file:{}", list_file.display()));
    sync_config.insert("format".into(), "plain".into());

    let sync_job = launch(&cluster, pod_of(&objects, "CronJob", "takedown-lists-sync"));
    // The operator creates the list once (docs/deploy.md), with the job's own image and env.
    let mut create = sync_job.clone_with_args(&["lists", "create", &list, "--severity", "high"]);
    create.name = "lists-create".into();
    create.run();
    let summary: Value = serde_json::from_str(&sync_job.run()).expect("a JSON summary");
    assert_eq!(
        (summary["added"].as_u64(), summary["invalid"].as_u64()),
        (Some(1), Some(0)),
        "sync summary: {summary}"
    );

    let logs = cluster.dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let roles: Vec<Launch> = ["takedown-ingest", "takedown-match", "takedown-review"]
        .iter()
        .map(|d| launch(&cluster, pod_of(&objects, "Deployment", d)))
        .collect();
    let mut procs: Vec<Proc> = roles.iter().map(|l| l.spawn(&logs)).collect();
    // Startup, then readiness and liveness, on the ports and paths the probes name.
    for (role, proc) in roles.iter().zip(&procs) {
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let url = role
                .probe_url(probe)
                .unwrap_or_else(|| panic!("{} has an httpGet {probe}", role.name));
            wait_ok(&url, proc, Duration::from_secs(90)).await;
        }
    }

    // A post whose picture is listed, on the topic ingest reads by default.
    let producer: FutureProducer = broker.producer_config().create().unwrap();
    let post = serde_json::json!({
        "post_id": "k8s-post-1", "platform": "k8s-test", "author_id": "a",
        "created_at": "2026-12-01T10:00:00Z", "text": "hello",
        "media": [{"media_id": "m1", "data_base64":
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &jpeg_bytes)}],
    });
    let payload = serde_json::to_vec(&post).unwrap();
    producer
        .send(
            FutureRecord::to("posts")
                .key("k8s-post-1")
                .payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    // And a post that is not JSON: ingest must dead-letter it (to `posts.dlq`) and go on.
    producer
        .send(
            FutureRecord::to("posts")
                .key("k8s-bad-1")
                .payload(&b"{\"post_id\": "[..]),
            Duration::from_secs(10),
        )
        .await
        .unwrap();

    // The case, through the review API (a moderator's token, issued with the review
    // container's own command and env).
    let review = &roles[2];
    let token = review
        .clone_with_args(&[
            "review",
            "tokens",
            "add",
            "--name",
            "k8s",
            "--role",
            "moderator",
        ])
        .run();
    let token = token.trim();
    let case = takedown_review::model::derive_id("m", &["k8s-test", "k8s-post-1", "m1"]);
    let url = format!(
        "http://127.0.0.1:{}/api/v1/cases/{case}",
        review.ports["http"]
    );
    let http = reqwest::Client::new();
    let start = Instant::now();
    let body = loop {
        let r = http.get(&url).bearer_auth(token).send().await.unwrap();
        if r.status() == 200 {
            break r.json::<Value>().await.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no case {case} after 120 s (last status {}); logs:\n{}",
            r.status(),
            procs
                .iter()
                .map(|p| format!("--- {}\n{}", p.name, p.log()))
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(body.to_string().contains("k8s-post-1"), "{body}");

    // The report archive job moves the case's ledger event out of Redis into the month file
    // on the report volume, which the review pod's reports page reads (TAKEDOWN_REPORTS_DIR).
    let archive = launch(
        &cluster,
        pod_of(&objects, "CronJob", "takedown-reports-archive"),
    );
    archive.run();
    let env_of = |l: &Launch, key: &str| {
        l.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| panic!("{} sets {key}", l.name))
    };
    let reports_dir = env_of(review, "TAKEDOWN_REPORTS_DIR");
    assert_eq!(reports_dir, env_of(&archive, "TAKEDOWN_REPORTS_DIR"));
    // One file per month of the events' times (the receipt time: the wall clock here).
    let mut month = String::new();
    for f in std::fs::read_dir(reports_dir.join("ledger")).expect("the ledger directory") {
        month += &std::fs::read_to_string(f.unwrap().path()).unwrap();
    }
    assert!(
        month.contains("\"case_opened\"") && month.contains(&case),
        "the archived ledger holds the case's opening: {month}"
    );
    // The submit job (suspended until the platform has a token) reads the same outbox.
    cluster.secrets.insert(
        "takedown-sor".into(),
        HashMap::from([("token".to_string(), "sandbox-token".to_string())]),
    );
    let submit = launch(&cluster, pod_of(&objects, "CronJob", "takedown-sor-submit"));
    assert_eq!(reports_dir, env_of(&submit, "TAKEDOWN_REPORTS_DIR"));
    submit.clone_with_args(&["report", "sor", "status"]).run();

    // The bad post's dead letter, counted by code on ingest's metrics port.
    let ingest_metrics = format!("http://127.0.0.1:{}/metrics", roles[0].ports["metrics"]);
    let start = Instant::now();
    while !reqwest::get(&ingest_metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("takedown_messages_dead_lettered_total{stage=\"ingest\",code=")
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "ingest did not dead-letter the bad post: {}",
            procs[0].log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Each role counted its input on the port its metrics Service names (ingest both posts).
    let mut exported = HashSet::new();
    for (role, (stage, consumed)) in roles
        .iter()
        .zip([("ingest", 2), ("match", 1), ("review", 1)])
    {
        let text = reqwest::get(format!(
            "http://127.0.0.1:{}/metrics",
            role.ports["metrics"]
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        let line = format!("takedown_messages_consumed_total{{stage=\"{stage}\"}} {consumed}");
        assert!(
            text.contains(&line),
            "{stage} /metrics lacks {line}:\n{text}"
        );
        exported.extend(metric_names(&text));
    }
    // Every takedown_* metric the alerts and the dashboard use is one the roles export.
    let production = render("k8s/overlays/production");
    let mut used = HashSet::new();
    for o in &production {
        if o["kind"] == "PrometheusRule" || o["metadata"]["labels"]["grafana_dashboard"] == "1" {
            used.extend(metric_names(&o.to_string()));
        }
    }
    assert!(
        used.len() >= 10,
        "the rules and dashboard use takedown metrics: {used:?}"
    );
    let missing: Vec<&String> = used
        .iter()
        .filter(|m| !exported.contains(*m) && !FIRST_SEEN_ON_EVENT.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "used but not exported: {missing:?}; exported: {exported:?}"
    );

    for (role, proc) in roles.iter().zip(procs.iter_mut()) {
        proc.terminate(role.grace);
    }
}

impl Launch {
    /// The same container with other arguments (`kubectl exec` of a tool in it).
    fn clone_with_args(&self, args: &[&str]) -> Launch {
        Launch {
            name: format!("{}-tool", self.name),
            program: self.program.clone(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: self.env.clone(),
            ports: HashMap::new(),
            grace: self.grace,
            container: self.container.clone(),
        }
    }
}
