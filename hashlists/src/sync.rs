//! Pulling lists from their sources, with checkpoints.
//!
//! A sync holds the list's sync lease for its whole run, so two syncs of one list never
//! interleave, and commits each unit of work (a page, a file) as one version together with the
//! source's checkpoint after it. A sync that dies resumes from its last committed checkpoint; a
//! checkpoint never moves backwards (the store refuses it).
//!
//! Sources:
//! - a **file**: the whole list; entries not in it are deleted. Its checkpoint is the file's
//!   modification time in milliseconds, so an unchanged file is not re-read.
//! - a **directory** of delta files (pages or daily drops) processed in name order; the
//!   checkpoint is the last file name done.
//! - an **HTTP** source serving Tech Against Terrorism JSON pages: the first request carries
//!   `?checkpoint=<stored>` and `next` links are followed; `deleted: true` entries are removed.

use crate::formats::{self, Format};
use crate::model::ListId;
use crate::store::{ImportOptions, ImportSummary, Store, StoreError};
use std::io::BufReader;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

/// Errors of a sync.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store failed (including: another sync holds the list).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A source file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The source could not be fetched.
    #[error("fetching {url}: {reason}")]
    Http {
        /// The URL (without credentials).
        url: String,
        /// Why.
        reason: String,
    },
    /// A page or file is not a readable document.
    #[error("{what}: {reason}")]
    Document {
        /// Which page or file.
        what: String,
        /// Why.
        reason: String,
    },
}

/// Where a list comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// One file holding the whole list.
    File {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// A directory of delta files, applied in name order.
    Dir {
        /// The directory.
        path: PathBuf,
        /// The files' format.
        format: Format,
    },
    /// An HTTP endpoint serving Tech Against Terrorism JSON pages.
    Http {
        /// The first page's URL.
        url: String,
        /// A bearer token, if the endpoint needs one (never logged).
        token: Option<String>,
        /// Per-request timeout.
        timeout: Duration,
    },
}

