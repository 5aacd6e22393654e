//! A stand-in for the EU Transparency Database's statement API (DSA Art. 24(5)), written
//! from its documented behaviour (`../shared/reports.md` §1), because tests cannot reach the
//! real one and must not file statements there.
//!
//! It answers like the database: Bearer-token auth (`401` otherwise), `POST
//! /api/v1/statement` and `/api/v1/statements` (1–100, all or nothing), `422` with the
//! single and batch error shapes, duplicate puids (per platform, forever) with
//! `existing`/`existing_puids`, `GET /api/v1/statement/existing-puid/{puid}` (`302`/`404`),
//! `GET /api/ping`, and `429` (plain text) over a per-second request limit. Its own field
//! check is deliberately a separate, smaller implementation than the client's validator:
//! required fields, enumerations, puid format. Tests can make it refuse a category (a schema
//! change the client does not know yet) and inject `429` or `503` answers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];
const REQUIRED: [&str; 10] = [
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
];
const NOT_UNIQUE: &str = "The identifier given is not unique within this platform.";

/// How the stand-in behaves.
#[derive(Debug, Clone)]
pub struct TransparencyDbOptions {
    /// The one valid token.
    pub token: String,
    /// Requests per second before `429` (the real limit is 200).
    pub per_second: u32,
    /// Categories refused as if removed by a schema change.
    pub refused_categories: Vec<String>,
}

impl Default for TransparencyDbOptions {
    fn default() -> Self {
        TransparencyDbOptions {
            token: "test-token".into(),
            per_second: 200,
            refused_categories: vec![],
        }
    }
}

#[derive(Default)]
struct Db {
    stored: HashMap<String, Value>,
    next: u64,
    window: Option<(Instant, u32)>,
    fail_next: Vec<u16>,
    requests: u64,
}

#[derive(Clone)]
struct Shared {
    opts: Arc<TransparencyDbOptions>,
    db: Arc<Mutex<Db>>,
    base: Arc<String>,
}

/// A running stand-in, stopped when dropped.
pub struct TransparencyDb {
    url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TransparencyDb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TransparencyDb {
    /// Starts on a free loopback port, on the current Tokio runtime.
    pub async fn start(opts: TransparencyDbOptions) -> std::io::Result<TransparencyDb> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Shared {
            opts: Arc::new(opts),
            db: Arc::default(),
            base: Arc::new(url.clone()),
        };
        let app = Router::new()
            .route("/api/ping", get(ping))
            .route("/api/v1/statement", post(single))
            .route("/api/v1/statements", post(batch))
            .route("/api/v1/statement/existing-puid/{puid}", get(existing))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TransparencyDb { url, shared, task })
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The statements stored, by puid.
    pub fn stored(&self) -> HashMap<String, Value> {
        self.lock().stored.clone()
    }

