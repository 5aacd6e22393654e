//! The statements-of-reasons outbox: every decision's statement reaches the EU Transparency
//! Database at least once, and is counted once.
//!
//! Statements are not stored twice: they are a pure function of the ledger's decisions (and
//! the mapping), so the outbox only keeps what happened to each puid, in an append-only file
//! (`sor/results.jsonl`, fsynced after every batch): `stored` with the database's uuid and
//! permalink, `refused` with its errors (or our local validation's) for a compliance officer,
//! `retry` when one asks to send a refused statement again. Pending is every statement whose
//! latest result is neither stored nor refused. The puid is derived from the decision, so a
//! resend after a crash (the answer lost before the result was written) meets the database's
//! duplicate-puid refusal, which is taken as stored.

use crate::event::Event;
use crate::ledger::{Ledger, LedgerError};
use crate::mapping::Mapping;
use crate::validate::{FieldErrors, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What happened to one puid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    /// In the database.
    Stored {
        /// The database's id (`None` when learnt from a duplicate-puid answer).
        uuid: Option<String>,
        /// The public page.
        permalink: Option<String>,
    },
    /// Refused; parked until retried.
    Refused {
        /// Field → messages.
        errors: FieldErrors,
        /// `local` (our validation) or `database`.
        by: String,
    },
    /// Queued again by a person.
    Retry,
}

/// One line of `results.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ResultLine {
    pub(crate) puid: String,
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: time::OffsetDateTime,
}

/// Outbox failures.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The ledger.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The results file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A bad results line.
    #[error("{path} line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// Why.
        message: String,
    },
    /// The database refused our credentials (401/403) or answered what it never answers.
    #[error("transparency database: {0}")]
    Database(String),
    /// Still rate-limited or failing after every retry; what was not sent stays pending.
    #[error("transparency database unavailable after {attempts} attempts: {last}")]
    Unavailable {
        /// Attempts made for the last batch.
        attempts: u32,
        /// The last answer.
        last: String,
    },
    /// Transport.
    #[error("transparency database: {0}")]
    Http(#[from] reqwest::Error),
    /// The queue of statements sent again (Redis).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The outbox under a report directory.
#[derive(Debug, Clone)]
pub struct Outbox {
    path: PathBuf,
}

/// The outbox's state for the reports page and `sor status`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Status {
    /// Statements not yet stored nor refused.
    pub pending: u64,
    /// Stored: (puid, uuid, permalink).
    pub stored: Vec<(String, Option<String>, Option<String>)>,
    /// Refused: (puid, errors, by).
    pub refused: Vec<(String, FieldErrors, String)>,
}

impl Outbox {
    /// The outbox of `dir`. Its directory is created by the first [`Outbox::record`], so a
    /// reader (the reports page, on a read-only mount) can open one nothing was sent from.
    pub fn open(dir: &Path) -> Result<Outbox, OutboxError> {
        Ok(Outbox {
            path: dir.join("sor").join("results.jsonl"),
        })
    }

