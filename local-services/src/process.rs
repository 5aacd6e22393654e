//! A service process that cannot outlive the test process that started it.
//!
//! Every service runs under a tiny `sh` watchdog. The watchdog starts the service in the
//! background and blocks reading its own stdin, which is a pipe whose only writer is us. When
//! we stop the service (or when the test process dies in any way at all: a panic that aborts,
//! SIGKILL from a test runner's timeout, a `static` that is never dropped) the pipe closes, the
//! read returns, and the watchdog kills the service with SIGKILL and reaps it. A plain
//! `std::process::Child` would instead leave orphaned brokers behind on a shared CI machine,
//! and stopping a child by signal ourselves would need `unsafe` (`libc::kill`), which the
//! workspace forbids.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::Error;

/// The watchdog. `$@` is the service's command line. The service gets no stdin and does not
/// inherit the pipe (fd 3 is closed for it); a background subshell holds the pipe and kills the
/// service once the pipe yields a line or EOF; the shell itself waits for the service and exits
/// with its status, so a service that dies on its own is seen as the watchdog's exit.
const WATCHDOG: &str = r#"exec 3<&0 </dev/null
"$@" 3<&- &
service=$!
( read -r _ <&3; kill -KILL "$service" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$service"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// How long [`Supervised::stop`] waits for the watchdog before killing it outright.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How many log lines an error or a panic report shows.
pub(crate) const LOG_TAIL_LINES: usize = 40;

/// What to start: the service's program, arguments, working directory and log file.
pub(crate) struct Spec<'a> {
    /// Human name used in errors ("redis-server", "tansu").
    pub service: &'static str,
    /// The program to run.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its working directory.
    pub cwd: &'a Path,
    /// File that receives both stdout and stderr (appended, so a restart keeps the history).
    pub log_path: &'a Path,
    /// Extra environment variables.
    pub env: &'a [(&'a str, &'a str)],
    /// Environment variables to remove, so the developer's shell cannot change the service.
    pub env_remove: &'a [&'a str],
}

/// A running service under its watchdog. Dropping it stops the service.
pub(crate) struct Supervised {
    service: &'static str,
    /// The watchdog shell; its exit status is the service's.
    watchdog: Child,
    /// The write end of the watchdog's stdin: dropping it is the stop signal.
    stop_pipe: Option<ChildStdin>,
    /// Where the service's output goes, for diagnostics.
    log_path: PathBuf,
    /// Where in the log this run's output starts (a restart appends to the same file).
    log_start: u64,
}

impl Supervised {
    /// Starts `spec` under a watchdog.
    pub(crate) fn spawn(spec: &Spec<'_>) -> Result<Self, Error> {
        let io_err = |action: &'static str| {
            move |source| Error::Io {
                service: spec.service,
                action,
                source,
            }
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(spec.log_path)
            .map_err(io_err("creating its log file"))?;
        let log_start = log
            .metadata()
            .map_err(io_err("creating its log file"))?
            .len();
        let log_err = log.try_clone().map_err(io_err("creating its log file"))?;
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("takedown-watchdog")
            .arg(spec.program)
            .args(&spec.args)
            .current_dir(spec.cwd)
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log_err);
        for key in spec.env_remove {
            command.env_remove(key);
        }
        for (key, value) in spec.env {
            command.env(key, value);
        }
        let mut watchdog = command.spawn().map_err(io_err("starting it"))?;
        let stop_pipe = watchdog.stdin.take();
        Ok(Self {
            service: spec.service,
            watchdog,
            stop_pipe,
            log_path: spec.log_path.to_owned(),
            log_start,
        })
    }

    /// The exit status if the service has already exited.
    pub(crate) fn exit_status(&mut self) -> Result<Option<ExitStatus>, Error> {
        self.watchdog.try_wait().map_err(|source| Error::Io {
            service: self.service,
            action: "checking whether it is running",
            source,
        })
    }

    /// Path of the file holding the service's stdout and stderr.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last lines this run of the service wrote to its log.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log_path, self.log_start, LOG_TAIL_LINES)
    }

    /// Kills the service (SIGKILL) and waits until it is gone. Idempotent.
    pub(crate) fn stop(&mut self) {
        // Closing the pipe makes the watchdog kill and reap the service, then exit.
        drop(self.stop_pipe.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match self.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => break,
                Ok(None) => thread::sleep(Duration::from_millis(10)),
            }
        }
        // The watchdog is stuck: kill it too. Its watcher subshell still holds the pipe's
        // read end and kills the service when it reads EOF.
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // A failing test is far easier to understand with the service's view of it.
        if thread::panicking() {
            eprintln!(
                "--- last lines of the {} log ({}) ---\n{}\n--- end of the {} log ---",
                self.service,
                self.log_path.display(),
                self.log_tail(),
                self.service,
            );
        }
        self.stop();
    }
}

/// A loopback TCP port that was free a moment ago.
///
/// Another process may take it before the service binds it; callers detect that (the service
/// exits, or a different server answers) and retry with a new port.
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The last `lines` lines of a log file from byte `from` on (at most the last 64 KiB of it),
/// or a note saying why there are none.
pub(crate) fn log_tail(path: &Path, from: u64, lines: usize) -> String {
    const MAX_BYTES: u64 = 64 * 1024;
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES).max(from)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) if text.trim().is_empty() => "(the log is empty)".to_owned(),
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
        assert_eq!(log_tail(&path, 0, 2), "two\nthree");
        assert_eq!(log_tail(&path, 0, 10), "one\ntwo\nthree");
        assert_eq!(log_tail(&path, 4, 10), "two\nthree");
        assert_eq!(log_tail(&path, 14, 10), "(the log is empty)");
        std::fs::write(&path, "").unwrap();
        assert_eq!(log_tail(&path, 0, 2), "(the log is empty)");
        assert!(log_tail(&dir.path().join("missing"), 0, 2).starts_with("(cannot read"));
    }

    #[test]
    fn stopping_kills_the_service_and_a_dead_service_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("log");
        let spec = |args: Vec<&'static str>| Spec {
            service: "sleep",
            program: Path::new("/bin/sh"),
            args: args.into_iter().map(OsString::from).collect(),
            cwd: dir.path(),
            log_path: &log_path,
            env: &[],
            env_remove: &[],
        };

        // A long-running service is still running until stopped; stopping is quick and leaves
        // no process behind (the service itself, not only its watchdog, is gone and reaped).
        let mut sleeper = Supervised::spawn(&spec(vec!["-c", "echo $$; exec sleep 600"])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let pid = loop {
            if let Ok(pid) = sleeper.log_tail().parse::<u32>() {
                break pid;
            }
            assert!(Instant::now() < deadline, "the service did not start");
            thread::sleep(Duration::from_millis(10));
        };
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        assert!(proc_dir.exists());
        assert!(sleeper.exit_status().unwrap().is_none());
        let started = Instant::now();
        sleeper.stop();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(sleeper.exit_status().unwrap().is_some());
        assert!(!proc_dir.exists(), "the service outlived its watchdog");

        // A service that exits on its own is reported with its status.
        let mut quitter = Supervised::spawn(&spec(vec!["-c", "exit 3"])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = quitter.exit_status().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the watchdog did not report the exit"
            );
            thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(3));
    }
}
