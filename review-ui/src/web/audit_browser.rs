//! The audit browser: the trail newest first, filtered by actor, action, subject and time
//! range, a page at a time; its CSV export; the chain's sealed head and the result of the last
//! verification (run on request, kept in Redis so every auditor sees it with its time).
//!
//! It exists because the trail is what an auditor or a court asks for, and a stream of
//! millions of entries has no index: every filtered page walks the stream backwards from a
//! cursor (the last entry id it looked at) and stops after [`PAGE`] matches or [`SCAN_BUDGET`]
//! entries, whichever comes first, so no request reads the whole trail. An export is bounded
//! the same way, by [`EXPORT_MAX`] rows and [`EXPORT_SCAN`] entries.

use super::auth::{Session, field, form_pairs};
use super::chrome::{AUDITORS, Chrome};
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use std::collections::HashMap;
use takedown_review::audit::{self, AuditEntry};
use takedown_review::store::ReviewStore;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Entries on one page.
pub(crate) const PAGE: usize = 50;
/// Entries one page may walk past looking for matches.
pub(crate) const SCAN_BUDGET: usize = 20_000;
/// Rows one export holds at most.
pub(crate) const EXPORT_MAX: usize = 100_000;
/// Entries one export may walk.
pub(crate) const EXPORT_SCAN: usize = 2_000_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/supervisor/audit", get(audit_page))
        .route("/supervisor/audit.csv", get(export))
        .route("/supervisor/audit/verify", post(verify))
}

