//! One case: its evidence (matches, cluster, the order or notice behind it) and decision form,
//! deciding (one case or its whole cluster); its media are the `evidence` routes.
//!
//! Every handler starts with the session and the roles it allows, and every form post
//! checks the session's CSRF token before it changes anything.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, DECIDERS, READERS};
use super::media;
use super::ops::Claim;
use super::post_text::{PostTextView, is_text_rule};
use super::snapshot::source_name;
use super::state::{AppState, WebError};
use super::view::{clock_fields, defang, ms};
use super::words;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use takedown_review::model::{CaseState, DecisionInput, Role, Source};
use takedown_review::order::{AnnexII, RemovalOrder};
use takedown_review::store::{CaseView, StoreError};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/decide", post(decide))
        .route("/cases/{id}/annex/{file}", get(annex_file))
}

/// A match as shown.
pub(crate) struct MatchView {
    pub list: String,
    /// The list's name and source (from the hash lists; empty when they are not at hand).
    pub list_name: String,
    pub list_source: String,
    /// Why it matched, in words: the hash distance, or the text rule and what it matched.
    pub why: String,
    /// Whether the entry is a text rule (`url`, `url_md5`, `raw_text`, `text_regex`), not a
    /// hash.
    pub text_rule: bool,
    pub entry: String,
    pub labels: String,
    pub severity: String,
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
    pub short_id: String,
    pub state: &'static str,
    pub holder: String,
    /// The address of its first captured preview (empty: none, or past the first few).
    pub preview: String,
}

/// Related cases shown with their previews (the rest by id only).
const CLUSTER_PREVIEWS: usize = 12;

/// A decision as shown (the one that closed the case, or an earlier one in its history).
pub(crate) struct DecisionView {
    pub outcome: String,
    pub grounds: Vec<&'static str>,
    pub tos: String,
    pub exemption: String,
    pub justification: String,
    pub by: String,
    pub at: String,
    pub at_machine: String,
    pub in_time: bool,
}

impl DecisionView {
    fn of(d: &takedown_review::model::DecisionRecord) -> DecisionView {
        let value = serde_json::to_value(&d.input).unwrap_or_default();
        let code = |k: &str| value[k].as_str().unwrap_or("").to_string();
        DecisionView {
            outcome: words::outcome(&code("outcome")).to_string(),
            grounds: value["grounds"]
                .as_array()
                .map(|g| {
                    g.iter()
                        .filter_map(|v| v.as_str())
                        .map(words::ground)
                        .collect()
                })
                .unwrap_or_default(),
            tos: d.input.tos_clauses.join(", "),
            exemption: words::exemption(&code("exemption")).to_string(),
            justification: d.input.justification.clone(),
            by: d.decided_by.clone(),
            at: words::timestamp(d.decided_at),
            at_machine: words::machine_time(d.decided_at),
            in_time: d.in_time,
        }
    }
}

/// The form field an error message is about: the decision rules name it first
/// (`justification: required for this outcome`); the form's own checks are matched by words.
fn error_field(error: &str) -> String {
    let named = [
        "grounds",
        "justification",
        "territories",
        "tos_clauses",
        "exemption",
    ];
    if let Some(f) = named.iter().find(|f| error.contains(&format!("{f}:"))) {
        return f.to_string();
    }
    if error.contains("exemption") {
        "exemption".into()
    } else if error.contains("outcome") {
        "outcome".into()
    } else {
        String::new()
    }
}

