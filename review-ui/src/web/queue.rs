//! The moderator's queue: open cases by urgency with filters and live countdowns (updated in
//! place), the viewer's own claims, and claiming, releasing, skipping and reassigning.
//!
//! Every handler starts with the session and the roles it allows, and every form post
//! checks the session's CSRF token before it changes anything.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, DECIDERS, READERS};
use super::ops::{Claim, HandOver};
use super::snapshot::{Filter, Status, decode, jurisdiction, source_name};
use super::state::{AppState, WebError};
use super::view::{clock_fields, ms, urgency_of};
use super::words;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use std::collections::HashMap;
use takedown_review::model::{Case, CaseState, Role};

/// Rows on one queue page.
const PAGE: usize = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/queue", get(queue))
        .route("/queue/live", get(queue_live))
        .route("/queue/claim", post(claim_next))
        .route("/cases/{id}/claim", post(claim_one))
        .route("/cases/{id}/release", post(release))
        .route("/cases/{id}/skip", post(skip))
        .route("/cases/{id}/reassign", post(reassign))
}

/// One row of the queue table.
pub(crate) struct QueueRow {
    pub id: String,
    /// The id shortened for reading (the full one is the link's title).
    pub short_id: String,
    /// The class, source and status in words.
    pub class_label: &'static str,
    pub source_label: &'static str,
    pub status_label: &'static str,
    pub source: &'static str,
    pub lists: String,
    pub labels: String,
    pub jurisdiction: String,
    pub holder: String,
    /// When the holder's claim ends, in Unix ms (0: not claimed).
    pub claim_ms: i64,
    /// The claim's end as text (empty: not claimed).
    pub claim_left: String,
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
    /// The "my cases" view (the viewer's claims, with their expiry).
    mine: bool,
    /// Always false: the rows are rendered with their time left as text.
    live: bool,
    /// How many cases the viewer holds.
    mine_count: usize,
    /// The session's CSRF token (the rows' forms).
    csrf: String,
    /// How long a claim lasts, in ms.
    lease_ms: i64,
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

/// The rows of the queue table alone (the live update swaps them in).
#[derive(Template)]
#[template(path = "queue_rows.html")]
struct QueueRows<'a> {
    rows: &'a [QueueRow],
    mine: bool,
    live: bool,
    csrf: &'a str,
    lease_ms: i64,
}

