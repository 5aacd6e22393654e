//! Running FFmpeg's programs as bounded child processes.
//!
//! The child runs under `prlimit` (CPU seconds, address space, no core files) and a wall-clock
//! watchdog that kills it at the deadline; its standard error is kept (the tail only) for the
//! error message. The caller streams the standard output.

use crate::error::VideoError;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How much of the child's standard error is kept.
const STDERR_TAIL: usize = 2048;
/// `RLIMIT_CPU` sends SIGXCPU at the soft limit.
const SIGXCPU: i32 = 24;
/// prlimit's exit status when it cannot execute the program.
const EXEC_FAILED: [i32; 2] = [126, 127];

/// The limits one child runs under.
pub(crate) struct Bounds {
    /// CPU seconds.
    pub cpu_seconds: u64,
    /// Address-space bytes.
    pub memory_bytes: u64,
    /// When the watchdog kills the child.
    pub deadline: Instant,
}

/// A child that ran to its end (or was stopped by its CPU limit).
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Finished {
    /// The child's error output, trimmed, for messages.
    pub fn message(&self) -> String {
        let text = self.stderr.trim();
        if text.is_empty() {
            format!("exit status {}", self.status)
        } else {
            text.to_string()
        }
    }
}

/// Runs `program args…` under `bounds`, handing its standard output to `consume`. An error from
/// `consume` kills the child and is returned as is.
pub(crate) fn run(
    program: &'static str,
    args: &[OsString],
    bounds: &Bounds,
    consume: impl FnOnce(&mut ChildStdout) -> Result<(), VideoError>,
) -> Result<Finished, VideoError> {
    let remaining = bounds.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(VideoError::Timeout {
            budget: "wall-clock",
        });
    }
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--cpu={}", bounds.cpu_seconds.max(1)))
        .arg(format!("--as={}", bounds.memory_bytes))
        .arg("--core=0")
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| VideoError::DecoderUnavailable {
            program: "prlimit",
            message: e.to_string(),
        })?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut tail = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * STDERR_TAIL {
                tail.drain(..tail.len() - STDERR_TAIL);
            }
        }
        let start = tail.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&tail[start..]).into_owned()
    });
    let child = Arc::new(Mutex::new(child));
    let timed_out = Arc::new(AtomicBool::new(false));
    let (done, wait_done) = mpsc::channel::<()>();
    let watchdog = {
        let child = Arc::clone(&child);
        let timed_out = Arc::clone(&timed_out);
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait_done.recv_timeout(remaining) {
                timed_out.store(true, Ordering::SeqCst);
                let _ = lock(&child).kill();
            }
        })
    };
    let consumed = consume(&mut stdout);
    if consumed.is_err() {
        let _ = lock(&child).kill();
    }
    drop(stdout);
    let status = lock(&child).wait();
    let _ = done.send(());
    let _ = watchdog.join();
    let stderr = stderr_reader.join().unwrap_or_default();
    if timed_out.load(Ordering::SeqCst) {
        return Err(VideoError::Timeout {
            budget: "wall-clock",
        });
    }
    consumed?;
    let status = status?;
    if status.signal() == Some(SIGXCPU) || status.signal() == Some(9) {
        return Err(VideoError::Timeout { budget: "CPU-time" });
    }
    if let Some(code) = status.code()
        && EXEC_FAILED.contains(&code)
        && stderr.contains(program)
    {
        return Err(VideoError::DecoderUnavailable {
            program,
            message: stderr.trim().to_string(),
        });
    }
    Ok(Finished { status, stderr })
}

fn lock(child: &Mutex<Child>) -> std::sync::MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|p| p.into_inner())
}
