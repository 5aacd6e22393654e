//! `takedown hash`: signals of files on disk, for building lists and checking matches by hand.
//!
//! Every file is attempted; one that fails yields an error record (with a stable code) in place
//! of its signals, and the exit code is 1 if any failed. Files are hashed on all cores and
//! written in the order they were found, so output is deterministic. Videos (recognised by
//! their content) get vPDQ instead of PDQ, computed by `takedown-video` with FFmpeg.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use takedown_core::VpdqFrame;
use takedown_core::vpdq::{python_seconds, to_reference_file, to_signal_string};
use takedown_core::{ErrorCode, SignalType};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer, Signals};
use takedown_video::VpdqOptions;

/// Output formats of `takedown hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    Jsonl,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// The vPDQ reference CLI's file (`frame,quality,hash,seconds`), for one video.
    Vpdq,
}

/// Arguments of `takedown hash`.
#[derive(clap::Args, Debug)]
pub struct HashArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: OutputFormat,
    /// Signals to compute, comma-separated: pdq, md5, sha256, sha512, dhash, phash, vpdq.
    /// A video gets vPDQ when pdq or vpdq is asked for.
    #[arg(long, value_delimiter = ',', default_value = "pdq,md5,sha256")]
    pub signals: Vec<SignalType>,
    /// vPDQ: seconds between hashed frames (0: every frame), as the reference's
    /// `--secondsPerHash`; HMA and python-threatexchange use 1.
    #[arg(long, default_value_t = 1.0, value_parser = parse_seconds_per_hash)]
    pub seconds_per_hash: f64,
    /// Hash images larger than 512 px at full size (python-threatexchange/HMA convention)
    /// instead of the reference tool's 512×512 pre-resize.
    #[arg(long)]
    pub pdq_full_size: bool,
    /// Largest file read, in bytes.
    #[arg(long, env = "TAKEDOWN_MAX_MEDIA_BYTES", default_value_t = DecodeLimits::default().max_input_bytes)]
    pub max_bytes: usize,
    /// Files or directories (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// One output record: the signals of a file, or why it failed.
#[derive(Debug, Serialize)]
struct Record {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq_quality: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha512: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dhash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phash: Option<String>,
    /// A video's frames as pytx's signal items (`"<hex>,<quality>,<seconds>"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    vpdq: Option<Vec<String>>,
    #[serde(skip)]
    vpdq_frames: Vec<VpdqFrame>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RecordError>,
}

#[derive(Debug, Serialize)]
struct RecordError {
    code: ErrorCode,
    message: String,
}

impl Record {
    fn ok(path: String, s: Signals) -> Self {
        Record {
            path,
            pdq: s.pdq.map(|p| p.hash.to_string()),
            pdq_quality: s.pdq.map(|p| p.quality),
            md5: s.md5.map(|d| d.to_string()),
            sha256: s.sha256.map(|d| d.to_string()),
            sha512: s.sha512.map(|d| d.to_string()),
            dhash: s.dhash,
            phash: s.phash,
            vpdq: None,
            vpdq_frames: Vec::new(),
            error: None,
        }
    }

    fn video(path: String, s: Signals, frames: Option<Vec<VpdqFrame>>) -> Self {
        let mut record = Record::ok(path, s);
        if let Some(frames) = frames {
            record.vpdq = Some(signal_items(&frames));
            record.vpdq_frames = frames;
        }
        record
    }

    fn failed(path: String, code: ErrorCode, message: String) -> Self {
        Record {
            path,
            pdq: None,
            pdq_quality: None,
            md5: None,
            sha256: None,
            sha512: None,
            dhash: None,
            phash: None,
            vpdq: None,
            vpdq_frames: Vec::new(),
            error: Some(RecordError { code, message }),
        }
    }

