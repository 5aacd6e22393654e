//! The moderator's pages: the queue, a case with its evidence and decision form, claiming,
//! deciding (one case or a cluster), the audited media endpoint and the reveal preference.
//!
//! Every handler starts with the session and the roles it allows, and every form post
//! checks the session's CSRF token before it changes anything.

use super::auth::{Session, field, form_pairs};
use super::media;
use super::ops::Claim;
use super::snapshot::{Filter, Status, decode, jurisdiction, source_name};
use super::view::{clock_fields, defang, ms};
use super::{AppState, WebError};
use crate::model::{Case, CaseState, DecisionInput, Role, Source};
use crate::order::{AnnexII, AnnexIII, AnnexIIItem, CannotComply, RemovalOrder};
use crate::store::{CaseView, StoreError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use std::collections::HashMap;

/// Roles that may read the queue and cases.
pub(crate) const READERS: &[Role] = &[
    Role::Moderator,
    Role::SeniorModerator,
    Role::Legal,
    Role::Auditor,
];
/// Roles that may claim and decide.
pub(crate) const DECIDERS: &[Role] = &[Role::Moderator, Role::SeniorModerator];
/// Rows on one queue page.
const PAGE: usize = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/queue", get(queue))
        .route("/queue/claim", post(claim_next))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/claim", post(claim_one))
        .route("/cases/{id}/decide", post(decide))
        .route("/cases/{id}/media", get(media_bytes))
        .route("/cases/{id}/media/revealed", post(media_revealed))
        .route("/prefs", get(prefs_page).post(save_prefs))
}

/// What the layout shows of the user.
pub(crate) struct Chrome {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub supervise: bool,
    pub audit: bool,
    pub lists: bool,
    pub admin: bool,
}

impl Chrome {
    pub fn of(s: &Session, state: &AppState) -> Self {
        Chrome {
            name: s.name.clone(),
            role: s.role_name(),
            csrf: s.csrf.clone(),
            supervise: s.can(super::supervisor::SUPERVISORS),
            audit: s.can(super::supervisor::AUDITORS),
            lists: state.cfg.lists.is_some() && s.can(super::supervisor::CURATORS),
            admin: s.can(&[]),
        }
    }
}

/// One row of the queue table.
pub(crate) struct QueueRow {
    pub id: String,
    pub class: &'static str,
    pub source: &'static str,
    pub lists: String,
    pub labels: String,
    pub jurisdiction: String,
    pub status: &'static str,
    pub holder: String,
    /// Deadline in Unix ms (0: no running clock).
    pub due_ms: i64,
    pub period_ms: i64,
    pub left: String,
    pub urgency: &'static str,
}

/// One filter of the queue: (field name, title, chosen value, values with their counts).
type Facet = (&'static str, &'static str, String, Vec<(String, u64)>);
/// Sorted-set members with their scores.
type Scored = Vec<(String, f64)>;

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    now_ms: i64,
    facets: Vec<Facet>,
    queued: u64,
    senior: u64,
    claimed: u64,
    breached: u64,
    matching: usize,
    counts_at: String,
    flash: String,
    can_claim: bool,
}

async fn queue(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let page = queue_page(&state, &session, &q).await?;
    Ok(Html(page.render()?).into_response())
}

async fn queue_page(
    state: &AppState,
    session: &Session,
    q: &HashMap<String, String>,
) -> Result<QueuePage, WebError> {
    let store = &state.store;
    let filter = Filter::from_query(q);
    let snap = state.snapshot.get(store).await?;
    let (queued, senior, claimed, _) = store.counts().await?;
    let (ids, matching): (Vec<(String, Status)>, usize) = if filter.is_live() {
        let (main, sen): (Scored, Scored) = redis::pipe()
            .zrange_withscores(store.key("queue"), 0, PAGE as isize - 1)
            .zrange_withscores(store.key("queue:senior"), 0, PAGE as isize - 1)
            .query_async(&mut store.connection())
            .await?;
        let mut all: Vec<(String, f64, Status)> = main
            .into_iter()
            .map(|(id, s)| (id, s, Status::Queued))
            .chain(sen.into_iter().map(|(id, s)| (id, s, Status::Escalated)))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all.truncate(PAGE);
        (
            all.into_iter().map(|(id, _, s)| (id, s)).collect(),
            (queued + senior) as usize,
        )
    } else {
        let hits: Vec<&super::snapshot::Row> =
            snap.rows.iter().filter(|r| filter.matches(r)).collect();
        (
            hits.iter()
                .take(PAGE)
                .map(|r| (r.id.clone(), r.status))
                .collect(),
            hits.len(),
        )
    };
    let now = store.clock().now();
    let rows = live_rows(state, &ids, now).await?;
    let facet = |name: &'static str, title: &'static str, selected: &String| {
        let values = snap
            .facets
            .get(name)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        (name, title, selected.clone(), values)
    };
    let breached = snap
        .facets
        .get("status")
        .and_then(|m| m.get("breached"))
        .copied()
        .unwrap_or(0);
    Ok(QueuePage {
        chrome: Chrome::of(session, state),
        rows,
        now_ms: ms(now),
        facets: vec![
            facet("source", "Source", &filter.source),
            facet("list", "List", &filter.list),
            facet("label", "Label", &filter.label),
            facet("jurisdiction", "Jurisdiction", &filter.jurisdiction),
            facet("status", "Status", &filter.status),
        ],
        queued,
        senior,
        claimed,
        breached,
        matching,
        counts_at: snap
            .taken_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        flash: q
            .get("decided")
            .map(|id| format!("Decision recorded for {id}."))
            .or_else(|| q.get("empty").map(|_| "The queue is empty.".to_string()))
            .unwrap_or_default(),
        can_claim: session.can(DECIDERS),
    })
}