    /// Requests answered so far (any status).
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Answers the next requests with these statuses (`429`, `503`, …) before behaving.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.lock().fail_next.extend_from_slice(statuses);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Db> {
        self.shared.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Auth, injected failures and the rate limit; `Some` is the answer to give instead.
fn gate(s: &Shared, headers: &HeaderMap) -> Option<Response> {
    let mut db = s.db.lock().unwrap_or_else(|e| e.into_inner());
    db.requests += 1;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if auth != Some(s.opts.token.as_str()) {
        return Some(json_response(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthenticated."}),
        ));
    }
    if !db.fail_next.is_empty() {
        let code = db.fail_next.remove(0);
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some((status, "Too Many Attempts.").into_response());
    }
    let now = Instant::now();
    let (start, n) = db.window.get_or_insert((now, 0));
    if now.duration_since(*start).as_secs() >= 1 {
        *start = now;
        *n = 0;
    }
    *n += 1;
    if *n > s.opts.per_second {
        return Some((StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.").into_response());
    }
    None
}

async fn ping(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &headers) {
        return r;
    }
    json_response(StatusCode::OK, json!({"you_say": "ping", "i_say": "pong"}))
}

async fn existing(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(puid): Path<String>,
) -> Response {
    if let Some(r) = gate(&s, &headers) {
        return r;
    }
    let db = s.db.lock().unwrap_or_else(|e| e.into_inner());
    if db.stored.contains_key(&puid) {
        json_response(
            StatusCode::FOUND,
            json!({"message": "statement of reason found", "puid": puid}),
        )
    } else {
        json_response(
            StatusCode::NOT_FOUND,
            json!({"message": "statement of reason not found"}),
        )
    }
}

/// The stand-in's own field check.
fn check(opts: &TransparencyDbOptions, v: &Value) -> BTreeMap<String, Vec<String>> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let empty = Map::new();
    let s = v.as_object().unwrap_or(&empty);
    let mut err = |f: &str, m: String| errors.entry(f.to_string()).or_default().push(m);
    for f in REQUIRED {
        let missing = match s.get(f) {
            None | Some(Value::Null) => true,
            Some(Value::String(x)) => x.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if missing {
            err(f, format!("The {} field is required.", f.replace('_', " ")));
        }
    }
    let restricted = [
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    ]
    .iter()
    .any(|f| match s.get(*f) {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        _ => true,
    });
    if !restricted {
        err("decision_visibility", "The decision visibility field is required when none of decision monetary / decision provision / decision account are present.".into());
    }
    if let Some(c) = s.get("category").and_then(Value::as_str)
        && (!CATEGORIES.contains(&c) || opts.refused_categories.iter().any(|r| r == c))
    {
        err("category", "The selected category is invalid.".into());
    }
    if let Some(g) = s.get("decision_ground").and_then(Value::as_str)
        && !matches!(
            g,
            "DECISION_GROUND_ILLEGAL_CONTENT" | "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        )
    {
        err(
            "decision_ground",
            "The selected decision ground is invalid.".into(),
        );
    }
    if let Some(a) = s.get("automated_detection").and_then(Value::as_str)
        && !matches!(a, "Yes" | "No")
    {
        err(
            "automated_detection",
            "The selected automated detection is invalid.".into(),
        );
    }
    if let Some(p) = s.get("puid").and_then(Value::as_str)
        && (p.len() > 500
            || !p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        err("puid", "The puid field format is invalid.".into());
    }
    errors
}

fn store(s: &Shared, db: &mut Db, mut v: Value) -> Value {
    db.next += 1;
    let uuid = format!("7d0c4b1e-0000-4000-8000-{:012x}", db.next);
    let now = time::OffsetDateTime::now_utc();
    let created = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let puid = v["puid"].as_str().unwrap_or_default().to_string();
    if let Some(o) = v.as_object_mut() {
        o.insert("uuid".into(), json!(uuid));
        o.insert("created_at".into(), json!(created));
        o.insert("platform_name".into(), json!("Takedown test platform"));
        o.insert(
            "permalink".into(),
            json!(format!("{}/statement/{uuid}", s.base)),
        );
        o.insert(
            "self".into(),
            json!(format!("{}/api/v1/statement/{uuid}", s.base)),
        );
    }
    db.stored.insert(puid, v.clone());
    v
}

fn malformed(e: serde_json::Error) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"message": format!("Malformed JSON: {e}"), "errors": {"body": ["Malformed JSON."]}}),
    )
}

async fn single(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = gate(&s, &headers) {
        return r;
    }
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return malformed(e),
    };
    let errors = check(&s.opts, &v);
    if let Some(msgs) = errors.values().next() {
        let message = format!("{} (and {} more errors)", msgs[0], errors.len() - 1);
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": message, "errors": errors}),
        );
    }
    let mut db = s.db.lock().unwrap_or_else(|e| e.into_inner());
    let puid = v["puid"].as_str().unwrap_or_default().to_string();
    if db.stored.contains_key(&puid) {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": NOT_UNIQUE, "errors": {"puid": [NOT_UNIQUE]}, "existing": {"puid": puid}}),
        );
    }
    let stored = store(&s, &mut db, v);
    json_response(StatusCode::CREATED, stored)
}

async fn batch(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = gate(&s, &headers) {
        return r;
    }
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return malformed(e),
    };
    let Some(list) = v["statements"]
        .as_array()
        .filter(|l| (1..=100).contains(&l.len()))
    else {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "The statements field must have between 1 and 100 items.",
                   "errors": {"statements": ["The statements field must have between 1 and 100 items."]}}),
        );
    };
    let mut errors = Map::new();
    for (i, st) in list.iter().enumerate() {
        let e = check(&s.opts, st);
        if !e.is_empty() {
            errors.insert(format!("statement_{i}"), json!(e));
        }
    }
    if !errors.is_empty() {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "The given data was invalid.", "errors": errors}),
        );
    }
    let mut db = s.db.lock().unwrap_or_else(|e| e.into_inner());
    let puids: Vec<String> = list
        .iter()
        .map(|st| st["puid"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut seen = HashSet::new();
    let in_call = puids.iter().any(|p| !seen.insert(p));
    let existing: Vec<&String> = puids
        .iter()
        .filter(|p| db.stored.contains_key(*p))
        .collect();
    if in_call || !existing.is_empty() {
        let mut existing: Vec<&String> = existing;
        existing.sort();
        existing.dedup();
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "The platform identifier(s) are not all unique within this call.",
                   "errors": {"puid": [NOT_UNIQUE], "existing_puids": existing}}),
        );
    }
    let stored: Vec<Value> = list
        .iter()
        .map(|st| store(&s, &mut db, st.clone()))
        .collect();
    json_response(StatusCode::CREATED, json!({"statements": stored}))
}