/// The filters of the browser and the export (empty = any).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AuditFilter {
    pub actor: String,
    /// An action (`case.decided`), or a family when it ends with a dot (`user.`).
    pub action: String,
    pub subject: String,
    /// `YYYY-MM-DDTHH:MM` (UTC), as the form's inputs give it.
    pub from: String,
    pub to: String,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD` in UTC, in Unix ms.
fn parse_time(s: &str, field: &str) -> Result<Option<i64>, WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let full = match s.len() {
        10 => format!("{s}T00:00:00Z"),
        16 => format!("{s}:00Z"),
        _ => format!("{s}Z"),
    };
    let t = OffsetDateTime::parse(&full, &Rfc3339).map_err(|_| {
        WebError::BadRequest(format!(
            "{field}: {s:?} is not a time of the form 2026-06-01T12:00 (UTC)"
        ))
    })?;
    Ok(Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn value<'a>(e: &'a AuditEntry, k: &str) -> &'a str {
    e.fields
        .iter()
        .find(|(key, _)| key == k)
        .map_or("", |(_, v)| v.as_str())
}

impl AuditFilter {
    pub fn from_query(q: &HashMap<String, String>) -> Result<Self, WebError> {
        let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let mut f = AuditFilter {
            actor: get("actor"),
            action: get("action"),
            subject: get("subject"),
            from: get("from"),
            to: get("to"),
            ..AuditFilter::default()
        };
        f.from_ms = parse_time(&f.from, "from")?;
        f.to_ms = parse_time(&f.to, "to")?;
        if let (Some(a), Some(b)) = (f.from_ms, f.to_ms)
            && a > b
        {
            return Err(WebError::BadRequest("from is after to".into()));
        }
        Ok(f)
    }

    fn matches(&self, e: &AuditEntry) -> bool {
        let action = value(e, "action");
        (self.actor.is_empty() || value(e, "actor") == self.actor)
            && (self.subject.is_empty() || value(e, "subject") == self.subject)
            && (self.action.is_empty()
                || action == self.action
                || (self.action.ends_with('.') && action.starts_with(&self.action)))
    }

    /// The filters as a query string (for paging and export links).
    pub fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject", &self.subject),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// What one walk back through the trail found.
pub(crate) struct Found {
    /// Matching entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts (the last entry looked at), if the trail goes on.
    pub next: Option<String>,
    /// Entries looked at.
    pub scanned: usize,
}

/// Walks back from `before` (exclusive; `None` = the newest entry) collecting up to `want`
/// entries that match `f`, looking at no more than `budget` entries.
pub(crate) async fn search(
    store: &ReviewStore,
    f: &AuditFilter,
    before: Option<String>,
    want: usize,
    budget: usize,
) -> Result<Found, WebError> {
    let mut found = Found {
        entries: Vec::new(),
        next: None,
        scanned: 0,
    };
    let mut cursor = before;
    while found.scanned < budget {
        let page =
            audit::read_back(store, cursor.as_deref(), 1000.min(budget - found.scanned)).await?;
        if page.is_empty() {
            return Ok(found);
        }
        for e in page {
            found.scanned += 1;
            cursor = Some(e.id.clone());
            let at: i64 = value(&e, "at").parse().unwrap_or(0);
            // Entries are appended in time order: past the range's start, nothing more matches.
            if f.from_ms.is_some_and(|from| at < from) {
                return Ok(found);
            }
            if f.to_ms.is_some_and(|to| at > to) || !f.matches(&e) {
                continue;
            }
            found.entries.push(e);
            if found.entries.len() == want {
                found.next = cursor;
                return Ok(found);
            }
        }
    }
    found.next = cursor;
    Ok(found)
}

/// An audit entry as shown.
pub(crate) struct AuditRow {
    pub seq: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub cause: String,
}

fn at_text(e: &AuditEntry) -> String {
    value(e, "at")
        .parse::<i64>()
        .ok()
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn row(e: &AuditEntry) -> AuditRow {
    AuditRow {
        seq: value(e, "seq").into(),
        at: at_text(e),
        actor: value(e, "actor").into(),
        action: value(e, "action").into(),
        subject: value(e, "subject").into(),
        before: value(e, "before").into(),
        after: value(e, "after").into(),
        cause: value(e, "cause").into(),
    }
}

/// The last verification of the chain, as kept in Redis.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct LastCheck {
    pub at: String,
    pub by: String,
    pub entries: u64,
    pub sealed_ok: u64,
    pub unsealed: u64,
    pub problems: Vec<String>,
}

const LAST_CHECK: &str = "web:audit:verification";

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    f: AuditFilter,
    rows: Vec<AuditRow>,
    next: String,
    scanned: usize,
    query: String,
    head: Option<(String, String)>,
    check: Option<LastCheck>,
    page: usize,
    export_max: usize,
}

/// A stream id as we accept it from a link (`<ms>-<seq>`).
fn stream_id(q: &HashMap<String, String>) -> Result<Option<String>, WebError> {
    match q.get("before").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => match id.split_once('-') {
            Some((a, b))
                if !a.is_empty()
                    && !b.is_empty()
                    && a.len() <= 20
                    && b.len() <= 20
                    && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) =>
            {
                Ok(Some(id.to_string()))
            }
            _ => Err(WebError::BadRequest("before: not an audit entry id".into())),
        },
    }
}

async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(AUDITORS)?;
    let store = &state.store;
    let f = AuditFilter::from_query(&q)?;
    let found = search(store, &f, stream_id(&q)?, PAGE, SCAN_BUDGET).await?;
    let check: Option<String> = store.connection().get(store.key(LAST_CHECK)).await?;
    let page = AuditPage {
        chrome: Chrome::of(&session, &state),
        rows: found.entries.iter().map(row).collect(),
        next: found.next.unwrap_or_default(),
        scanned: found.scanned,
        query: f.query(),
        f,
        head: audit::head(store).await?,
        check: check.and_then(|c| serde_json::from_str(&c).ok()),
        page: PAGE,
        export_max: EXPORT_MAX,
    };
    Ok(Html(page.render()?).into_response())
}

/// A CSV cell: quoted, quotes doubled, and a cell a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) prefixed with `'` so it
/// stays text (OWASP's advice on CSV injection).
pub(crate) fn csv_cell(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let s = if risky {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV header and one line per entry.
pub(crate) fn csv_line(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

async fn export(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(AUDITORS)?;
    let store = &state.store;
    let f = AuditFilter::from_query(&q)?;
    let found = search(store, &f, None, EXPORT_MAX, EXPORT_SCAN).await?;
    let mut body = csv_line(&[
        "id", "seq", "at", "actor", "action", "subject", "before", "after", "cause",
    ]);
    for e in &found.entries {
        let at = at_text(e);
        body.push_str(&csv_line(&[
            &e.id,
            value(e, "seq"),
            &at,
            value(e, "actor"),
            value(e, "action"),
            value(e, "subject"),
            value(e, "before"),
            value(e, "after"),
            value(e, "cause"),
        ]));
    }
    state
        .ops
        .audit(
            store,
            "audit",
            &session.name,
            "audit.exported",
            &serde_json::json!({"filters": f.query(), "rows": found.entries.len()}).to_string(),
            "",
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"".to_string(),
            ),
            (
                header::HeaderName::from_static("x-takedown-complete"),
                found.next.is_none().to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// Recomputes the whole chain (a full read of the trail: an auditor's deliberate act) and
/// keeps the result for the page.
async fn verify(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(AUDITORS)?;
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    let store = &state.store;
    let v = audit::verify(store).await?;
    let check = LastCheck {
        at: store.clock().now().format(&Rfc3339).unwrap_or_default(),
        by: session.name.clone(),
        entries: v.entries,
        sealed_ok: v.sealed_ok,
        unsealed: v.unsealed,
        problems: v.problems.into_iter().take(20).collect(),
    };
    let _: () = store
        .connection()
        .set(store.key(LAST_CHECK), serde_json::to_string(&check)?)
        .await?;
    Ok(Redirect::to("/supervisor/audit").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_stay_text_in_the_export() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("case.decided"), "\"case.decided\"");
        assert_eq!(csv_line(&["a", "b,c"]), "\"a\",\"b,c\"\r\n");
    }

    #[test]
    fn filters_parse_times_and_match_families() {
        let q: HashMap<String, String> = [
            ("action", "user."),
            ("from", "2026-06-01T12:00"),
            ("to", "2026-06-02"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = AuditFilter::from_query(&q).unwrap();
        assert_eq!(f.from_ms, Some(1_780_315_200_000));
        assert_eq!(f.to_ms, Some(1_780_358_400_000));
        let e = |action: &str| AuditEntry {
            id: "1-0".into(),
            fields: vec![("action".into(), action.into())],
        };
        assert!(f.matches(&e("user.role_changed")));
        assert!(!f.matches(&e("case.decided")));
        let bad: HashMap<String, String> = [("from".to_string(), "yesterday".to_string())].into();
        assert!(AuditFilter::from_query(&bad).is_err());
        let reversed: HashMap<String, String> = [
            ("from".to_string(), "2026-06-02".to_string()),
            ("to".to_string(), "2026-06-01".to_string()),
        ]
        .into();
        assert!(AuditFilter::from_query(&reversed).is_err());
        assert_eq!(
            f.query(),
            "action=user.&from=2026-06-01T12%3A00&to=2026-06-02"
        );
    }

    #[test]
    fn only_stream_ids_page() {
        let q = |v: &str| HashMap::from([("before".to_string(), v.to_string())]);
        assert_eq!(stream_id(&q("17-3")).unwrap(), Some("17-3".into()));
        assert_eq!(stream_id(&q("")).unwrap(), None);
        for bad in ["+", "-", "(17-3", "17", "a-1", "1-"] {
            assert!(stream_id(&q(bad)).is_err(), "{bad}");
        }
    }
}
