//! The reports page for legal and auditors: pick a period, download the DSA transparency
//! report's CSV parts and the TCO yearly report, see the statements-of-reasons outbox (and,
//! for legal, queue a refused statement again), and read monthly removals and the median
//! time to action against the deadline as server-drawn SVG.
//!
//! Every figure and file comes from `takedown-reports` over the report directory's archived
//! ledger (the same functions as `takedown report …`), so the page and the filed reports
//! cannot disagree. The page never archives the Redis ledger stream itself: the directory it
//! reads is the one the report jobs own, and it says how many events still wait in Redis.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, LEGAL, REPORTERS};
use super::state::{AppState, ReportsConfig, WebError};
use super::view::{Bar, bar_chart};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use std::collections::HashMap;
use takedown_reports::dsa_csv::{DsaMeta, TEMPLATES, default_qualitative, write_dsa};
use takedown_reports::dsa_figures::DsaFigures;
use takedown_reports::ledger::{Ledger, stream_key};
use takedown_reports::monthly::{Month, monthly};
use takedown_reports::outbox::{Outbox, Outcome};
use takedown_reports::period::{Period, ymd};
use takedown_reports::stats::num;

/// Most stored and refused statements listed on the page (the counts are always whole).
const LIST_MAX: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(page))
        .route("/reports/dsa/{file}", get(dsa_file))
        .route("/reports/tco/{year}/{file}", get(tco_file))
        .route("/reports/sor/retry", post(retry))
}

fn config(state: &AppState) -> Result<&ReportsConfig, WebError> {
    // Without a report directory the page does not exist (and is not linked).
    state.cfg.reports.as_ref().ok_or(WebError::Forbidden)
}

/// The period of `from` and `to` (both `YYYY-MM-DD`); without them, the clock's year so far.
fn period_of(q: &HashMap<String, String>, today: time::Date) -> Result<Period, WebError> {
    let (from, to) = match (q.get("from"), q.get("to")) {
        (None, None) => (format!("{:04}-01-01", today.year()), ymd(today)),
        (f, t) => (
            f.cloned().unwrap_or_default(),
            t.cloned().unwrap_or_default(),
        ),
    };
    Period::parse(&format!("{from}/{to}")).map_err(|e| WebError::BadRequest(e.to_string()))
}

fn query_of(p: &Period) -> String {
    format!("from={}&to={}", ymd(p.from), ymd(p.to))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Reports(e.to_string()))?
        .map_err(WebError::Reports)
}

/// A refused statement as listed.
struct Refused {
    puid: String,
    by: String,
    errors: Vec<String>,
}

/// A stored statement as listed.
struct Stored {
    puid: String,
    uuid: String,
    permalink: String,
}

