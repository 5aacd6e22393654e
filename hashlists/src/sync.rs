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
//! - a **directory** of delta files (pages or daily drops) processed in checkpoint order
//!   ([`crate::checkpoint`]: numeric names numerically); the checkpoint is the last file name done.
//! - an **HTTP** source serving Tech Against Terrorism JSON pages, asked as
//!   python-threatexchange's client asks: the first request carries `?order=asc` and, once a
//!   checkpoint is stored, `&after=<stored>`; `next` links are followed as given; `deleted:
//!   true` entries are removed.
//!   The bearer token goes only to the source's own origin (scheme, host, port) and only over
//!   HTTPS: a `next` link or redirect to another origin is refused, and plain `http://` is
//!   refused unless the host is loopback and [`HttpOptions::allow_insecure_loopback`] is set.
//!   A page larger than [`HttpOptions::max_page_bytes`] is refused while it streams.

use crate::checkpoint;
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
    /// The sync refused to send a request (credentials or list data would travel insecurely or
    /// to another origin).
    #[error("refusing {url}: {reason}")]
    Refused {
        /// The URL (without query string).
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
        /// How the endpoint may be reached.
        options: HttpOptions,
    },
}

/// How an HTTP source may be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Allow plain `http://` to a loopback host (127.0.0.0/8, `::1`, `localhost`): tests and a
    /// local mirror. Any other `http://` source is refused.
    pub allow_insecure_loopback: bool,
    /// Largest page accepted, in bytes; a larger one is refused while it streams.
    pub max_page_bytes: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            allow_insecure_loopback: false,
            max_page_bytes: formats::MAX_DOCUMENT_BYTES,
        }
    }
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
                options: HttpOptions::default(),
            })
        } else {
            Err(format!(
                "source {spec:?} must be file:PATH, dir:PATH or an http(s) URL"
            ))
        }
    }
}

impl Source {
    /// The same source with `options` for HTTP (other sources are unchanged).
    pub fn with_http_options(self, options: HttpOptions) -> Source {
        match self {
            Source::Http { url, token, .. } => Source::Http {
                url,
                token,
                options,
            },
            other => other,
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
            // In checkpoint order (numeric names numerically), as the commit compares them.
            names.sort_by(|a, b| checkpoint::compare(a, b));
            for name in names {
                if stored
                    .as_deref()
                    .is_some_and(|cp| !checkpoint::is_backwards(cp, &name))
                {
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
            options: http,
        } => {
            let origin = checked_origin(url, http)?;
            let allowed = origin.origin();
            let client = reqwest::Client::builder()
                .timeout(http.timeout)
                // Redirects stay on the source's origin: the token and the list's data only
                // ever travel between us and the source we were configured with.
                .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= 10 {
                        attempt.error("too many redirects")
                    } else if attempt.url().origin() != allowed {
                        let to = redact(attempt.url().as_str());
                        attempt.error(format!("redirect to another origin ({to}) refused"))
                    } else {
                        attempt.follow()
                    }
                }))
                .build()
                .map_err(|e| http_error(url, e))?;
            // As python-threatexchange's client asks: oldest first, after the stored checkpoint.
            let first = with_query(url, "order", "asc");
            let mut next = Some(match &stored {
                Some(cp) => with_query(&first, "after", cp),
                None => first,
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
                let body = read_capped(response, http.max_page_bytes, &page_url).await?;
                let parsed =
                    formats::read(Format::Tat, std::io::Cursor::new(body)).map_err(|e| {
                        SyncError::Document {
                            what: redact(&page_url),
                            reason: e.to_string(),
                        }
                    })?;
                let checkpoint = parsed.page.checkpoint.clone();
                let done = store
                    .import(list, parsed.records, &import(checkpoint.clone(), false))
                    .await?;
                summary.add(&done, checkpoint);
                next = match parsed.page.next {
                    Some(link) => Some(next_link(&origin, &page_url, &link)?),
                    None => None,
                };
            }
        }
    }
    Ok(summary)
}

/// The source URL's origin, if we may send it requests: `https://` anywhere, plain `http://`
/// only to a loopback host and only when allowed explicitly.
fn checked_origin(url: &str, http: &HttpOptions) -> Result<reqwest::Url, SyncError> {
    let refuse = |reason: String| SyncError::Refused {
        url: redact(url),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| refuse(format!("not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if http.allow_insecure_loopback && is_loopback(&parsed) => {}
        "http" => {
            return Err(refuse(
                "plain http:// would expose the token and the list to anyone on the path; use \
                 https:// (http:// is allowed only to a loopback host, with \
                 --allow-insecure-loopback)"
                    .into(),
            ));
        }
        other => return Err(refuse(format!("scheme {other:?} is not https"))),
    }
    Ok(parsed)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The next page's URL, resolved against the current one; refused unless it has the
/// source's origin (scheme, host and port), since the request would carry the token.
fn next_link(origin: &reqwest::Url, page_url: &str, link: &str) -> Result<String, SyncError> {
    let base = reqwest::Url::parse(page_url).map_err(|e| SyncError::Document {
        what: redact(page_url),
        reason: e.to_string(),
    })?;
    let next = base.join(link).map_err(|e| SyncError::Document {
        what: redact(page_url),
        reason: format!("next link is not a URL: {e}"),
    })?;
    if next.origin() != origin.origin() {
        return Err(SyncError::Refused {
            url: redact(next.as_str()),
            reason: format!(
                "the next link of {} points at another origin; the token is only sent to {}",
                redact(page_url),
                origin.origin().ascii_serialization()
            ),
        });
    }
    Ok(next.into())
}

/// A response body of at most `cap` bytes: a declared length over it is refused before
/// reading, and a streamed body as soon as it passes the cap.
async fn read_capped(
    mut response: reqwest::Response,
    cap: u64,
    page_url: &str,
) -> Result<Vec<u8>, SyncError> {
    let too_large = || SyncError::Http {
        url: redact(page_url),
        reason: format!("page larger than {cap} bytes (the page size cap)"),
    };
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| http_error(page_url, e))?
    {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
    // The chain carries the redirect policy's reason.
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    SyncError::Http {
        url: redact(url),
        reason,
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
