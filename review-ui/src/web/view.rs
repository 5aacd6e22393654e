//! Formatting shared by the pages: countdowns and their urgency colour, defanged URLs, the
//! server-drawn SVG bar chart, and the vendored static files.
//!
//! It exists so the rules a moderator relies on at a glance (which colour means how much
//! time is left, how a URL is made unclickable) are defined once and tested; `static/app.js`
//! applies the same urgency thresholds when it updates the countdown every second.

use super::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::{Duration, OffsetDateTime};

/// Unix milliseconds.
pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The countdown of a case's SLA clock at `now`, as the pages show it: due time in Unix ms
/// (0 when the clock is not running), the period in ms, the time left as text (`idle` when the
/// clock is not running) and its urgency class.
pub(crate) fn clock_fields(
    sla: &takedown_review::sla::SlaTimer,
    now: OffsetDateTime,
    idle: &str,
) -> (i64, i64, String, &'static str) {
    let period_ms = sla.period.whole_milliseconds() as i64;
    match sla.due_at() {
        Some(due) => (
            ms(due),
            period_ms,
            countdown(due - now),
            urgency(due - now, sla.period),
        ),
        None => (0, period_ms, idle.to_string(), "suspended"),
    }
}

/// Time left as `H:MM:SS` (days as `Nd HH:MM:SS`), overdue with a leading `-`.
pub(crate) fn countdown(left: Duration) -> String {
    let s = left.whole_seconds();
    let sign = if s < 0 { "-" } else { "" };
    let s = s.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d {h:02}:{m:02}:{sec:02}")
    } else {
        format!("{sign}{h}:{m:02}:{sec:02}")
    }
}

/// The urgency class of a clock with `left` of `period`: `breached` at or past the
/// deadline, `critical` under a quarter of the period, `warn` under half, else `ok`.
pub(crate) fn urgency(left: Duration, period: Duration) -> &'static str {
    let (left, period) = (
        left.whole_milliseconds(),
        period.whole_milliseconds().max(1),
    );
    if left <= 0 {
        "breached"
    } else if left * 4 < period {
        "critical"
    } else if left * 2 < period {
        "warn"
    } else {
        "ok"
    }
}

/// The urgency class of an open case of the snapshot at `now`, by [`urgency`]; `suspended`
/// when its clock is not running. The queue's urgency filter and the SLA dashboard use it.
pub(crate) fn urgency_of(r: &super::snapshot::Row, now: OffsetDateTime) -> &'static str {
    match r.due_at {
        Some(due) => urgency(due - now, r.period),
        None => "suspended",
    }
}

/// A URL made unclickable and unfetchable when copied: `http` → `hxxp`, dots in the host →
/// `[.]`, `://` → `[://]`.
pub(crate) fn defang(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("", url),
    };
    let scheme = scheme.replace("http", "hxxp").replace("HTTP", "HXXP");
    let (host, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = host.replace('.', "[.]");
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}[://]{host}{path}")
    }
}

/// One bar of a chart.
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown.
    pub text: String,
    /// A CSS class (`ok`, `warn`, `critical`, `breached`) for the fill colour.
    pub class: &'static str,
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart as inline SVG (no script, no inline style: colours come from CSS
/// classes, sizes from attributes, so the CSP allows it). `title` labels it for screen readers.
pub(crate) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (180.0, 360.0, 26.0);
    let height = row_h * bars.len().max(1) as f64 + 8.0;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {height}\" width=\"{}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        label_w + bar_w + 90.0,
        label_w + bar_w + 90.0,
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let w = (b.value / max * bar_w).max(if b.value > 0.0 { 2.0 } else { 0.0 });
        svg.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{:.0}\" class=\"bar {}\"/>\
             <text x=\"{:.1}\" y=\"{:.0}\" class=\"chart-value\">{}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(&b.label),
            row_h - 6.0,
            b.class,
            label_w + w + 6.0,
            y + 17.0,
            esc(&b.text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

const APP_JS: &str = include_str!("../../static/app.js");
const APP_CSS: &str = include_str!("../../static/app.css");

pub(crate) fn static_routes() -> Router<AppState> {
    Router::new().route("/static/{file}", get(static_file))
}

async fn static_file(Path(file): Path<String>) -> Response {
    let (ty, body) = match file.as_str() {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_read_naturally() {
        assert_eq!(countdown(Duration::seconds(3599)), "0:59:59");
        assert_eq!(countdown(Duration::seconds(-61)), "-0:01:01");
        assert_eq!(countdown(Duration::hours(49)), "2d 01:00:00");
    }

    #[test]
    fn urgency_by_fraction_left() {
        let h = Duration::hours(1);
        assert_eq!(urgency(Duration::minutes(40), h), "ok");
        assert_eq!(urgency(Duration::minutes(20), h), "warn");
        assert_eq!(urgency(Duration::minutes(10), h), "critical");
        assert_eq!(urgency(Duration::ZERO, h), "breached");
    }

    #[test]
    fn urls_are_defanged() {
        assert_eq!(
            defang("https://evil.example.org/a.b?x=1.2"),
            "hxxps[://]evil[.]example[.]org/a.b?x=1.2"
        );
        assert_eq!(defang("example.com"), "example[.]com");
    }

    #[test]
    fn charts_escape_labels_and_scale_bars() {
        let svg = bar_chart(
            "t<",
            &[
                Bar {
                    label: "<a>".into(),
                    value: 2.0,
                    text: "2".into(),
                    class: "ok",
                },
                Bar {
                    label: "b".into(),
                    value: 1.0,
                    text: "1".into(),
                    class: "warn",
                },
            ],
        );
        assert!(svg.contains("&lt;a&gt;") && !svg.contains("<a>"));
        assert!(svg.contains("width=\"360.0\"") && svg.contains("width=\"180.0\""));
        assert!(!svg.contains("style="));
    }
}