/// A month's row of the figures table.
struct Row {
    month: String,
    removals: u64,
    timing: Vec<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    from: String,
    to: String,
    query: String,
    dsa_files: Vec<&'static str>,
    tco_years: Vec<i32>,
    removals_chart: String,
    timing_charts: Vec<(String, String)>,
    rows: Vec<Row>,
    sources: Vec<&'static str>,
    pending: u64,
    stored_total: usize,
    stored: Vec<Stored>,
    refused_total: usize,
    refused: Vec<Refused>,
    can_retry: bool,
    unarchived: u64,
    message: String,
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(REPORTERS)?;
    let cfg = config(&state)?.clone();
    let now = state.store.clock().now();
    let period = period_of(&q, now.date())?;
    let (months, status) = {
        let (cfg, p) = (cfg.clone(), period);
        blocking(move || {
            let ledger = Ledger::open(&cfg.dir).map_err(|e| e.to_string())?;
            let months = monthly(&ledger, &p).map_err(|e| e.to_string())?;
            let status = Outbox::open(&cfg.dir)
                .and_then(|o| o.status(&ledger, &cfg.mapping))
                .map_err(|e| e.to_string())?;
            Ok((months, status))
        })
        .await?
    };
    let mut conn = state.store.connection();
    let prefix = &state.store.options().prefix;
    let queued = takedown_reports::pending::queued_retries(&mut conn, prefix).await?;
    let status = takedown_reports::pending::with_queued(status, &queued);
    // This page has just counted the outbox: the review gauges show the count.
    takedown_reports::pending::publish(
        &mut conn,
        &state.store.options().prefix,
        status.pending,
        super::view::ms(now),
    )
    .await?;
    let unarchived: u64 = conn.xlen(stream_key(&state.store.options().prefix)).await?;
    let sources = sources_of(&months);
    let page = ReportsPage {
        chrome: Chrome::of(&session, &state),
        from: ymd(period.from),
        to: ymd(period.to),
        query: query_of(&period),
        dsa_files: TEMPLATES.iter().map(|(name, _)| *name).collect(),
        tco_years: (period.from.year()..=period.to.year()).collect(),
        removals_chart: bar_chart(
            "Removals and disablings per month",
            &months
                .iter()
                .map(|m| Bar {
                    label: m.month.clone(),
                    value: m.removals as f64,
                    text: m.removals.to_string(),
                    class: "ok",
                })
                .collect::<Vec<_>>(),
        ),
        timing_charts: sources
            .iter()
            .map(|s| (s.to_string(), deadline_chart(s, &months)))
            .collect(),
        rows: months
            .iter()
            .map(|m| Row {
                month: m.month.clone(),
                removals: m.removals,
                timing: sources
                    .iter()
                    .map(|s| match m.timing.get(s) {
                        Some(t) => format!(
                            "{} h of {} h ({} decided, {} late)",
                            num(t.median_hours),
                            num(t.allowed_hours),
                            t.decided,
                            t.missed
                        ),
                        None => "–".into(),
                    })
                    .collect(),
            })
            .collect(),
        sources,
        pending: status.pending,
        stored_total: status.stored.len(),
        stored: status
            .stored
            .into_iter()
            .take(LIST_MAX)
            .map(|(puid, uuid, permalink)| Stored {
                puid,
                uuid: uuid.unwrap_or_default(),
                permalink: permalink.unwrap_or_default(),
            })
            .collect(),
        refused_total: status.refused.len(),
        refused: status
            .refused
            .into_iter()
            .take(LIST_MAX)
            .map(|(puid, errors, by)| Refused {
                puid,
                by,
                errors: errors
                    .iter()
                    .flat_map(|(f, msgs)| msgs.iter().map(move |m| format!("{f}: {m}")))
                    .collect(),
            })
            .collect(),
        can_retry: session.can(LEGAL),
        unarchived,
        message: q.get("done").cloned().unwrap_or_default(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The sources with a deadline in any month, removal orders first.
fn sources_of(months: &[Month]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = months
        .iter()
        .flat_map(|m| m.timing.keys().copied())
        .collect();
    out.sort_by_key(|s| (*s != "removal_order", *s));
    out.dedup();
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One source's median time to action per month as horizontal bars, each with a mark at the
/// median time its deadline allowed; a bar past its mark is drawn as `breached`. Inline SVG
/// with attributes and classes only (no script, no style attribute), as the CSP requires.
fn deadline_chart(source: &str, months: &[Month]) -> String {
    let rows: Vec<(&str, Option<f64>, Option<f64>)> = months
        .iter()
        .map(|m| {
            let t = m.timing.get(source);
            (
                m.month.as_str(),
                t.and_then(|t| t.median_hours),
                t.and_then(|t| t.allowed_hours),
            )
        })
        .collect();
    let max = rows
        .iter()
        .flat_map(|(_, a, b)| [a.unwrap_or(0.0), b.unwrap_or(0.0)])
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (100.0, 420.0, 26.0);
    let width = label_w + bar_w + 150.0;
    let height = row_h * rows.len().max(1) as f64 + 8.0;
    let title = format!("Median time to action per month, {source}, against the deadline");
    let mut svg = format!(
        "<svg class=\"chart deadline\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(&title)
    );
    for (i, (month, took, allowed)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        svg.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(month)
        ));
        let Some(took) = took else {
            svg.push_str(&format!(
                "<text x=\"{label_w}\" y=\"{:.0}\" class=\"chart-value\">no decisions</text>",
                y + 17.0
            ));
            continue;
        };
        let late = allowed.is_some_and(|a| *took > a);
        let w = (took / max * bar_w).max(if *took > 0.0 { 2.0 } else { 0.0 });
        svg.push_str(&format!(
            "<rect x=\"{label_w}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{:.0}\" class=\"bar {}\" data-hours=\"{}\"/>",
            row_h - 6.0,
            if late { "breached" } else { "ok" },
            num(Some(*took))
        ));
        let mut text = format!("{} h", num(Some(*took)));
        if let Some(a) = allowed {
            let x = label_w + a / max * bar_w;
            svg.push_str(&format!(
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.0}\" y2=\"{:.0}\" class=\"deadline-mark\" data-hours=\"{}\"/>",
                y - 1.0,
                y + row_h - 5.0,
                num(Some(*a))
            ));
            text = format!("{text} (deadline {} h)", num(Some(*a)));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.0}\" class=\"chart-value\">{}</text>",
            label_w + w.max(allowed.map_or(0.0, |a| a / max * bar_w)) + 6.0,
            y + 17.0,
            esc(&text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn download(name: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// One CSV part of the DSA transparency report for the period, written by the same
/// `write_dsa` as `takedown report dsa` (into a temporary directory, then served).
async fn dsa_file(
    State(state): State<AppState>,
    session: Session,
    UrlPath(file): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(REPORTERS)?;
    let cfg = config(&state)?.clone();
    let Some((name, _)) = TEMPLATES.iter().find(|(n, _)| *n == file) else {
        return Err(WebError::NotFound(format!("no report part {file}")));
    };
    let today = state.store.clock().now().date();
    let period = period_of(&q, today)?;
    let name: &'static str = name;
    let body = blocking(move || {
        let ledger = Ledger::open(&cfg.dir).map_err(|e| e.to_string())?;
        let mut figures = DsaFigures::default();
        ledger
            .scan(Some(&period), |e| figures.add(&cfg.mapping, e))
            .map_err(|e| e.to_string())?;
        let meta = DsaMeta {
            provider: cfg.provider.clone(),
            service: String::new(),
            published: today,
            previous: None,
            qualitative: default_qualitative(),
        };
        let out = tempfile::tempdir().map_err(|e| e.to_string())?;
        write_dsa(out.path(), &period, &figures, &meta).map_err(|e| e.to_string())?;
        std::fs::read(out.path().join(name)).map_err(|e| e.to_string())
    })
    .await?;
    Ok(download(name, "text/csv; charset=utf-8", body))
}

/// The TCO yearly report (`tco-YYYY.html`, `.json`, `.csv`) or one figure's case ids
/// (`figure_a.txt` …), written by the same `write_tco` as `takedown report tco`.
async fn tco_file(
    State(state): State<AppState>,
    session: Session,
    UrlPath((year, file)): UrlPath<(i32, String)>,
) -> Result<Response, WebError> {
    session.require(REPORTERS)?;
    let cfg = config(&state)?.clone();
    Period::year(year).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let (rel, ty) = match file.as_str() {
        f if f == format!("tco-{year}.html") => (f.to_string(), "text/html; charset=utf-8"),
        f if f == format!("tco-{year}.json") => (f.to_string(), "application/json"),
        f if f == format!("tco-{year}.csv") => (f.to_string(), "text/csv; charset=utf-8"),
        f if f.len() == "figure_a.txt".len()
            && f.starts_with("figure_")
            && f.ends_with(".txt")
            && ('a'..='g').any(|c| f.as_bytes()[7] == c as u8) =>
        {
            (format!("cases/{f}"), "text/plain; charset=utf-8")
        }
        _ => return Err(WebError::NotFound(format!("no TCO report file {file}"))),
    };
    let body = blocking(move || {
        let ledger = Ledger::open(&cfg.dir).map_err(|e| e.to_string())?;
        let out = tempfile::tempdir().map_err(|e| e.to_string())?;
        takedown_reports::tco::write_tco(&ledger, year, &cfg.provider, out.path())
            .map_err(|e| e.to_string())?;
        std::fs::read(out.path().join(rel)).map_err(|e| e.to_string())
    })
    .await?;
    Ok(download(&file, ty, body))
}

/// Queues a refused statement again (legal only), audited; the next `takedown report sor
/// submit` moves it into the outbox (this page only reads the report directory) and sends it.
async fn retry(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(LEGAL)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let cfg = config(&state)?.clone();
    let puid = field(&pairs, "puid").unwrap_or("").trim().to_string();
    if puid.is_empty() {
        return Err(WebError::BadRequest("name the statement (puid)".into()));
    }
    let p = puid.clone();
    let refused = blocking(move || {
        Outbox::open(&cfg.dir)
            .and_then(|o| o.outcomes())
            .map(|o| matches!(o.get(&p), Some(Outcome::Refused { .. })))
            .map_err(|e| e.to_string())
    })
    .await?;
    let mut conn = state.store.connection();
    let prefix = &state.store.options().prefix;
    if !refused {
        return Err(WebError::BadRequest(format!(
            "{puid} is not a refused statement"
        )));
    }
    if !takedown_reports::pending::queue_retry(&mut conn, prefix, &puid).await? {
        return Err(WebError::BadRequest(format!(
            "{puid} is queued for the next submission already"
        )));
    }
    state
        .ops
        .audit(
            &state.store,
            &puid,
            &session.name,
            "sor.retry",
            &serde_json::json!({ "status": "retry" }).to_string(),
            "queued again from the reports page",
        )
        .await?;
    let back = form_urlencoded::Serializer::new(String::new())
        .append_pair("from", field(&pairs, "from").unwrap_or(""))
        .append_pair("to", field(&pairs, "to").unwrap_or(""))
        .append_pair("done", &format!("{puid} queued again."))
        .finish();
    Ok(Redirect::to(&format!("/reports?{back}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use takedown_reports::monthly::Timing;

    fn month(m: &str, timing: &[(&'static str, f64, f64)]) -> Month {
        Month {
            month: m.into(),
            removals: 0,
            timing: timing
                .iter()
                .map(|(s, took, allowed)| {
                    (
                        *s,
                        Timing {
                            decided: 1,
                            missed: 0,
                            median_hours: Some(*took),
                            allowed_hours: Some(*allowed),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn a_late_month_is_drawn_past_its_deadline_mark() {
        let months = [
            month("2026-03", &[("removal_order", 2.0, 1.0)]),
            month("2026-04", &[]),
            month("2026-05", &[("removal_order", 0.5, 1.0)]),
        ];
        let svg = deadline_chart("removal_order", &months);
        // Scale: the longest is 2 h = 420 px; the 1 h mark at 100 + 210.
        assert!(svg.contains("width=\"420.0\" height=\"20\" class=\"bar breached\""));
        assert!(svg.contains("width=\"105.0\" height=\"20\" class=\"bar ok\""));
        assert_eq!(svg.matches("x1=\"310.0\"").count(), 2);
        assert!(svg.contains("no decisions"));
        assert!(!svg.contains("style=") && !svg.contains("<script"));
    }

    #[test]
    fn orders_come_first_and_periods_default_to_the_year_so_far() {
        let months = [month(
            "2026-03",
            &[("notice", 1.0, 24.0), ("removal_order", 1.0, 1.0)],
        )];
        assert_eq!(sources_of(&months), ["removal_order", "notice"]);
        let today = time::macros::date!(2026 - 06 - 15);
        let p = period_of(&HashMap::new(), today).unwrap();
        assert_eq!(query_of(&p), "from=2026-01-01&to=2026-06-15");
        let mut q = HashMap::new();
        q.insert("from".to_string(), "2026-05-01".to_string());
        q.insert("to".to_string(), "2026-04-01".to_string());
        assert!(matches!(period_of(&q, today), Err(WebError::BadRequest(_))));
    }
}
