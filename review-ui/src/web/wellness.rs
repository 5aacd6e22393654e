//! What protects the moderator: how media are blurred and revealed, automatic re-blurring,
//! and the count of items revealed this hour with a prompt to take a break.
//!
//! Moderators look at the worst material there is, all day. Each chooses how strongly the
//! preview is blurred, whether a revealed original still shows in greyscale only, and after
//! how many seconds it blurs again by itself; the page counts the originals revealed in the
//! current hour and, past a threshold the deployment sets, suggests a break. Preferences are
//! kept per account in `web:prefs:<name>`, every change audited; the hour's count in
//! `web:exposure:<name>:<hour>` (kept two hours).

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, READERS};
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use redis::AsyncCommands;
use std::collections::HashMap;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/prefs", get(prefs_page).post(save_prefs))
}

/// Blur strengths a preview can be shown with (over the server's own blur), strongest last.
const BLURS: [&str; 3] = ["light", "strong", "maximum"];
/// Automatic re-blur delays offered, in seconds (0: never).
const REBLURS: [u32; 5] = [0, 5, 15, 30, 60];

/// One moderator's protections as the case page applies them.
pub(crate) struct Wellness {
    /// Reveal only while held down (else click or space toggles).
    pub reveal_hold: bool,
    /// One of [`BLURS`].
    pub blur: &'static str,
    /// A revealed original stays greyscale.
    pub grey_reveal: bool,
    /// Seconds after which a revealed original blurs again (0: never).
    pub reblur_seconds: u32,
    /// Originals revealed in the current hour.
    pub exposure: u64,
    /// The count at which the page suggests a break (0: never).
    pub break_after: u64,
}

impl Wellness {
    /// Whether the break prompt shows.
    pub fn needs_break(&self) -> bool {
        self.break_after > 0 && self.exposure >= self.break_after
    }
}

fn prefs_key(state: &AppState, name: &str) -> String {
    state.store.key(&format!("web:prefs:{name}"))
}

fn exposure_key(state: &AppState, name: &str) -> String {
    let hour = state.store.clock().now().unix_timestamp() / 3600;
    state.store.key(&format!("web:exposure:{name}:{hour}"))
}

/// Reads `name`'s protections and this hour's count.
pub(crate) async fn load(state: &AppState, name: &str) -> Result<Wellness, WebError> {
    let (prefs, exposure): (HashMap<String, String>, Option<u64>) = redis::pipe()
        .hgetall(prefs_key(state, name))
        .get(exposure_key(state, name))
        .query_async(&mut state.store.connection())
        .await?;
    let get = |k: &str| prefs.get(k).map(String::as_str);
    Ok(Wellness {
        reveal_hold: get("reveal") == Some("hold"),
        blur: BLURS
            .into_iter()
            .find(|b| Some(*b) == get("blur"))
            .unwrap_or("strong"),
        grey_reveal: get("reveal_colour") == Some("grey"),
        reblur_seconds: get("reblur")
            .and_then(|v| v.parse().ok())
            .filter(|v| REBLURS.contains(v))
            .unwrap_or(0),
        exposure: exposure.unwrap_or(0),
        break_after: state.cfg.break_after_reveals,
    })
}

/// Counts one revealed original for `name` this hour; returns the hour's count.
pub(crate) async fn count_reveal(state: &AppState, name: &str) -> Result<u64, WebError> {
    let key = exposure_key(state, name);
    let (n, _): (u64, ()) = redis::pipe()
        .incr(&key, 1)
        .expire(&key, 7200)
        .query_async(&mut state.store.connection())
        .await?;
    Ok(n)
}

#[derive(Template)]
#[template(path = "prefs.html")]
struct PrefsPage {
    chrome: Chrome,
    w: Wellness,
    blurs: [&'static str; 3],
    reblurs: [u32; 5],
    saved: bool,
}

async fn prefs_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let page = PrefsPage {
        chrome: Chrome::of(&session, &state),
        w: load(&state, &session.name).await?,
        blurs: BLURS,
        reblurs: REBLURS,
        saved: q.contains_key("saved"),
    };
    Ok(Html(page.render()?).into_response())
}

/// The preferences a form sets, checked: (field, value) pairs.
fn parse_prefs(pairs: &[(String, String)]) -> Result<Vec<(&'static str, String)>, WebError> {
    let reveal = match field(pairs, "reveal") {
        Some("hold") => "hold",
        Some("click") => "click",
        _ => return Err(WebError::BadRequest("reveal is click or hold".into())),
    };
    let blur = field(pairs, "blur").unwrap_or("strong");
    if !BLURS.contains(&blur) {
        return Err(WebError::BadRequest(
            "blur is light, strong or maximum".into(),
        ));
    }
    let colour = match field(pairs, "reveal_colour").unwrap_or("colour") {
        c @ ("colour" | "grey") => c,
        _ => {
            return Err(WebError::BadRequest(
                "reveal_colour is colour or grey".into(),
            ));
        }
    };
    let reblur: u32 = field(pairs, "reblur")
        .unwrap_or("0")
        .parse()
        .ok()
        .filter(|v| REBLURS.contains(v))
        .ok_or_else(|| WebError::BadRequest("reblur is 0, 5, 15, 30 or 60 seconds".into()))?;
    Ok(vec![
        ("reveal", reveal.to_string()),
        ("blur", blur.to_string()),
        ("reveal_colour", colour.to_string()),
        ("reblur", reblur.to_string()),
    ])
}

async fn save_prefs(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let prefs = parse_prefs(&pairs)?;
    let _: () = state
        .store
        .connection()
        .hset_multiple(prefs_key(&state, &session.name), &prefs)
        .await?;
    let after: serde_json::Map<String, serde_json::Value> = prefs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone().into()))
        .collect();
    state
        .ops
        .audit(
            &state.store,
            &session.name,
            &session.name,
            "ui.preference",
            &serde_json::Value::Object(after).to_string(),
            "",
        )
        .await?;
    Ok(Redirect::to("/prefs?saved=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn preferences_are_checked_field_by_field() {
        let ok = parse_prefs(&pairs(&[
            ("reveal", "hold"),
            ("blur", "maximum"),
            ("reveal_colour", "grey"),
            ("reblur", "15"),
        ]))
        .unwrap();
        assert_eq!(
            ok,
            [
                ("reveal", "hold".to_string()),
                ("blur", "maximum".to_string()),
                ("reveal_colour", "grey".to_string()),
                ("reblur", "15".to_string())
            ]
        );
        // Defaults for the fields an older form does not send.
        let old = parse_prefs(&pairs(&[("reveal", "click")])).unwrap();
        assert_eq!(old[1].1, "strong");
        assert_eq!(old[2].1, "colour");
        assert_eq!(old[3].1, "0");
        for bad in [
            &[("reveal", "peek")][..],
            &[("reveal", "click"), ("blur", "none")][..],
            &[("reveal", "click"), ("reveal_colour", "sepia")][..],
            &[("reveal", "click"), ("reblur", "7")][..],
            &[("reveal", "click"), ("reblur", "x")][..],
        ] {
            assert!(parse_prefs(&pairs(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_break_prompt_shows_at_the_threshold() {
        let w = |exposure, break_after| Wellness {
            reveal_hold: false,
            blur: "strong",
            grey_reveal: false,
            reblur_seconds: 0,
            exposure,
            break_after,
        };
        assert!(!w(39, 40).needs_break());
        assert!(w(40, 40).needs_break());
        assert!(!w(500, 0).needs_break());
    }
}
