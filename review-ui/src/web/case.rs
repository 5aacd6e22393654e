//! One case: its evidence (matches, cluster, the order or notice behind it) and decision form,
//! deciding (one case or its whole cluster); its media are the `evidence` routes.
//!
//! Every handler starts with the session and the roles it allows, and every form post
//! checks the session's CSRF token before it changes anything.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, DECIDERS, READERS};
use super::media;
use super::ops::Claim;
use super::snapshot::source_name;
use super::state::{AppState, WebError};
use super::view::{clock_fields, defang, ms};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use takedown_review::model::{CaseState, DecisionInput, Role, Source};
use takedown_review::order::{AnnexII, AnnexIIItem, RemovalOrder};
use takedown_review::store::{CaseView, StoreError};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/decide", post(decide))
}

/// A match as shown.
pub(crate) struct MatchView {
    pub list: String,
    pub entry: String,
    pub labels: String,
    pub severity: String,
    pub distance: u32,
    pub query_hash: String,
    pub list_hash: String,
    /// A video match's matched stretches and percentages, as text (empty otherwise).
    pub video: String,
}

/// A video match in words: where in the post it matched (`(start, end)` seconds) and how
/// much of each video.
fn video_summary(
    ranges: impl Iterator<Item = (f64, f64)>,
    query_match_percent: f64,
    compared_match_percent: f64,
) -> String {
    let ranges: Vec<String> = ranges
        .map(|(start, end)| format!("{start:.1}–{end:.1} s"))
        .collect();
    format!(
        "matched at {}; {query_match_percent:.0} % of the post's frames, \
         {compared_match_percent:.0} % of the listed video's",
        ranges.join(", "),
    )
}

/// A case of the cluster as shown.
pub(crate) struct ClusterRow {
    pub id: String,
    pub state: &'static str,
    pub holder: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    class: &'static str,
    source: &'static str,
    state: &'static str,
    senior_only: bool,
    threat_to_life: bool,
    holder: String,
    you_hold: bool,
    can_claim: bool,
    can_decide: bool,
    now_ms: i64,
    due_ms: i64,
    period_ms: i64,
    left: String,
    urgency: &'static str,
    received_at: String,
    platform: String,
    post_id: String,
    media_id: String,
    url: String,
    evidence: Vec<media::ItemView>,
    reveal_hold: bool,
    matches: Vec<MatchView>,
    cluster: Vec<ClusterRow>,
    order: Option<OrderView>,
    embargo_until: String,
    decision: String,
    is_complaint: bool,
    error: String,
    form: DecisionForm,
}

/// A removal order's Annex I fields and generated replies, as shown.
pub(crate) struct OrderView {
    pub order: RemovalOrder,
    pub order_id: String,
    pub received_at: String,
    pub sha256: String,
    pub grounds: String,
    pub cross_border: bool,
    pub annex_iii: Option<String>,
    pub annex_ii: Option<String>,
}

/// The decision form's values, kept when it is shown again with an error.
#[derive(Default, Clone)]
pub(crate) struct DecisionForm {
    pub outcome: String,
    pub grounds: Vec<String>,
    pub tos: String,
    pub territories: String,
    pub exemption: String,
    pub justification: String,
    pub bulk: Vec<String>,
}

