//! `redis-server` on a free loopback port, in a temporary directory of its own.

use std::env;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::process::{Spec, Supervised, free_port};

/// Environment variable naming the `redis-server` program to run (default: `redis-server`
/// from `PATH`).
pub const REDIS_SERVER_BIN_ENV: &str = "TAKEDOWN_REDIS_SERVER_BIN";

const SERVICE: &str = "redis-server";
const INSTALL_HINT: &str = "run scripts/install-test-deps (it installs Debian's redis-server) \
                            or set TAKEDOWN_REDIS_SERVER_BIN";
/// How many free ports [`RedisServer::start_with`] tries before giving up.
const PORT_ATTEMPTS: u32 = 5;

/// How to run a [`RedisServer`].
///
/// Build it with struct update syntax so new options do not break callers:
/// `RedisOptions { appendonly: true, ..RedisOptions::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// Persist every write to an append-only file, fsynced before the write is acknowledged
    /// (`--appendonly yes --appendfsync always`), as production runs. Without it the server
    /// keeps nothing across [`RedisServer::restart`] (no RDB snapshots either: `--save ""`).
    pub appendonly: bool,
    /// How long to wait for the server to answer `PING`, each time it starts.
    pub startup_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            appendonly: false,
            startup_timeout: Duration::from_secs(20),
        }
    }
}

/// A `redis-server` process listening on `127.0.0.1` on a port of its own, stopped when
/// dropped.
///
/// Its data directory (and the log of everything the server printed, `redis.log`) is a
/// temporary directory, removed on drop.
pub struct RedisServer {
    // Field order matters: the process is stopped before its directory is removed.
    /// The running server; `None` after [`RedisServer::stop`].
    process: Option<Supervised>,
    /// The port, kept across restarts so clients can reconnect to the same URL.
    port: u16,
    /// The `redis-server` program.
    program: PathBuf,
    options: RedisOptions,
    /// The data directory, canonical, as the server reports it in `CONFIG GET dir`.
    data_dir: PathBuf,
    _dir: TempDir,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("url", &self.url())
            .field("running", &self.process.is_some())
            .field("data_dir", &self.data_dir)
            .field("options", &self.options)
            .finish()
    }
}

impl RedisServer {
    /// Starts a server with [`RedisOptions::default`] (no persistence) and waits until it
    /// answers.
    pub fn start() -> Result<Self> {
        Self::start_with(RedisOptions::default())
    }

    /// Starts a server with `options` and waits until it answers.
    pub fn start_with(options: RedisOptions) -> Result<Self> {
        let program = redis_program()?;
        let dir = tempfile::Builder::new()
            .prefix("takedown-redis-")
            .tempdir()
            .map_err(|source| Error::Io {
                service: SERVICE,
                action: "creating its temporary directory",
                source,
            })?;
        let data_dir = dir.path().canonicalize().map_err(|source| Error::Io {
            service: SERVICE,
            action: "resolving its temporary directory",
            source,
        })?;
        let mut attempt = 1;
        loop {
            let port = free_port().map_err(|source| Error::Io {
                service: SERVICE,
                action: "finding a free port",
                source,
            })?;
            match launch(&program, port, &data_dir, &options) {
                Ok(process) => {
                    return Ok(Self {
                        process: Some(process),
                        port,
                        program,
                        options,
                        data_dir,
                        _dir: dir,
                    });
                }
                // Another process took the port between our check and the server's bind.
                Err(Launch::PortTaken(_)) if attempt < PORT_ATTEMPTS => attempt += 1,
                Err(Launch::PortTaken(error) | Launch::Failed(error)) => return Err(error),
            }
        }
    }

    /// The URL clients connect to: `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The options the server runs with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// The server's data directory (append-only files live in `appendonlydir/` inside it).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file holding everything the server printed.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("redis.log")
    }

    /// Whether the server is running (it is, unless [`RedisServer::stop`] was called or
    /// [`RedisServer::restart`] failed).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// Kills the server as a crash would (SIGKILL: no shutdown save, no final fsync) and waits
    /// until it is gone. Its port and data directory are kept for [`RedisServer::restart`].
    /// Clients see connection errors until then. Does nothing if it is not running.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Kills the server as a crash would (see [`RedisServer::stop`]), then starts it again on
    /// the same port with the same data directory, and waits until it answers (which, with
    /// [`RedisOptions::appendonly`], is after it has replayed the append-only file).
    ///
    /// So a test can prove that what Redis acknowledged survives a crash. Connections made
    /// before the restart are broken: make new ones.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        // The port was ours a moment ago; something else taking it now is very unlikely, so
        // only wait a little for it rather than moving (which would change the URL).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match launch(&self.program, self.port, &self.data_dir, &self.options) {
                Ok(process) => {
                    self.process = Some(process);
                    return Ok(());
                }
                Err(Launch::PortTaken(_)) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(100));
                }
                Err(Launch::PortTaken(error) | Launch::Failed(error)) => return Err(error),
            }
        }
    }
}

/// Why a launch failed: the port was taken (worth trying another), or anything else.
enum Launch {
    PortTaken(Error),
    Failed(Error),
}

/// The `redis-server` to run: `$TAKEDOWN_REDIS_SERVER_BIN`, else the first in `PATH`.
fn redis_program() -> Result<PathBuf> {
    if let Some(path) = env::var_os(REDIS_SERVER_BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::NotInstalled {
                service: SERVICE,
                path,
                hint: INSTALL_HINT,
            })
        };
    }
    env::var_os("PATH")
        .iter()
        .flat_map(env::split_paths)
        .map(|dir| dir.join(SERVICE))
        .find(|path| path.is_file())
        .ok_or(Error::NotInstalled {
            service: SERVICE,
            path: PathBuf::from("redis-server (in PATH)"),
            hint: INSTALL_HINT,
        })
}

