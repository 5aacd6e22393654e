//! axe-core (Deque's accessibility engine, installed from npm by scripts/install-test-deps)
//! run on a page in Chromium: no violation of serious or critical impact may remain.

use super::super::Browser;
use serde_json::{Value, json};

/// Where scripts/install-test-deps puts axe.min.js (`TAKEDOWN_AXE_JS` overrides).
fn axe_js() -> String {
    let path = std::env::var("TAKEDOWN_AXE_JS").unwrap_or_else(|_| {
        let tools = std::env::var("TAKEDOWN_TOOLS_DIR").unwrap_or_else(|_| {
            format!(
                "{}/.cache/takedown/tools",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        format!("{tools}/axe-core-4.10.3/axe.min.js")
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core at {path} ({e}): run scripts/install-test-deps"))
}

/// Runs axe on the page the browser shows; panics naming `page` and each serious or critical
/// violation (rule, help, first elements) if there is any.
pub(crate) async fn assert_accessible(b: &Browser, page: &str) {
    let found = serious_violations(b).await;
    assert_eq!(
        found,
        json!([]),
        "accessibility violations on {page}: {found:#}"
    );
}

/// The serious and critical violations axe finds on the page the browser shows.
pub(crate) async fn serious_violations(b: &Browser) -> Value {
    // WebDriver's scripts are not subject to the page's CSP (which forbids inline scripts).
    b.js(&format!("{}\n;window.__axe = axe; return 1", axe_js()))
        .await;
    let found: Value = b
        .post(
            "/execute/async",
            json!({"script": "var done = arguments[arguments.length - 1]; \
                window.__axe.run(document, {resultTypes: ['violations']}).then(function (r) { \
                  done(r.violations.filter(function (v) { \
                      return v.impact === 'serious' || v.impact === 'critical'; }) \
                    .map(function (v) { return {id: v.id, impact: v.impact, help: v.help, \
                      nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })}; })); \
                }).catch(function (e) { done('axe failed: ' + e); });",
                "args": []}),
        )
        .await;
    found
}