    /// Values in the order of [`csv_header`].
    fn csv_fields(&self, signals: &[SignalType]) -> Vec<String> {
        let mut out = vec![self.path.clone()];
        for t in signals {
            match t {
                SignalType::Pdq => {
                    out.push(self.pdq.clone().unwrap_or_default());
                    out.push(self.pdq_quality.map(|q| q.to_string()).unwrap_or_default());
                }
                SignalType::Md5 => out.push(self.md5.clone().unwrap_or_default()),
                SignalType::Sha256 => out.push(self.sha256.clone().unwrap_or_default()),
                SignalType::Sha512 => out.push(self.sha512.clone().unwrap_or_default()),
                SignalType::Dhash => out.push(self.dhash.clone().unwrap_or_default()),
                SignalType::Phash => out.push(self.phash.clone().unwrap_or_default()),
                SignalType::Vpdq => out.push(
                    self.vpdq
                        .as_ref()
                        .map(|_| to_signal_string(&self.vpdq_frames))
                        .unwrap_or_default(),
                ),
                // Refused by `run`: text signals are not computed from files.
                SignalType::TextRegex
                | SignalType::Url
                | SignalType::UrlMd5
                | SignalType::RawText => {}
            }
        }
        let (code, message) = match &self.error {
            Some(e) => (e.code.to_string(), e.message.clone()),
            None => (String::new(), String::new()),
        };
        out.push(code);
        out.push(message);
        out
    }
}

fn csv_header(signals: &[SignalType]) -> Vec<String> {
    let mut out = vec!["path".to_string()];
    for t in signals {
        out.push(t.to_string());
        if *t == SignalType::Pdq {
            out.push("pdq_quality".to_string());
        }
    }
    out.push("error_code".to_string());
    out.push("error_message".to_string());
    out
}

/// Quotes a CSV field when it holds a comma, quote or line break (RFC 4180), after putting a
/// `'` in front of a cell a spreadsheet would run as a formula (a file may be called
/// `=HYPERLINK(…).jpg`; see `takedown_hashlists::formats::spreadsheet_safe`).
fn csv_field(value: &str) -> String {
    let value = takedown_hashlists::formats::spreadsheet_safe(value);
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    quoted.join(",")
}

/// Lists the files under the given paths in a stable order; a path that cannot be read becomes
/// an error entry rather than stopping the walk.
fn collect_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, String)>> {
    let mut out = Vec::new();
    for root in paths {
        if root.is_dir() {
            for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => out.push(Ok(e.into_path())),
                    Ok(_) => {}
                    Err(err) => {
                        let path = err.path().unwrap_or(root).to_path_buf();
                        out.push(Err((path, err.to_string())));
                    }
                }
            }
        } else {
            out.push(Ok(root.clone()));
        }
    }
    out
}

fn read_capped(path: &Path, max_bytes: usize) -> Result<Vec<u8>, (ErrorCode, String)> {
    let file = std::fs::File::open(path).map_err(|e| (ErrorCode::Io, e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (ErrorCode::Io, e.to_string()))?;
    if bytes.len() > max_bytes {
        return Err((
            ErrorCode::TooLarge,
            format!("file is over the limit of {max_bytes} bytes"),
        ));
    }
    Ok(bytes)
}

/// The pytx signal items of frames (the signal string is their JSON array).
fn signal_items(frames: &[VpdqFrame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| format!("{},{},{}", f.hash, f.quality, python_seconds(f.timestamp)))
        .collect()
}

fn parse_seconds_per_hash(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds >= 0")),
    }
}

/// Whether the file starts like a video container (content sniffing, not the name).
fn looks_like_video(path: &Path) -> bool {
    let mut head = [0u8; 189];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    takedown_video::sniff::is_video(&head[..filled])
}

/// A video's digests and, when PDQ or vPDQ is wanted, its vPDQ.
fn hash_video(computer: &mut SignalComputer, path: &Path, args: &HashArgs) -> Record {
    let name = path.display().to_string();
    let options = VpdqOptions {
        seconds_per_hash: args.seconds_per_hash,
        ..VpdqOptions::default()
    };
    let digests: Vec<SignalType> = args
        .signals
        .iter()
        .copied()
        .filter(|t| t.hex_len().is_some() && !t.is_perceptual())
        .collect();
    let signals = if digests.is_empty() {
        Signals::default()
    } else {
        let bytes = match read_capped(path, options.limits.max_bytes as usize) {
            Ok(b) => b,
            Err((code, message)) => return Record::failed(name, code, message),
        };
        match computer.compute(&bytes, &digests) {
            Ok(signals) => signals,
            Err(err) => return Record::failed(name, err.code(), err.to_string()),
        }
    };
    let wants_vpdq = args
        .signals
        .iter()
        .any(|t| matches!(t, SignalType::Vpdq | SignalType::Pdq));
    if !wants_vpdq {
        return Record::video(name, signals, None);
    }
    match takedown_video::hash_file(path, &options) {
        Ok(video) => Record::video(name, signals, Some(video.frames)),
        Err(err) => Record::failed(name, err.code(), err.to_string()),
    }
}