/// Starts `redis-server` on `port` in `data_dir` and waits until it answers.
fn launch(
    program: &Path,
    port: u16,
    data_dir: &Path,
    options: &RedisOptions,
) -> Result<Supervised, Launch> {
    let mut args: Vec<OsString> = Vec::new();
    let mut arg = |name: &str, value: &str| {
        args.push(name.into());
        args.push(value.into());
    };
    arg("--port", &port.to_string());
    arg("--bind", "127.0.0.1");
    arg("--save", "");
    arg("--daemonize", "no");
    arg("--logfile", "");
    if options.appendonly {
        arg("--appendonly", "yes");
        arg("--appendfsync", "always");
    } else {
        arg("--appendonly", "no");
    }
    args.push("--dir".into());
    args.push(data_dir.into());

    let log_path = data_dir.join("redis.log");
    let mut process = Supervised::spawn(&Spec {
        service: SERVICE,
        program,
        args,
        cwd: data_dir,
        log_path: &log_path,
        env: &[],
        env_remove: &[],
    })
    .map_err(Launch::Failed)?;

    let started = Instant::now();
    loop {
        if let Some(status) = process.exit_status().map_err(Launch::Failed)? {
            let log_tail = process.log_tail();
            let port_taken = log_tail.contains("Address already in use");
            let error = Error::Exited {
                service: SERVICE,
                status,
                log_tail,
            };
            return Err(if port_taken {
                Launch::PortTaken(error)
            } else {
                Launch::Failed(error)
            });
        }
        match probe(port) {
            Ok(Some(dir)) if Path::new(&dir) == data_dir => return Ok(process),
            // A server, but not ours: someone else won the race for the port. Ours fails to
            // bind and exits; stop it now rather than wait.
            Ok(Some(dir)) => {
                process.stop();
                return Err(Launch::PortTaken(Error::NotReady {
                    service: SERVICE,
                    waited: started.elapsed(),
                    log_tail: format!(
                        "port {port} is taken by another Redis server (its dir is {dir})"
                    ),
                }));
            }
            // Not listening yet, or still loading its append-only file.
            Ok(None) | Err(_) => {}
        }
        if started.elapsed() > options.startup_timeout {
            let log_tail = process.log_tail();
            return Err(Launch::Failed(Error::NotReady {
                service: SERVICE,
                waited: started.elapsed(),
                log_tail,
            }));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Asks the server on `port` for `PING` and, once it answers `PONG`, for its data directory,
/// which tells our server from any other. `Ok(None)`: it is up but not ready (e.g. `LOADING`).
fn probe(port: u16) -> io::Result<Option<String>> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;

    writer.write_all(&encode(&["PING"]))?;
    match read_reply(&mut reader)? {
        Reply::Simple(pong) if pong == "PONG" => {}
        _ => return Ok(None),
    }
    writer.write_all(&encode(&["CONFIG", "GET", "dir"]))?;
    match read_reply(&mut reader)? {
        Reply::Array(items) => match items.as_slice() {
            [Reply::Bulk(Some(name)), Reply::Bulk(Some(dir))] if name == b"dir" => {
                Ok(Some(String::from_utf8_lossy(dir).into_owned()))
            }
            _ => Err(io::Error::other("unexpected reply to CONFIG GET dir")),
        },
        _ => Ok(None),
    }
}

/// A RESP2 reply, as much of it as [`probe`] needs.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

/// Encodes a command as a RESP array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// Reads one RESP2 reply.
fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let line = line
        .strip_suffix("\r\n")
        .ok_or_else(|| invalid("unterminated line"))?;
    let (kind, rest) = line
        .split_at_checked(1)
        .ok_or_else(|| invalid("empty line"))?;
    let number = || rest.parse::<i64>().map_err(|_| invalid("bad length"));
    Ok(match kind {
        "+" => Reply::Simple(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Integer(number()?),
        "$" => match usize::try_from(number()?) {
            Err(_) => Reply::Bulk(None),
            Ok(len) => {
                let mut data = vec![0; len + 2];
                reader.read_exact(&mut data)?;
                data.truncate(len);
                Reply::Bulk(Some(data))
            }
        },
        "*" => {
            let len = usize::try_from(number()?).unwrap_or(0);
            let items = (0..len)
                .map(|_| read_reply(reader))
                .collect::<io::Result<_>>()?;
            Reply::Array(items)
        }
        _ => return Err(invalid("unknown reply type")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_as_resp_arrays() {
        assert_eq!(encode(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            encode(&["CONFIG", "GET", "dir"]),
            b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n"
        );
    }

    #[test]
    fn reads_resp_replies() {
        let parse = |bytes: &[u8]| read_reply(&mut &bytes[..]);
        assert_eq!(parse(b"+PONG\r\n").unwrap(), Reply::Simple("PONG".into()));
        assert_eq!(
            parse(b"-LOADING Redis is loading\r\n").unwrap(),
            Reply::Error("LOADING Redis is loading".into())
        );
        assert_eq!(parse(b":42\r\n").unwrap(), Reply::Integer(42));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Bulk(None));
        assert_eq!(
            parse(b"*2\r\n$3\r\ndir\r\n$8\r\n/tmp/a\r\n\r\n").unwrap(),
            Reply::Array(vec![
                Reply::Bulk(Some(b"dir".to_vec())),
                Reply::Bulk(Some(b"/tmp/a\r\n".to_vec())),
            ])
        );
        assert!(parse(b"+PONG").is_err());
        assert!(parse(b"$5\r\nab").is_err());
        assert!(parse(b"?\r\n").is_err());
        assert!(parse(b"").is_err());
    }
}