/// Reads the shown cases live (documents and matches in one pipeline), dropping any that
/// closed since the snapshot.
async fn live_rows(
    state: &AppState,
    ids: &[(String, Status)],
    now: time::OffsetDateTime,
) -> Result<Vec<QueueRow>, WebError> {
    let store = &state.store;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for (id, _) in ids {
        pipe.cmd("HMGET")
            .arg(store.key(&format!("case:{id}")))
            .arg(&["doc", "holder"][..])
            .lrange(store.key(&format!("case:{id}:matches")), 0, -1);
    }
    let replies: Vec<redis::Value> = pipe.query_async(&mut store.connection()).await?;
    let mut rows = Vec::with_capacity(ids.len());
    for ((id, status), pair) in ids.iter().zip(replies.chunks(2)) {
        let fields: Vec<Option<String>> = decode(&pair[0])?;
        let matches: Vec<String> = decode(&pair[1])?;
        let Some(doc) = fields.first().cloned().flatten() else {
            continue;
        };
        let case: Case = serde_json::from_str(&doc)?;
        if case.state != CaseState::Open {
            continue;
        }
        let mut lists: Vec<String> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        for m in &matches {
            let m: crate::model::MatchRecord = serde_json::from_str(m)?;
            if !lists.contains(&m.list_id) {
                lists.push(m.list_id);
            }
            for l in m.labels {
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
        }
        let (due_ms, period_ms, left, urgency) = clock_fields(&case.sla, now, "suspended");
        rows.push(QueueRow {
            id: id.clone(),
            class: case.sla.class.as_str(),
            source: source_name(&case),
            lists: lists.join(", "),
            labels: labels.join(", "),
            jurisdiction: jurisdiction(&case).unwrap_or_default(),
            status: if case.senior_only && *status == Status::Queued {
                "escalated"
            } else {
                status.as_str()
            },
            holder: fields.get(1).cloned().flatten().unwrap_or_default(),
            due_ms,
            period_ms,
            left,
            urgency,
        });
    }
    Ok(rows)
}

async fn claim_next(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    let senior = matches!(session.role, Role::SeniorModerator | Role::Admin);
    Ok(match state.store.claim_next(&session.name, senior).await? {
        Some(id) => Redirect::to(&format!("/cases/{id}")).into_response(),
        None => Redirect::to("/queue?empty=1").into_response(),
    })
}

async fn claim_one(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    let view = state.store.case(&id).await?;
    if view.case.senior_only && session.role == Role::Moderator {
        return Err(WebError::Forbidden);
    }
    match state
        .ops
        .claim_one(&state.store, &id, &session.name)
        .await?
    {
        Claim::Claimed => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Claim::NotOpen => Err(WebError::BadRequest("this case is no longer open".into())),
        Claim::HeldByOther => Err(WebError::BadRequest(
            "another moderator holds this case".into(),
        )),
    }
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
    has_media: bool,
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
        has_media: media::has_media(store, &case.id).await?,
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
    let annex_iii = record.order.insufficient().then(|| AnnexIII {
        authority_reference: record.order.section_a.reference.clone(),
        provider_reference: record.order_id.clone(),
        received_at: record.received_at,
        reason: CannotComply::InsufficientInformation,
        details: record.order.missing.clone(),
        explanation: "The order lacks information needed to execute it; the one-hour period starts when the clarification is received (Art. 3(8)).".into(),
        draft: true,
        produced_at: store.clock().now(),
    });
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
                        Some(crate::model::Outcome::Disable { .. }) => {
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

async fn media_bytes(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let Some((ty, bytes)) = media::get_media(&state.store, &id).await? else {
        return Err(WebError::Store(StoreError::NotFound(format!(
            "media of case {id}"
        ))));
    };
    state
        .ops
        .audit(
            &state.store,
            &id,
            &session.name,
            "media.viewed",
            r#"{"shown":"blurred"}"#,
            "case page",
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"media\"".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn media_revealed(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    session.check_csrf(headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))?;
    state.store.case(&id).await?;
    state
        .ops
        .audit(
            &state.store,
            &id,
            &session.name,
            "media.revealed",
            r#"{"shown":"clear"}"#,
            "case page",
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[derive(Template)]
#[template(path = "prefs.html")]
struct PrefsPage {
    chrome: Chrome,
    reveal_hold: bool,
    saved: bool,
}

async fn prefs_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let reveal: Option<String> = state
        .store
        .connection()
        .hget(
            state.store.key(&format!("web:prefs:{}", session.name)),
            "reveal",
        )
        .await?;
    let page = PrefsPage {
        chrome: Chrome::of(&session, &state),
        reveal_hold: reveal.as_deref() == Some("hold"),
        saved: q.contains_key("saved"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn save_prefs(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let reveal = match field(&pairs, "reveal") {
        Some("hold") => "hold",
        Some("click") => "click",
        _ => return Err(WebError::BadRequest("reveal is click or hold".into())),
    };
    let _: () = state
        .store
        .connection()
        .hset(
            state.store.key(&format!("web:prefs:{}", session.name)),
            "reveal",
            reveal,
        )
        .await?;
    state
        .ops
        .audit(
            &state.store,
            &session.name,
            &session.name,
            "ui.preference",
            &serde_json::json!({ "reveal": reveal }).to_string(),
            "",
        )
        .await?;
    Ok(Redirect::to("/prefs?saved=1").into_response())
}