    /// The results file (`sor/results.jsonl`).
    pub fn results_path(&self) -> &Path {
        &self.path
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
        |source| OutboxError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// The latest outcome of every puid that has one.
    pub fn outcomes(&self) -> Result<HashMap<String, Outcome>, OutboxError> {
        let mut out = HashMap::new();
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(self.io()(e)),
        };
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(self.io())?;
            if line.trim().is_empty() {
                continue;
            }
            let r: ResultLine = serde_json::from_str(&line).map_err(|e| OutboxError::Line {
                path: self.path.clone(),
                line: i + 1,
                message: e.to_string(),
            })?;
            out.insert(r.puid, r.outcome);
        }
        Ok(out)
    }

    /// Appends outcomes and fsyncs.
    pub fn record(&self, results: &[(String, Outcome)]) -> Result<(), OutboxError> {
        if results.is_empty() {
            return Ok(());
        }
        let at = time::OffsetDateTime::now_utc();
        let mut buf = Vec::new();
        for (puid, outcome) in results {
            let line = ResultLine {
                puid: puid.clone(),
                outcome: outcome.clone(),
                at,
            };
            serde_json::to_writer(&mut buf, &line)
                .map_err(|e| OutboxError::Database(e.to_string()))?;
            buf.push(b'\n');
        }
        if let Some(d) = self.path.parent() {
            std::fs::create_dir_all(d).map_err(self.io())?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(self.io())?;
        f.write_all(&buf).map_err(self.io())?;
        f.sync_data().map_err(self.io())?;
        Ok(())
    }

    /// Queues a refused statement again.
    pub fn retry(&self, puid: &str) -> Result<bool, OutboxError> {
        match self.outcomes()?.get(puid) {
            Some(Outcome::Refused { .. }) => {
                self.record(&[(puid.to_string(), Outcome::Retry)])?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Calls `visit` with every statement still to send (streaming the ledger).
    pub fn pending(
        &self,
        ledger: &Ledger,
        mapping: &Mapping,
        mut visit: impl FnMut(Value),
    ) -> Result<u64, OutboxError> {
        let done = self.outcomes()?;
        let mut n = 0;
        ledger.scan(None, |e| {
            if let Event::Decision(d) = e
                && let Some(s) = crate::sor::statement(d, mapping)
            {
                let open = match done.get(&d.puid()) {
                    None | Some(Outcome::Retry) => true,
                    Some(_) => false,
                };
                if open {
                    n += 1;
                    visit(s);
                }
            }
        })?;
        Ok(n)
    }

    /// The outbox's state.
    pub fn status(&self, ledger: &Ledger, mapping: &Mapping) -> Result<Status, OutboxError> {
        let mut status = Status {
            pending: self.pending(ledger, mapping, |_| {})?,
            ..Status::default()
        };
        for (puid, o) in self.outcomes()? {
            match o {
                Outcome::Stored { uuid, permalink } => status.stored.push((puid, uuid, permalink)),
                Outcome::Refused { errors, by } => status.refused.push((puid, errors, by)),
                Outcome::Retry => {}
            }
        }
        status.stored.sort();
        status.refused.sort();
        Ok(status)
    }
}

/// Where and how to submit.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The database's base URL (`https://transparency.dsa.ec.europa.eu`, or the sandbox).
    pub base_url: String,
    /// The API token (never logged).
    pub token: String,
    /// Statements per call (1–100).
    pub batch: usize,
    /// Attempts per batch on 429 and 5xx.
    pub max_attempts: u32,
    /// The first backoff; doubles per attempt, capped at 30 s.
    pub backoff: Duration,
}

/// What one [`submit`] run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    /// Stored by this run (201).
    pub stored: u64,
    /// Already stored (duplicate puid), counted as stored.
    pub duplicates: u64,
    /// Refused by our validation.
    pub refused_locally: u64,
    /// Refused by the database.
    pub refused: u64,
    /// 429 and 5xx answers retried.
    pub retries: u64,
}

enum Reply {
    Stored(Vec<Value>),
    Invalid(HashMap<usize, FieldErrors>),
    Duplicates(Vec<String>),
    Retry(String),
}

fn errors_of(v: &Value) -> FieldErrors {
    let mut out = FieldErrors::new();
    if let Some(o) = v.as_object() {
        for (k, msgs) in o {
            let list = msgs
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|m| m.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            out.insert(k.clone(), list);
        }
    }
    out
}

async fn post(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    batch: &[Value],
) -> Result<Reply, OutboxError> {
    let url = format!("{}/api/v1/statements", cfg.base_url.trim_end_matches('/'));
    let resp = http
        .post(url)
        .bearer_auth(&cfg.token)
        .header("Accept", "application/json")
        .json(&json!({ "statements": batch }))
        .send()
        .await?;
    let code = resp.status().as_u16();
    let body = resp.text().await?;
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    match code {
        201 => Ok(Reply::Stored(
            json["statements"].as_array().cloned().unwrap_or_default(),
        )),
        422 => {
            let errors = &json["errors"];
            if let Some(existing) = errors["existing_puids"].as_array() {
                return Ok(Reply::Duplicates(
                    existing
                        .iter()
                        .filter_map(|p| p.as_str().map(String::from))
                        .collect(),
                ));
            }
            let mut per = HashMap::new();
            if let Some(o) = errors.as_object() {
                for (k, v) in o {
                    if let Some(i) = k.strip_prefix("statement_").and_then(|i| i.parse().ok()) {
                        per.insert(i, errors_of(v));
                    }
                }
            }
            if per.is_empty() {
                return Err(OutboxError::Database(format!(
                    "422 without statement errors: {body}"
                )));
            }
            Ok(Reply::Invalid(per))
        }
        429 | 500..=599 => Ok(Reply::Retry(format!(
            "{code} {}",
            body.chars().take(200).collect::<String>()
        ))),
        _ => Err(OutboxError::Database(format!(
            "{code} {}",
            body.chars().take(200).collect::<String>()
        ))),
    }
}

/// Sends one batch until each statement is stored, refused or the database stays
/// unavailable; records every outcome as it is learnt.
async fn send_batch(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    outbox: &Outbox,
    mut batch: Vec<Value>,
    done: &mut Submitted,
) -> Result<(), OutboxError> {
    let puid = |s: &Value| s["puid"].as_str().unwrap_or_default().to_string();
    let mut attempts = 0;
    while !batch.is_empty() {
        match post(http, cfg, &batch).await? {
            Reply::Stored(stored) => {
                let mut results = Vec::new();
                for s in &stored {
                    results.push((
                        puid(s),
                        Outcome::Stored {
                            uuid: s["uuid"].as_str().map(String::from),
                            permalink: s["permalink"].as_str().map(String::from),
                        },
                    ));
                }
                if results.len() != batch.len() {
                    return Err(OutboxError::Database(format!(
                        "201 with {} statements for {} sent",
                        results.len(),
                        batch.len()
                    )));
                }
                outbox.record(&results)?;
                done.stored += results.len() as u64;
                return Ok(());
            }
            Reply::Duplicates(existing) => {
                let results: Vec<_> = existing
                    .iter()
                    .map(|p| {
                        (
                            p.clone(),
                            Outcome::Stored {
                                uuid: None,
                                permalink: None,
                            },
                        )
                    })
                    .collect();
                let before = batch.len();
                batch.retain(|s| !existing.contains(&puid(s)));
                if batch.len() == before {
                    // Duplicates inside our own call: send one of each.
                    let mut seen = std::collections::HashSet::new();
                    batch.retain(|s| seen.insert(puid(s)));
                    if batch.len() == before {
                        return Err(OutboxError::Database(
                            "duplicate puids not in the batch".into(),
                        ));
                    }
                    continue;
                }
                outbox.record(&results)?;
                done.duplicates += (before - batch.len()) as u64;
            }
            Reply::Invalid(per) => {
                let mut results = Vec::new();
                let mut keep = Vec::new();
                for (i, s) in batch.into_iter().enumerate() {
                    match per.get(&i) {
                        Some(errors) => results.push((
                            puid(&s),
                            Outcome::Refused {
                                errors: errors.clone(),
                                by: "database".into(),
                            },
                        )),
                        None => keep.push(s),
                    }
                }
                outbox.record(&results)?;
                done.refused += results.len() as u64;
                batch = keep;
            }
            Reply::Retry(last) => {
                attempts += 1;
                done.retries += 1;
                if attempts >= cfg.max_attempts {
                    return Err(OutboxError::Unavailable { attempts, last });
                }
                let wait = cfg.backoff.saturating_mul(1 << (attempts - 1).min(16));
                tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
            }
        }
    }
    Ok(())
}

/// Validates and submits every pending statement in batches. Local refusals are parked
/// without a call. Stops at the first batch the database stays unavailable for (the rest
/// stays pending for the next run).
pub async fn submit(
    ledger: &Ledger,
    mapping: &Mapping,
    outbox: &Outbox,
    cfg: &ClientConfig,
) -> Result<Submitted, OutboxError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let size = cfg.batch.clamp(1, 100);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(size * 4);
    let (l, m, o) = (ledger.clone(), mapping.clone(), outbox.clone());
    let scan = tokio::task::spawn_blocking(move || {
        o.pending(&l, &m, |s| {
            let _ = tx.blocking_send(s);
        })
    });
    let mut done = Submitted::default();
    let mut batch = Vec::with_capacity(size);
    let mut parked = Vec::new();
    let mut result = Ok(());
    while let Some(s) = rx.recv().await {
        let errors = validate(&s);
        if !errors.is_empty() {
            let puid = s["puid"].as_str().unwrap_or_default().to_string();
            parked.push((
                puid,
                Outcome::Refused {
                    errors,
                    by: "local".into(),
                },
            ));
            continue;
        }
        batch.push(s);
        if batch.len() == size {
            result = send_batch(&http, cfg, outbox, std::mem::take(&mut batch), &mut done).await;
            if result.is_err() {
                break;
            }
        }
    }
    if result.is_ok() && !batch.is_empty() {
        result = send_batch(&http, cfg, outbox, batch, &mut done).await;
    }
    drop(rx);
    done.refused_locally = parked.len() as u64;
    outbox.record(&parked)?;
    scan.await
        .map_err(|e| OutboxError::Database(format!("ledger scan: {e}")))??;
    result.map(|()| done)
}