fn hash_one(computer: &mut SignalComputer, path: &Path, args: &HashArgs) -> Record {
    if looks_like_video(path) {
        return hash_video(computer, path, args);
    }
    let name = path.display().to_string();
    if args.signals == [SignalType::Vpdq] {
        return Record::failed(
            name,
            ErrorCode::NoVideoStream,
            "not a video container (vpdq is computed from videos only)".into(),
        );
    }
    let bytes = match read_capped(path, args.max_bytes) {
        Ok(b) => b,
        Err((code, message)) => return Record::failed(name, code, message),
    };
    let wanted: Vec<SignalType> = args
        .signals
        .iter()
        .copied()
        .filter(|t| *t != SignalType::Vpdq)
        .collect();
    match computer.compute(&bytes, &wanted) {
        Ok(signals) => Record::ok(name, signals),
        Err(err) => Record::failed(name, err.code(), err.to_string()),
    }
}

/// Runs `takedown hash`, writing records to stdout; exit code 1 if any file failed.
pub fn run(args: &HashArgs) -> anyhow::Result<ExitCode> {
    if args.signals.is_empty() {
        bail!("--signals names no signal");
    }
    if let Some(t) = args.signals.iter().find(|t| {
        matches!(
            t,
            SignalType::TextRegex | SignalType::Url | SignalType::UrlMd5 | SignalType::RawText
        )
    }) {
        bail!("--signals: {t} is matched against post text, not a signal of a file");
    }
    let limits = DecodeLimits {
        max_input_bytes: args.max_bytes,
        ..DecodeLimits::default()
    };
    let pre_resize = if args.pdq_full_size {
        PreResize::FullSize
    } else {
        PreResize::Reference
    };
    let files = collect_files(&args.paths);
    if args.format == OutputFormat::Vpdq {
        return run_reference_format(&files, args);
    }
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files {per_sec} eta {eta}")
                .context("progress template")?,
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.format == OutputFormat::Csv {
        writeln!(out, "{}", csv_line(&csv_header(&args.signals)))?;
    }
    let mut failed = 0usize;
    // Chunks keep output streaming and ordered while every core works on a chunk.
    for chunk in files.chunks(256) {
        let records: Vec<Record> = chunk
            .par_iter()
            .map_init(
                || SignalComputer::new(limits, pre_resize),
                |computer, item| {
                    let record = match item {
                        Ok(path) => hash_one(computer, path, args),
                        Err((path, message)) => Record::failed(
                            path.display().to_string(),
                            ErrorCode::Io,
                            message.clone(),
                        ),
                    };
                    progress.inc(1);
                    record
                },
            )
            .collect();
        for record in &records {
            failed += usize::from(record.error.is_some());
            match args.format {
                OutputFormat::Jsonl => {
                    serde_json::to_writer(&mut out, record)?;
                    writeln!(out)?;
                }
                OutputFormat::Csv => {
                    writeln!(out, "{}", csv_line(&record.csv_fields(&args.signals)))?
                }
                // Written by `run_reference_format` before this loop.
                OutputFormat::Vpdq => {}
            }
        }
        out.flush()?;
    }
    progress.finish_and_clear();
    if failed > 0 {
        eprintln!("{failed} of {} files failed", files.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--format vpdq`: the reference CLI's file for one video on stdout.
fn run_reference_format(
    files: &[Result<PathBuf, (PathBuf, String)>],
    args: &HashArgs,
) -> anyhow::Result<ExitCode> {
    let [Ok(path)] = files else {
        bail!("--format vpdq writes one video's frames: give exactly one video file");
    };
    let options = VpdqOptions {
        seconds_per_hash: args.seconds_per_hash,
        ..VpdqOptions::default()
    };
    match takedown_video::hash_file(path, &options) {
        Ok(video) => {
            std::io::stdout().write_all(to_reference_file(&video.frames).as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("{}: {} ({})", path.display(), err, err.code());
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_neutralised() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1.jpg", "'+1.jpg"),
            ("-x.png", "'-x.png"),
            ("@SUM(A1).gif", "'@SUM(A1).gif"),
            ("\tcmd", "'\tcmd"),
            ("plain/=not-first.jpg", "plain/=not-first.jpg"),
        ] {
            assert_eq!(csv_field(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn csv_header_follows_requested_signals() {
        let header = csv_header(&[SignalType::Md5, SignalType::Pdq]);
        assert_eq!(
            header,
            [
                "path",
                "md5",
                "pdq",
                "pdq_quality",
                "error_code",
                "error_message"
            ]
        );
    }
}