impl Source {
    /// Parses `file:PATH`, `dir:PATH` (with a format) or an `http(s)://` URL.
    pub fn parse(spec: &str, format: Format, token: Option<String>) -> Result<Source, String> {
        if let Some(path) = spec.strip_prefix("file:") {
            Ok(Source::File {
                path: path.into(),
                format,
            })
        } else if let Some(path) = spec.strip_prefix("dir:") {
            Ok(Source::Dir {
                path: path.into(),
                format,
            })
        } else if spec.starts_with("http://") || spec.starts_with("https://") {
            Ok(Source::Http {
                url: spec.to_string(),
                token,
                timeout: Duration::from_secs(30),
            })
        } else {
            Err(format!(
                "source {spec:?} must be file:PATH, dir:PATH or an http(s) URL"
            ))
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncSummary {
    /// Pages or files applied.
    pub units: u64,
    /// Versions committed.
    pub versions: Vec<u64>,
    /// Totals over all units.
    pub added: u64,
    /// Entries updated.
    pub updated: u64,
    /// Entries deleted.
    pub deleted: u64,
    /// Records skipped as invalid.
    pub invalid: u64,
    /// The checkpoint after the sync.
    pub checkpoint: Option<String>,
}

impl SyncSummary {
    fn add(&mut self, s: &ImportSummary, checkpoint: Option<String>) {
        self.units += 1;
        self.versions.extend(s.version);
        self.added += s.added;
        self.updated += s.updated;
        self.deleted += s.deleted;
        self.invalid += s.invalid;
        if checkpoint.is_some() {
            self.checkpoint = checkpoint;
        }
    }
}

/// Options of a sync.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Skip invalid records instead of failing the unit they are in.
    pub skip_invalid: bool,
    /// Stop after this many pages (HTTP), for bounded runs.
    pub max_pages: Option<u64>,
}

/// Syncs `list` from `source` under the list's sync lease.
pub async fn sync(
    store: &Store,
    list: &ListId,
    source: &Source,
    actor: &str,
    options: &SyncOptions,
) -> Result<SyncSummary, SyncError> {
    let lease = store.sync_lease(list, actor).await?;
    let result = run(store, list, source, actor, options, &lease).await;
    lease.release().await?;
    result
}

async fn run(
    store: &Store,
    list: &ListId,
    source: &Source,
    actor: &str,
    options: &SyncOptions,
    lease: &crate::store::Lease,
) -> Result<SyncSummary, SyncError> {
    let stored = store.state(list).await?.checkpoint;
    let mut summary = SyncSummary {
        checkpoint: stored.clone(),
        ..SyncSummary::default()
    };
    let import = |checkpoint: Option<String>, replace: bool| ImportOptions {
        skip_invalid: options.skip_invalid,
        replace,
        actor: format!("sync by {actor}"),
        checkpoint,
    };
    match source {
        Source::File { path, format } => {
            let modified = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map_err(|e| io_error(path, e))?;
            let checkpoint = modified
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                .to_string();
            if stored.as_deref() == Some(checkpoint.as_str()) {
                return Ok(summary);
            }
            let records = read_file(path, *format)?;
            let done = store
                .import(list, records, &import(Some(checkpoint.clone()), true))
                .await?;
            summary.add(&done, Some(checkpoint));
        }
        Source::Dir { path, format } => {
            let mut names: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| io_error(path, e))?
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            for name in names {
                if stored.as_deref().is_some_and(|cp| name.as_str() <= cp) {
                    continue;
                }
                lease.renew().await?;
                let records = read_file(&path.join(&name), *format)?;
                let done = store
                    .import(list, records, &import(Some(name.clone()), false))
                    .await?;
                summary.add(&done, Some(name));
            }
        }
        Source::Http {
            url,
            token,
            timeout,
        } => {
            let client = reqwest::Client::builder()
                .timeout(*timeout)
                .build()
                .map_err(|e| http_error(url, e))?;
            let mut next = Some(match &stored {
                Some(cp) => with_query(url, "checkpoint", cp),
                None => url.clone(),
            });
            while let Some(page_url) = next.take() {
                if options.max_pages.is_some_and(|m| summary.units >= m) {
                    break;
                }
                lease.renew().await?;
                let mut request = client.get(&page_url);
                if let Some(t) = token {
                    request = request.bearer_auth(t);
                }
                let response = request.send().await.map_err(|e| http_error(&page_url, e))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(SyncError::Http {
                        url: redact(&page_url),
                        reason: format!("HTTP {status}"),
                    });
                }
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| http_error(&page_url, e))?;
                let parsed = formats::read(Format::Tat, std::io::Cursor::new(body.to_vec()))
                    .map_err(|e| SyncError::Document {
                        what: redact(&page_url),
                        reason: e.to_string(),
                    })?;
                let checkpoint = parsed.page.checkpoint.clone();
                let done = store
                    .import(list, parsed.records, &import(checkpoint.clone(), false))
                    .await?;
                summary.add(&done, checkpoint);
                next = parsed.page.next;
            }
        }
    }
    Ok(summary)
}

fn read_file(
    path: &std::path::Path,
    format: Format,
) -> Result<impl Iterator<Item = Result<formats::Record, formats::RecordError>> + use<>, SyncError>
{
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let parsed = formats::read(format, BufReader::new(file)).map_err(|e| SyncError::Document {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(parsed.records)
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> SyncError {
    SyncError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn http_error(url: &str, e: reqwest::Error) -> SyncError {
    SyncError::Http {
        url: redact(url),
        reason: e.without_url().to_string(),
    }
}

/// The URL without its query string, which may carry credentials.
fn redact(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let encoded: String = value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{url}{sep}{key}={encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert!(matches!(
            Source::parse("file:/x.txt", Format::Plain, None),
            Ok(Source::File { .. })
        ));
        assert!(matches!(
            Source::parse("dir:/d", Format::Tat, None),
            Ok(Source::Dir { .. })
        ));
        assert!(matches!(
            Source::parse("https://h/p", Format::Tat, None),
            Ok(Source::Http { .. })
        ));
        assert!(Source::parse("ftp://h", Format::Tat, None).is_err());
    }

    #[test]
    fn checkpoint_query_is_encoded_and_urls_redacted() {
        assert_eq!(
            with_query("http://h/p", "checkpoint", "a b&c"),
            "http://h/p?checkpoint=a%20b%26c"
        );
        assert_eq!(
            with_query("http://h/p?x=1", "checkpoint", "7"),
            "http://h/p?x=1&checkpoint=7"
        );
        assert_eq!(redact("http://h/p?token=secret"), "http://h/p");
    }
}