/// The queue's rows and counts as JSON, for the page to update itself in place (polled
/// every 500 ms while it is visible): the same query, the same page, rendered the same way.
async fn queue_live(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let page = queue_page(&state, &session, &q).await?;
    let rows = QueueRows {
        rows: &page.rows,
        mine: page.mine,
        live: true,
        csrf: &session.csrf,
        lease_ms: page.lease_ms,
    }
    .render()?;
    let body = serde_json::json!({
        "now_ms": page.now_ms,
        "rows": rows,
        "empty": page.rows.is_empty(),
        "counts": {
            "queued": page.queued,
            "senior": page.senior,
            "claimed": page.claimed,
            "breached": page.breached,
            "matching": page.matching,
            "mine": page.mine_count,
        },
        "counts_at": page.counts_at,
    });
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

/// The viewer's claims, most urgent lease end first: (case id, lease end in ms).
async fn my_claims(state: &AppState, name: &str) -> Result<Vec<(String, i64)>, WebError> {
    let store = &state.store;
    let leases: Scored = store
        .connection()
        .zrange_withscores(store.key("leases"), 0, -1)
        .await?;
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for (id, _) in &leases {
        pipe.hget(store.key(&format!("case:{id}")), "holder");
    }
    let holders: Vec<Option<String>> = pipe.query_async(&mut store.connection()).await?;
    Ok(leases
        .into_iter()
        .zip(holders)
        .filter(|(_, h)| h.as_deref() == Some(name))
        .map(|((id, until), _)| (id, until as i64))
        .collect())
}

/// A restricted viewer's unfiltered queue is read live while at most this many open cases
/// are hidden from it (beyond, the index's filter pass is cheaper than over-reading).
const MAX_HIDDEN_LIVE: usize = 5_000;

async fn queue_page(
    state: &AppState,
    session: &Session,
    q: &HashMap<String, String>,
) -> Result<QueuePage, WebError> {
    let store = &state.store;
    let mut filter = Filter::from_query(q);
    filter.access = super::queues::restricted(state, session).await?;
    let snap = state.snapshot.get(store).await?;
    // The cases of queues the viewer's role may not see: out of the rows and every count.
    let hidden = snap.hidden(&filter);
    // A case the index has not read yet may be in a hidden queue: a restricted viewer's live
    // list leaves such cases out for the moment it takes.
    let restricted = filter.access.is_some();
    if hidden.is_empty() {
        filter.access = None;
    }
    let (mut queued, mut senior, mut claimed, _) = store.counts().await?;
    for r in &hidden {
        let n = match r.status {
            Status::Queued => &mut queued,
            Status::Escalated => &mut senior,
            Status::Claimed => &mut claimed,
        };
        *n = n.saturating_sub(1);
    }
    let mine = q.contains_key("mine");
    let claims = my_claims(state, &session.name).await?;
    let (ids, matching): (Vec<(String, Status)>, usize) = if mine {
        (
            claims
                .iter()
                .take(PAGE)
                .map(|(id, _)| (id.clone(), Status::Claimed))
                .collect(),
            claims.len(),
        )
    } else if q.get("capture").map(String::as_str) == Some("failed") {
        // Cases whose evidence capture failed (issue 12's filter), in case-id order.
        let failed = store.cases_with_failed_captures().await?;
        let status_of = |id: &str| snap.row(id).map_or(Status::Queued, |r| r.status);
        (
            failed
                .iter()
                .take(PAGE)
                .map(|id| (id.clone(), status_of(id)))
                .collect(),
            failed.len(),
        )
    } else if filter.is_live() && hidden.len() <= MAX_HIDDEN_LIVE {
        // The live sorted sets, read far enough to fill a page past the hidden cases.
        let fetch = (PAGE + hidden.len()) as isize - 1;
        let (main, sen): (Scored, Scored) = redis::pipe()
            .zrange_withscores(store.key("queue"), 0, fetch)
            .zrange_withscores(store.key("queue:senior"), 0, fetch)
            .query_async(&mut store.connection())
            .await?;
        let hidden_ids: std::collections::HashSet<&str> =
            hidden.iter().map(|r| r.id.as_str()).collect();
        let shown = |id: &String| {
            !hidden_ids.contains(id.as_str()) && (!restricted || snap.row(id).is_some())
        };
        let mut all: Vec<(String, f64, Status)> = main
            .into_iter()
            .map(|(id, s)| (id, s, Status::Queued))
            .chain(sen.into_iter().map(|(id, s)| (id, s, Status::Escalated)))
            .filter(|(id, ..)| shown(id))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all.truncate(PAGE);
        (
            all.into_iter().map(|(id, _, s)| (id, s)).collect(),
            (queued + senior) as usize,
        )
    } else {
        let now = store.clock().now();
        // The urgency class depends on the time: checked on the rows the facets find.
        let (hits, n) = snap.filtered(&filter, PAGE, |r| {
            filter.urgency.is_empty() || urgency_of(r, now) == filter.urgency
        });
        (hits.iter().map(|r| (r.id.clone(), r.status)).collect(), n)
    };
    let now = store.clock().now();
    let rows = live_rows(state, &ids, now).await?;
    let facets = snap.facets_without(&hidden);
    let facet = |name: &'static str, title: &'static str, selected: &String| {
        let values = facets
            .get(name)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        (name, title, selected.clone(), values)
    };
    let breached = snap.breached_at(now).saturating_sub(
        (hidden.iter())
            .filter(|r| r.breached || r.due_at.is_some_and(|d| d <= now))
            .count(),
    ) as u64;
    Ok(QueuePage {
        chrome: Chrome::of(session, state),
        rows,
        mine,
        live: false,
        mine_count: claims.len(),
        csrf: session.csrf.clone(),
        lease_ms: store.options().lease.whole_milliseconds() as i64,
        now_ms: ms(now),
        facets: vec![
            facet("source", "Source", &filter.source),
            facet("list", "List", &filter.list),
            facet("label", "Label", &filter.label),
            facet("jurisdiction", "Jurisdiction", &filter.jurisdiction),
            facet("status", "Status", &filter.status),
            urgency_facet(&snap, &filter, now),
            facet("queue", "Queue", &filter.queue),
        ],
        queued,
        senior,
        claimed,
        breached,
        matching,
        counts_at: snap
            .delta
            .read_at
            .unwrap_or(snap.base.taken_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        // Only an id of our own shape is named back: the query string is the visitor's to
        // write, and the status line must not say what a link's author wants it to.
        flash: q
            .get("decided")
            .map(|id| match is_case_id(id) {
                true => format!("Decision recorded for {id}."),
                false => "Decision recorded.".to_string(),
            })
            .or_else(|| q.get("empty").map(|_| "The queue is empty.".to_string()))
            .or_else(|| {
                q.get("released")
                    .map(|_| "The case went back to the queue.".to_string())
            })
            .unwrap_or_default(),
        can_claim: session.can(DECIDERS),
    })
}

/// The urgency filter (the SLA dashboard's bars link to it): each class with the open cases
/// in it now, by the colouring rule of the countdowns, most urgent first.
fn urgency_facet(snap: &super::changes::View, filter: &Filter, now: time::OffsetDateTime) -> Facet {
    let mut counts: Vec<(String, u64)> = ["breached", "critical", "warn", "ok", "suspended"]
        .iter()
        .map(|u| (u.to_string(), 0))
        .collect();
    for r in snap.rows().filter(|r| filter.visible(r)) {
        let u = urgency_of(r, now);
        if let Some(c) = counts.iter_mut().find(|(k, _)| k == u) {
            c.1 += 1;
        }
    }
    // Like the other filters, only the values some case has (and the one chosen).
    counts.retain(|(k, n)| *n > 0 || *k == filter.urgency);
    ("urgency", "Urgency", filter.urgency.clone(), counts)
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
            .arg(&["doc", "holder", "lease_until"][..])
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
            let m: takedown_review::model::MatchRecord = serde_json::from_str(m)?;
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
        let holder = fields.get(1).cloned().flatten().unwrap_or_default();
        let claim_ms = match holder.is_empty() {
            true => 0,
            false => fields
                .get(2)
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0),
        };
        let status = if case.senior_only && *status == Status::Queued {
            "escalated"
        } else {
            status.as_str()
        };
        rows.push(QueueRow {
            id: id.clone(),
            short_id: words::short_id(id),
            class_label: words::source(case.sla.class.as_str()),
            source_label: words::source(source_name(&case)),
            status_label: words::state(status),
            source: source_name(&case),
            lists: lists.join(", "),
            labels: labels.join(", "),
            jurisdiction: jurisdiction(&case).unwrap_or_default(),
            holder,
            claim_ms,
            claim_left: match claim_ms {
                0 => String::new(),
                until => super::view::countdown(time::Duration::milliseconds(until - ms(now))),
            },
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
    Ok(
        match state
            .store
            .claim_next_as(&session.name, session.role)
            .await?
        {
            Some(id) => Redirect::to(&format!("/cases/{id}")).into_response(),
            None => Redirect::to("/queue?empty=1").into_response(),
        },
    )
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
    if state.store.barred_decider(&id).await?.as_deref() == Some(session.name.as_str()) {
        return Err(WebError::BadRequest(OWN_DECISION.into()));
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

/// Why the moderator who took a contested decision may not claim the complaint against it.
pub(crate) const OWN_DECISION: &str = "you took the decision this complaint contests: another \
     reviewer must decide it";

/// Gives a held case back to its queue.
async fn release(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    handed_over(
        state
            .ops
            .hand_over(&state.store, &id, &session.name, HandOver::Release)
            .await?,
    )?;
    Ok(Redirect::to("/queue?released=1").into_response())
}

/// Passes on a held case: the next case is claimed first (so it is not this one again),
/// then this one goes back to its queue.
async fn skip(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    let view = state.store.case(&id).await?;
    if view.holder.as_deref() != Some(session.name.as_str()) {
        return Err(WebError::BadRequest("you do not hold this case".into()));
    }
    let next = state
        .store
        .claim_next_as(&session.name, session.role)
        .await?;
    handed_over(
        state
            .ops
            .hand_over(&state.store, &id, &session.name, HandOver::Skip)
            .await?,
    )?;
    Ok(match next {
        Some(next) => Redirect::to(&format!("/cases/{next}")).into_response(),
        None => Redirect::to("/queue?empty=1").into_response(),
    })
}

/// A senior moderator hands a case to another moderator (`to`), whoever holds it now.
async fn reassign(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(&[Role::SeniorModerator])?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let to = field(&pairs, "to").unwrap_or("").trim().to_string();
    let view = state.store.case(&id).await?;
    let accounts = super::auth::accounts(&state.store).await?;
    let role = accounts
        .iter()
        .find(|(name, _)| *name == to)
        .map(|(_, role)| *role)
        .ok_or_else(|| WebError::BadRequest(format!("no account named {to:?}")))?;
    let can_take = match role {
        Role::SeniorModerator => true,
        Role::Moderator => !view.case.senior_only,
        _ => false,
    };
    if !can_take {
        return Err(WebError::BadRequest(format!(
            "{to} cannot decide this case (role {})",
            super::auth::role_name(role)
        )));
    }
    if state.store.barred_decider(&id).await?.as_deref() == Some(to.as_str()) {
        return Err(WebError::BadRequest(format!(
            "{to} took the contested decision and cannot decide this complaint"
        )));
    }
    let how = HandOver::Reassign { to: &to };
    let done = match state
        .ops
        .hand_over(&state.store, &id, &session.name, how)
        .await?
    {
        // Nobody holds it: claim it for them.
        Claim::NotOpen if view.case.state == CaseState::Open => {
            state.ops.claim_one(&state.store, &id, &to).await?
        }
        other => other,
    };
    handed_over(done)?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

fn handed_over(result: Claim) -> Result<(), WebError> {
    match result {
        Claim::Claimed => Ok(()),
        Claim::NotOpen => Err(WebError::BadRequest(
            "this case is not open or not claimed".into(),
        )),
        Claim::HeldByOther => Err(WebError::BadRequest(
            "another moderator holds this case".into(),
        )),
    }
}

/// Whether `id` has the shape of our ids (`<prefix>-<32 hex>`, see
/// [`takedown_review::model::derive_id`]).
pub(crate) fn is_case_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(prefix, hex)| {
        (1..=8).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::is_case_id;

    #[test]
    fn only_ids_of_our_shape_are_echoed() {
        let id = takedown_review::model::derive_id("m", &["p", "m1"]);
        assert!(is_case_id(&id), "{id}");
        for bad in [
            "Your account is suspended, call +1 555",
            "m-<b>x</b>",
            "m-0123",
            "M-0123456789abcdef0123456789abcdef",
            "m-0123456789abcdef0123456789abcdeg",
            "",
        ] {
            assert!(!is_case_id(bad), "{bad}");
        }
    }
}