/// Why a match matched, in words, from its entry's type (the key's prefix).
fn why_matched(m: &takedown_review::model::MatchRecord, threshold: Option<u32>) -> String {
    let kind = m.entry.split_once(':').map_or("", |(k, _)| k);
    let within = threshold.map_or(String::new(), |t| format!(" (the list matches up to {t})"));
    match kind {
        "url" => format!(
            "the post links to the listed URL “{}”",
            defang(&m.query_hash)
        ),
        "url_md5" => format!(
            "the MD5 of the post's URL “{}” is listed",
            defang(&m.query_hash)
        ),
        "raw_text" => format!(
            "the post's text is within 5 % of a listed text: “{}”",
            m.query_hash
        ),
        "text_regex" => format!("the text rule matched “{}”", m.query_hash),
        "md5" | "sha256" => format!("{} of the media is listed (exact)", kind.to_uppercase()),
        "vpdq" => "the video's frames match a listed video".to_string(),
        "" => format!("distance {}{within}", m.distance),
        other => format!(
            "{} distance {} bits{within}",
            other.to_uppercase(),
            m.distance
        ),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    short_id: String,
    class: &'static str,
    source: &'static str,
    state: &'static str,
    class_label: &'static str,
    source_label: &'static str,
    state_label: &'static str,
    /// The decision that closed the case.
    decided: Option<DecisionView>,
    /// Earlier decisions (escalations, decisions replaced after a complaint), oldest first.
    history: Vec<DecisionView>,
    /// Why an open escalated case is with the seniors: its latest escalation.
    escalation: Option<DecisionView>,
    received_machine: String,
    senior_only: bool,
    threat_to_life: bool,
    holder: String,
    you_hold: bool,
    can_claim: bool,
    /// The viewer took the decision this complaint contests (so may not claim it).
    own_decision: bool,
    can_decide: bool,
    /// Accounts a senior may hand this case to (empty: no reassigning here).
    reassign_to: Vec<String>,
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
    /// The post's text (collapsed on the page), when the case keeps it.
    post_text: Option<PostTextView>,
    /// Text (the post's, the matched spans) is blurred until asked for.
    veil_text: bool,
    evidence: Vec<media::ItemView>,
    /// The viewer's protections (blur, reveal, re-blur, this hour's count).
    w: super::wellness::Wellness,
    matches: Vec<MatchView>,
    cluster: Vec<ClusterRow>,
    /// What the related cases share: "the hash" or "the text rule".
    cluster_shares: &'static str,
    order: Option<OrderView>,
    embargo_until: String,
    is_complaint: bool,
    error: String,
    /// The form field the error is about (its input gets the focus and the error's id).
    error_field: String,
    /// Standard reasons: (outcome code, reason).
    canned: Vec<(String, String)>,
    form: DecisionForm,
    /// A status line (the decision just recorded on the previous case).
    flash: String,
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
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let view = state.store.case(&id).await?;
    let mut page = render_case(
        &state,
        &session,
        view,
        DecisionForm::default(),
        String::new(),
    )
    .await?;
    // Only an id of our own shape is named back (see the queue's flash).
    page.flash = q
        .get("decided")
        .map(|d| match super::queue::is_case_id(d) {
            true => format!("Decision recorded for {d}. This is the next case."),
            false => "Decision recorded. This is the next case.".to_string(),
        })
        .unwrap_or_default();
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
    let (mut due_ms, period_ms, mut left, mut urgency) =
        clock_fields(&case.sla, now, "no running clock");
    // A decided case's clock has stopped: it shows how long the decision took instead.
    if let Some(d) = case
        .decision
        .as_ref()
        .filter(|d| d.input.outcome.is_final())
    {
        due_ms = 0;
        urgency = if d.in_time { "stopped" } else { "breached" };
        left = format!(
            "decided after {}{}",
            super::view::countdown(d.decided_at - case.sla.received_at),
            if d.in_time { ", in time" } else { ", late" }
        );
    }
    let lease_live = view.lease_until.is_some_and(|until| until >= now);
    let holder = if lease_live {
        view.holder.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let you_hold = holder == session.name;
    let open = case.state == CaseState::Open;
    // The moderator who took the decision a complaint contests never decides the complaint.
    let barred = store.barred_decider(&case.id).await?;
    let own_decision = barred.as_deref() == Some(session.name.as_str());
    let may_decide = session.can(DECIDERS)
        && !(case.senior_only && session.role == Role::Moderator)
        && !own_decision;
    let mut cluster = Vec::new();
    // Related cases of queues the viewer may not see are not named.
    let related = store.visible_only(&view.cluster, session.role).await?;
    if !related.is_empty() {
        let mut pipe = redis::pipe();
        for c in &related {
            pipe.cmd("HMGET")
                .arg(store.key(&format!("case:{c}")))
                .arg(&["state", "holder"][..]);
        }
        let states: Vec<Vec<Option<String>>> = pipe.query_async(&mut store.connection()).await?;
        for (c, s) in related.iter().zip(states) {
            let st = match s.first().cloned().flatten().as_deref() {
                Some("open") => "open",
                Some("decided") => "decided",
                Some("suspended") => "suspended",
                Some("purged") => "purged",
                _ => "unknown",
            };
            let mut preview = String::new();
            if cluster.len() < CLUSTER_PREVIEWS {
                for (_, item) in store.evidence_items(c).await? {
                    if let (true, Some(sha)) = (item.has_preview, &item.sha256) {
                        preview = format!("/cases/{c}/evidence/{sha}/preview");
                        break;
                    }
                }
            }
            cluster.push(ClusterRow {
                id: c.clone(),
                short_id: words::short_id(c),
                state: st,
                holder: s.get(1).cloned().flatten().unwrap_or_default(),
                preview,
            });
        }
    }
    let order = match case.sources.iter().find_map(|s| match s {
        Source::RemovalOrder { order_id, .. } => Some(order_id.clone()),
        _ => None,
    }) {
        Some(order_id) => Some(order_view(state, &order_id).await?),
        None => None,
    };
    let wellness = super::wellness::load(state, &session.name).await?;
    let mut list_meta: std::collections::HashMap<String, takedown_hashlists::ListMeta> =
        Default::default();
    if let Some(lists) = &state.cfg.lists {
        for m in &view.matches {
            if list_meta.contains_key(&m.list_id) {
                continue;
            }
            let Ok(id) = takedown_hashlists::ListId::parse(&m.list_id) else {
                continue;
            };
            if let Ok(meta) = lists.meta(&id).await {
                list_meta.insert(m.list_id.clone(), meta);
            }
        }
    }
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut reassign_to = Vec::new();
    if open && session.can(&[Role::SeniorModerator]) {
        for (name, role) in super::auth::accounts(store).await? {
            let fits = match role {
                Role::SeniorModerator => true,
                Role::Moderator => !case.senior_only,
                _ => false,
            };
            if fits && name != holder && barred.as_deref() != Some(name.as_str()) {
                reassign_to.push(name);
            }
        }
    }
    let ranges: Vec<(f64, f64)> = view
        .matches
        .iter()
        .filter_map(|m| m.video.as_ref())
        .flat_map(|v| v.query_ranges.iter().map(|r| (r.start, r.end)))
        .collect();
    Ok(CasePage {
        reassign_to,
        short_id: words::short_id(&case.id),
        class_label: words::source(case.sla.class.as_str()),
        source_label: words::source(source_name(case)),
        state_label: words::state(case.state.as_str()),
        decided: (case.decision.as_ref())
            .filter(|d| d.input.outcome.is_final())
            .map(DecisionView::of),
        // An escalation is the case's latest decision while it waits for a senior.
        history: (case.history.iter())
            .chain(case.decision.iter().filter(|d| !d.input.outcome.is_final()))
            .map(DecisionView::of)
            .collect(),
        escalation: (case.decision.iter().chain(case.history.iter().rev()))
            .find(|d| open && case.senior_only && !d.input.outcome.is_final())
            .map(DecisionView::of),
        received_machine: words::machine_time(case.sla.received_at),
        chrome: Chrome::of(session, state),
        id: case.id.clone(),
        class: case.sla.class.as_str(),
        source: source_name(case),
        state: case.state.as_str(),
        senior_only: case.senior_only,
        threat_to_life: case.threat_to_life,
        you_hold,
        can_claim: open && may_decide && !you_hold && holder.is_empty(),
        own_decision,
        can_decide: open && may_decide && you_hold,
        holder,
        now_ms: ms(now),
        due_ms,
        period_ms,
        left,
        urgency,
        received_at: words::timestamp(case.sla.received_at),
        platform: case.subject.platform.clone(),
        post_id: case.subject.post_id.clone().unwrap_or_default(),
        media_id: case.subject.media_id.clone().unwrap_or_default(),
        url: case.subject.url.as_deref().map(defang).unwrap_or_default(),
        post_text: (store.post_text(&case.id).await?).map(|t| PostTextView::of(&t, &view.matches)),
        veil_text: super::post_text::veils_text(&view.matches),
        evidence: media::item_views(store, &session.name, &case.id, defang, &ranges).await?,
        w: wellness,
        matches: view
            .matches
            .iter()
            .map(|m| {
                let meta = list_meta.get(&m.list_id);
                let why = why_matched(m, meta.map(|l| l.threshold));
                let text_rule = is_text_rule(&m.entry);
                MatchView {
                    list_name: meta.map(|l| l.name.clone()).unwrap_or_default(),
                    list_source: meta.map(|l| l.source.clone()).unwrap_or_default(),
                    why,
                    text_rule,
                    list: m.list_id.clone(),
                    entry: m.entry.clone(),
                    labels: m.labels.join(", "),
                    severity: m.severity.clone(),
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
                }
            })
            .collect(),
        cluster_shares: if view.matches.iter().all(|m| is_text_rule(&m.entry)) {
            "the text rule"
        } else {
            "the hash"
        },
        cluster,
        order,
        embargo_until: case
            .embargo
            .as_ref()
            .map(|e| fmt(e.until))
            .unwrap_or_default(),
        is_complaint: case
            .sources
            .iter()
            .any(|s| matches!(s, Source::Complaint { .. })),
        error_field: error_field(&error),
        canned: state.cfg.canned_reasons.clone(),
        error,
        form,
        flash: String::new(),
    })
}

/// The order's replies that exist now: Annex II once every URL was removed or disabled and
/// enforced (the same builder as the API and the evidence package), the Annex III draft
/// while information is missing.
async fn annexes(
    store: &takedown_review::store::ReviewStore,
    record: &takedown_review::store::intake::OrderRecord,
) -> Result<(Option<AnnexII>, Option<takedown_review::order::AnnexIII>), WebError> {
    let annex_iii = takedown_review::annexes::annex_iii_draft(record, store.clock().now());
    let section_a = &record.order.section_a;
    let annex_ii = takedown_review::annexes::annex_ii(store, record, &section_a.addressee, "")
        .await?
        .ok();
    Ok((annex_ii, annex_iii))
}

/// An order's reply as a file: `annex-ii` or `annex-iii`, `.txt` (the form's text) or
/// `.json`.
async fn annex_file(
    State(state): State<AppState>,
    session: Session,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let view = state.store.case(&id).await?;
    let Some(order_id) = view.case.sources.iter().find_map(|s| match s {
        Source::RemovalOrder { order_id, .. } => Some(order_id.clone()),
        _ => None,
    }) else {
        return Err(WebError::NotFound(format!("{id} has no removal order")));
    };
    let record = state.store.order(&order_id).await?;
    let (annex_ii, annex_iii) = annexes(&state.store, &record).await?;
    let missing = || WebError::NotFound(format!("{file} for {id}"));
    let section_a = &record.order.section_a;
    let (body, ty) = match file.as_str() {
        "annex-ii.txt" => (
            annex_ii.ok_or_else(missing)?.to_text(section_a),
            "text/plain; charset=utf-8",
        ),
        "annex-ii.json" => (
            serde_json::to_string_pretty(&annex_ii.ok_or_else(missing)?)?,
            "application/json",
        ),
        "annex-iii.txt" => (
            annex_iii.ok_or_else(missing)?.to_text(section_a),
            "text/plain; charset=utf-8",
        ),
        "annex-iii.json" => (
            serde_json::to_string_pretty(&annex_iii.ok_or_else(missing)?)?,
            "application/json",
        ),
        _ => return Err(missing()),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, ty.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{order_id}-{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn order_view(state: &AppState, order_id: &str) -> Result<OrderView, WebError> {
    let store = &state.store;
    let record = store.order(order_id).await?;
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let (annex_ii, annex_iii) = annexes(store, &record).await?;
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
        annex_iii: annex_iii.map(|a| a.to_text(&record.order.section_a)),
        annex_ii: annex_ii.map(|a| a.to_text(&record.order.section_a)),
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
        // The next case opens at once (claimed), or the queue when there is none.
        Ok(()) => Ok(match state
            .store
            .claim_next_as(&session.name, session.role)
            .await?
        {
            Some(next) => Redirect::to(&format!("/cases/{next}?decided={id}")),
            None => Redirect::to(&format!("/queue?decided={id}&empty=1")),
        }
        .into_response()),
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
        if !view.cluster.contains(other) || !store.may_see_case(other, session.role).await? {
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
    fn errors_name_their_field() {
        assert_eq!(
            error_field("decision refused: justification: required for this outcome"),
            "justification"
        );
        assert_eq!(
            error_field("territories: use ISO 3166-1 alpha-2 codes"),
            "territories"
        );
        assert_eq!(
            error_field("a purpose exemption (Art. 1(3)) needs a justification"),
            "exemption"
        );
        assert_eq!(error_field("choose an outcome"), "outcome");
        assert_eq!(error_field("another moderator holds m-1"), "");
    }

    #[test]
    fn a_video_match_is_summarised_with_its_stretches() {
        assert_eq!(
            video_summary([(0.0, 1.0), (12.0, 15.5)].into_iter(), 100.0, 40.0),
            "matched at 0.0–1.0 s, 12.0–15.5 s; 100 % of the post's frames, 40 % of the listed video's"
        );
    }
}