impl DecisionForm {
    fn parse(pairs: &[(String, String)]) -> Self {
        let all = |k: &str| {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let one = |k: &str| field(pairs, k).unwrap_or("").trim().to_string();
        DecisionForm {
            outcome: one("outcome"),
            grounds: all("grounds"),
            tos: one("tos"),
            territories: one("territories"),
            exemption: one("exemption"),
            justification: field(pairs, "justification").unwrap_or("").to_string(),
            bulk: all("bulk"),
        }
    }

    /// Whether `g` is ticked (for the template).
    pub fn has_ground(&self, g: &str) -> bool {
        self.grounds.iter().any(|x| x == g)
    }

    fn input(&self) -> Result<DecisionInput, WebError> {
        let list = |s: &str| {
            s.split([',', ' ', ';'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        if self.outcome.is_empty() {
            return Err(WebError::BadRequest("choose an outcome".into()));
        }
        if !self.exemption.is_empty() && self.outcome != "not_terrorist_content" {
            return Err(WebError::BadRequest(
                "a purpose exemption applies only to \"not terrorist content\"".into(),
            ));
        }
        if !self.exemption.is_empty() && self.justification.trim().is_empty() {
            return Err(WebError::BadRequest(
                "a purpose exemption (Art. 1(3)) needs a justification".into(),
            ));
        }
        let mut v = serde_json::json!({
            "outcome": self.outcome,
            "grounds": self.grounds,
            "tos_clauses": list(&self.tos),
            "justification": self.justification,
        });
        if self.outcome == "disable" {
            v["territories"] = list(&self.territories.to_ascii_uppercase()).into();
        }
        if !self.exemption.is_empty() {
            v["exemption"] = self.exemption.clone().into();
        }
        serde_json::from_value(v)
            .map_err(|e| WebError::BadRequest(format!("invalid decision: {e}")))
    }
}

async fn case_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let view = state.store.case(&id).await?;
    let page = render_case(
        &state,
        &session,
        view,
        DecisionForm::default(),
        String::new(),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

async fn render_case(
    state: &AppState,
    session: &Session,
    view: CaseView,
    form: DecisionForm,
    error: String,
) -> Result<CasePage, WebError> {
    let store = &state.store;
    let now = store.clock().now();
    let case = &view.case;
    let (due_ms, period_ms, left, urgency) = clock_fields(&case.sla, now, "no running clock");
    let lease_live = view.lease_until.is_some_and(|until| until >= now);
    let holder = if lease_live {
        view.holder.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let you_hold = holder == session.name;
    let open = case.state == CaseState::Open;
    let may_decide =
        session.can(DECIDERS) && !(case.senior_only && session.role == Role::Moderator);
    let mut cluster = Vec::new();
    if !view.cluster.is_empty() {
        let mut pipe = redis::pipe();
        for c in &view.cluster {
            pipe.cmd("HMGET")
                .arg(store.key(&format!("case:{c}")))
                .arg(&["state", "holder"][..]);
        }
        let states: Vec<Vec<Option<String>>> = pipe.query_async(&mut store.connection()).await?;
        for (c, s) in view.cluster.iter().zip(states) {
            let st = match s.first().cloned().flatten().as_deref() {
                Some("open") => "open",
                Some("decided") => "decided",
                Some("suspended") => "suspended",
                Some("purged") => "purged",
                _ => "unknown",
            };
            cluster.push(ClusterRow {
                id: c.clone(),
                state: st,
                holder: s.get(1).cloned().flatten().unwrap_or_default(),
            });
        }
    }
    let order = match case.sources.iter().find_map(|s| match s {
        Source::RemovalOrder { order_id, .. } => Some(order_id.clone()),
        _ => None,
    }) {
        Some(order_id) => Some(order_view(state, &order_id, &view).await?),
        None => None,
    };
    let prefs: Option<String> = store
        .connection()
        .hget(store.key(&format!("web:prefs:{}", session.name)), "reveal")
        .await?;
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let ranges: Vec<(f64, f64)> = view
        .matches
        .iter()
        .filter_map(|m| m.video.as_ref())
        .flat_map(|v| v.query_ranges.iter().map(|r| (r.start, r.end)))
        .collect();
    Ok(CasePage {
        chrome: Chrome::of(session, state),
        id: case.id.clone(),
        class: case.sla.class.as_str(),
        source: source_name(case),
        state: case.state.as_str(),
        senior_only: case.senior_only,
        threat_to_life: case.threat_to_life,
        you_hold,
        can_claim: open && may_decide && !you_hold && holder.is_empty(),
        can_decide: open && may_decide && you_hold,
        holder,
        now_ms: ms(now),
        due_ms,
        period_ms,
        left,
        urgency,
        received_at: fmt(case.sla.received_at),
        platform: case.subject.platform.clone(),
        post_id: case.subject.post_id.clone().unwrap_or_default(),
        media_id: case.subject.media_id.clone().unwrap_or_default(),
        url: case.subject.url.as_deref().map(defang).unwrap_or_default(),
        evidence: media::item_views(store, &session.name, &case.id, defang, &ranges).await?,
        reveal_hold: prefs.as_deref() == Some("hold"),
        matches: view
            .matches
            .iter()
            .map(|m| MatchView {
                list: m.list_id.clone(),
                entry: m.entry.clone(),
                labels: m.labels.join(", "),
                severity: m.severity.clone(),
                distance: m.distance,
                query_hash: m.query_hash.clone(),
                list_hash: m.list_hash.clone(),
                video: m
                    .video
                    .as_ref()
                    .map(|v| {
                        video_summary(
                            v.query_ranges.iter().map(|r| (r.start, r.end)),
                            v.query_match_percent,
                            v.compared_match_percent,
                        )
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        cluster,
        order,
        embargo_until: case
            .embargo
            .as_ref()
            .map(|e| fmt(e.until))
            .unwrap_or_default(),
        decision: case
            .decision
            .as_ref()
            .map(|d| {
                format!(
                    "{} by {} at {}{}",
                    serde_json::to_value(&d.input.outcome)
                        .ok()
                        .and_then(|v| v["outcome"].as_str().map(str::to_string))
                        .unwrap_or_default(),
                    d.decided_by,
                    fmt(d.decided_at),
                    if d.in_time { " (in time)" } else { " (late)" }
                )
            })
            .unwrap_or_default(),
        is_complaint: case
            .sources
            .iter()
            .any(|s| matches!(s, Source::Complaint { .. })),
        error,
        form,
    })
}

async fn order_view(
    state: &AppState,
    order_id: &str,
    view: &CaseView,
) -> Result<OrderView, WebError> {
    let store = &state.store;
    let record = store.order(order_id).await?;
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let annex_iii = takedown_review::annexes::annex_iii_draft(&record, store.clock().now());
    let mut annex_ii = None;
    if let Some(action_id) = view
        .case
        .decision
        .as_ref()
        .and_then(|d| d.action_id.clone())
    {
        let times = store.action_times(&action_id).await?;
        if let (Some(enforced), Some(url)) = (times.get("enforced_at"), &view.case.subject.url) {
            annex_ii = Some(AnnexII {
                authority_reference: record.order.section_a.reference.clone(),
                provider_reference: record.order_id.clone(),
                received_at: record.received_at,
                items: vec![AnnexIIItem {
                    url: url.clone(),
                    action: match view.case.decision.as_ref().map(|d| &d.input.outcome) {
                        Some(takedown_review::model::Outcome::Disable { .. }) => {
                            "disabled_in_all_member_states".into()
                        }
                        _ => "removed".into(),
                    },
                    time_of_action: *enforced,
                }],
                provider_name: record.order.section_a.addressee.clone(),
                signature: String::new(),
                date: store.clock().now(),
            });
        }
    }
    let grounds = record
        .order
        .grounds
        .iter()
        .filter_map(|g| serde_json::to_value(g).ok())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(OrderView {
        received_at: fmt(record.received_at),
        sha256: record.sha256.clone(),
        order_id: record.order_id.clone(),
        cross_border: record.order.cross_border(),
        grounds,
        annex_iii: annex_iii
            .map(|a| serde_json::to_string_pretty(&a))
            .transpose()?,
        annex_ii: annex_ii
            .map(|a| serde_json::to_string_pretty(&a))
            .transpose()?,
        order: record.order,
    })
}

async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let form = DecisionForm::parse(&pairs);
    let view = state.store.case(&id).await?;
    if view.case.senior_only && session.role == Role::Moderator {
        return Err(WebError::Forbidden);
    }
    let result = match form.input() {
        Ok(input) => decide_all(&state, &session, &id, &form.bulk, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/queue?decided={id}")).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Store(StoreError::Decision(_)))) => {
            let page = render_case(&state, &session, view, form, e.to_string()).await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(page.render()?),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// Decides `id`, then each ticked case of its cluster (claiming each first; a case someone
/// else holds, or no longer open, is refused before anything is decided).
async fn decide_all(
    state: &AppState,
    session: &Session,
    id: &str,
    bulk: &[String],
    input: &DecisionInput,
) -> Result<(), WebError> {
    let store = &state.store;
    let view = store.case(id).await?;
    for other in bulk {
        if !view.cluster.contains(other) {
            return Err(WebError::BadRequest(format!(
                "{other} does not share a hash with this case"
            )));
        }
        let o = store.case(other).await?;
        if o.case.senior_only && session.role == Role::Moderator {
            return Err(WebError::Forbidden);
        }
        input.validate(&o.case).map_err(StoreError::from)?;
        match state.ops.claim_one(store, other, &session.name).await? {
            Claim::Claimed => {}
            Claim::NotOpen => {
                return Err(WebError::BadRequest(format!("{other} is no longer open")));
            }
            Claim::HeldByOther => {
                return Err(WebError::BadRequest(format!(
                    "another moderator holds {other}"
                )));
            }
        }
    }
    store.decide(id, &session.name, input).await?;
    for other in bulk {
        store.decide(other, &session.name, input).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_match_is_summarised_with_its_stretches() {
        assert_eq!(
            video_summary([(0.0, 1.0), (12.0, 15.5)].into_iter(), 100.0, 40.0),
            "matched at 0.0–1.0 s, 12.0–15.5 s; 100 % of the post's frames, 40 % of the listed video's"
        );
    }
}
