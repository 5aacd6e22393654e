//! A real S3-compatible server on loopback for the evidence store's S3 backend: `s3s-fs`, which
//! serves a directory over the S3 API with signature checks (each bucket is a subdirectory).
//! `scripts/install-test-deps` installs it with `cargo install` into the tools directory.

use crate::error::{Error, Result};
use crate::process::{LOG_TAIL_LINES, Spec, Supervised, free_port, log_tail};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Names the `s3s-fs` program, overriding the tools directory.
pub const S3S_FS_BIN_ENV: &str = "TAKEDOWN_S3S_FS_BIN";
/// Keep in step with scripts/install-test-deps.
const S3S_IN_TOOLS_DIR: &str = "s3s-fs-0.14.1/bin/s3s-fs";
const SERVICE: &str = "s3s-fs";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `s3s-fs` with one bucket, its data in a temporary directory.
pub struct S3Server {
    // The process is stopped before its directory is removed.
    _process: Supervised,
    port: u16,
    bucket: String,
    /// The access key id clients sign with.
    pub access_key: String,
    /// The secret key clients sign with.
    pub secret_key: String,
    _dir: TempDir,
}

impl std::fmt::Debug for S3Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Server")
            .field("endpoint", &self.endpoint())
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

fn program() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(S3S_FS_BIN_ENV) {
        return Ok(PathBuf::from(p));
    }
    let tools = std::env::var_os(crate::kafka::TOOLS_DIR_ENV)
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/takedown/tools"))
        })
        .unwrap_or_default();
    let path = tools.join(S3S_IN_TOOLS_DIR);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::NotInstalled {
            service: SERVICE,
            path,
            hint: "run scripts/install-test-deps (cargo install s3s-fs)",
        })
    }
}

impl S3Server {
    /// Starts a server with the bucket `bucket` and waits until it accepts connections.
    pub fn start(bucket: &str) -> Result<Self> {
        let program = program()?;
        let io = |action: &'static str| {
            move |source| Error::Io {
                service: SERVICE,
                action,
                source,
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("takedown-s3-")
            .tempdir()
            .map_err(io("creating its temporary directory"))?;
        let root = dir.path().join("data");
        std::fs::create_dir_all(root.join(bucket)).map_err(io("creating the bucket"))?;
        let port = free_port().map_err(io("finding a free port"))?;
        let (access_key, secret_key) = (
            "takedown-test".to_string(),
            crate::names::unique_name("secret"),
        );
        let log_path = dir.path().join("s3s-fs.log");
        let args = vec![
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string().into(),
            "--access-key".into(),
            access_key.clone().into(),
            "--secret-key".into(),
            secret_key.clone().into(),
            root.into_os_string(),
        ];
        let mut process = Supervised::spawn(&Spec {
            service: SERVICE,
            program: &program,
            args,
            cwd: dir.path(),
            log_path: &log_path,
            env: &[("RUST_LOG", "warn")],
            env_remove: &[],
        })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Some(status) = process.exit_status()? {
                return Err(Error::Exited {
                    service: SERVICE,
                    status,
                    log_tail: log_tail(&log_path, 0, LOG_TAIL_LINES),
                });
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::NotReady {
                    service: SERVICE,
                    waited: READY_TIMEOUT,
                    log_tail: log_tail(&log_path, 0, LOG_TAIL_LINES),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(S3Server {
            _process: process,
            port,
            bucket: bucket.to_string(),
            access_key,
            secret_key,
            _dir: dir,
        })
    }

    /// The endpoint URL: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The directory of the bucket's objects, to inspect or tamper with in tests.
    pub fn bucket_dir(&self) -> PathBuf {
        self._dir.path().join("data").join(&self.bucket)
    }
}
