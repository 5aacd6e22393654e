//! Named queues in the UI: the admin's page of queues and routing rules (each save a new
//! version, audited by the store), and the access rule every page of a case passes through:
//! a user whose role may not see a case's queue gets "not found", in the queue and by URL.
//!
//! The rules themselves, their validation and their bounds are `takedown_review::routing`;
//! this module only turns them into a form and back.

use super::auth::{Session, field, form_pairs, role_name};
use super::chrome::Chrome;
use super::state::{AppState, WebError, error_page};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::HashMap;
use takedown_review::model::Role;
use takedown_review::routing::{
    COMPLAINTS, Conditions, QA, QUEUE_ROLES, QueueDef, RoutingConfig, Rule, SOURCES,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/admin/routing", get(page).post(save))
}

/// A queue as the form shows it.
struct QueueForm {
    /// The form fields' prefix (`q0`).
    p: String,
    name: String,
    title: String,
    /// (role value, role shown, checked)
    roles: Vec<(&'static str, &'static str, bool)>,
    qa: String,
    fixed: bool,
}

/// A rule as the form shows it.
struct RuleForm {
    n: usize,
    source: String,
    list: String,
    label: String,
    severity: String,
    jurisdiction: String,
    language: String,
    queue: String,
}

#[derive(Template)]
#[template(path = "routing.html")]
struct RoutingPage {
    chrome: Chrome,
    version: u64,
    queues: Vec<QueueForm>,
    new_roles: Vec<(&'static str, &'static str, bool)>,
    rules: Vec<RuleForm>,
    rule_queues: Vec<String>,
    default_queue: String,
    sources: Vec<&'static str>,
    severities: [&'static str; 4],
    /// (version, who, when, queues, rules)
    history: Vec<(u64, String, String, usize, usize)>,
    error: String,
    flash: String,
}

fn role_value(r: Role) -> &'static str {
    match r {
        Role::Moderator => "moderator",
        Role::SeniorModerator => "senior_moderator",
        Role::Legal => "legal",
        _ => "auditor",
    }
}

fn roles_of(have: &[Role]) -> Vec<(&'static str, &'static str, bool)> {
    QUEUE_ROLES
        .iter()
        .map(|r| (role_value(*r), role_name(*r), have.contains(r)))
        .collect()
}

async fn render(
    state: &AppState,
    session: &Session,
    error: String,
    flash: String,
) -> Result<Response, WebError> {
    let store = &state.store;
    let config = store.routing().await?;
    let history = store
        .routing_versions(10)
        .await?
        .into_iter()
        .map(|v| {
            let at = OffsetDateTime::from_unix_timestamp_nanos(v.at_ms as i128 * 1_000_000)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default();
            (
                v.version,
                v.actor,
                at,
                v.config.queues.len(),
                v.config.rules.len(),
            )
        })
        .collect();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let page = RoutingPage {
        chrome: Chrome::of(session, state),
        version: config.version,
        queues: config
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| QueueForm {
                p: format!("q{i}"),
                name: q.name.clone(),
                title: q.title.clone(),
                roles: roles_of(&q.roles),
                qa: format!("{}", q.qa_percent),
                fixed: q.name == COMPLAINTS || q.name == QA,
            })
            .collect(),
        new_roles: roles_of(&[]),
        rules: config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleForm {
                n: i + 1,
                source: opt(&r.when.source),
                list: opt(&r.when.list),
                label: opt(&r.when.label),
                severity: opt(&r.when.severity),
                jurisdiction: opt(&r.when.jurisdiction),
                language: opt(&r.when.language),
                queue: r.queue.clone(),
            })
            .collect(),
        rule_queues: config
            .queues
            .iter()
            .filter(|q| q.name != COMPLAINTS && q.name != QA)
            .map(|q| q.name.clone())
            .collect(),
        default_queue: config.default_queue.clone(),
        sources: SOURCES
            .iter()
            .copied()
            .filter(|s| *s != "complaint")
            .collect(),
        severities: ["critical", "high", "medium", "low"],
        history,
        error: error.clone(),
        flash,
    };
    let status = match error.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(&[])?;
    let flash = q
        .get("saved")
        .and_then(|v| v.parse::<u64>().ok())
        .map(|v| format!("Saved as version {v}."))
        .unwrap_or_default();
    render(&state, &session, String::new(), flash).await
}

/// The configuration the form describes (validation is the store's).
fn parse_form(pairs: &[(String, String)]) -> Result<RoutingConfig, String> {
    let get = |k: &str| field(pairs, k).map(str::trim).unwrap_or("");
    let roles = |prefix: &str| -> Vec<Role> {
        pairs
            .iter()
            .filter(|(k, _)| k == &format!("{prefix}.role"))
            .filter_map(|(_, v)| v.parse::<Role>().ok())
            .collect()
    };
    let qa = |prefix: &str| -> Result<f64, String> {
        let v = get(&format!("{prefix}.qa"));
        match v {
            "" => Ok(takedown_review::routing::DEFAULT_QA_PERCENT),
            v => v
                .parse::<f64>()
                .map_err(|_| format!("{prefix}: the QA share must be a number of percent")),
        }
    };
    let mut queues = Vec::new();
    for i in 0.. {
        let p = format!("q{i}");
        let name = get(&format!("{p}.name"));
        if name.is_empty() {
            break;
        }
        if field(pairs, &format!("{p}.delete")).is_some() {
            continue;
        }
        queues.push(QueueDef {
            name: name.to_string(),
            title: get(&format!("{p}.title")).to_string(),
            roles: roles(&p),
            qa_percent: qa(&p)?,
        });
        if i > takedown_review::routing::MAX_QUEUES {
            break;
        }
    }
    let new_name = get("qnew.name");
    if !new_name.is_empty() {
        queues.push(QueueDef {
            name: new_name.to_string(),
            title: match get("qnew.title") {
                "" => new_name.to_string(),
                t => t.to_string(),
            },
            roles: roles("qnew"),
            qa_percent: qa("qnew")?,
        });
    }
    let cond = |p: &str, k: &str| {
        let v = get(&format!("{p}.{k}"));
        (!v.is_empty()).then(|| v.to_string())
    };
    let mut rules: Vec<(f64, usize, Rule)> = Vec::new();
    for i in 0..=takedown_review::routing::MAX_RULES + 1 {
        let p = if i == 0 {
            "rnew".to_string()
        } else {
            format!("r{i}")
        };
        let queue = get(&format!("{p}.queue"));
        if queue.is_empty() {
            if i == 0 {
                continue;
            }
            break;
        }
        if field(pairs, &format!("{p}.delete")).is_some() {
            continue;
        }
        let order = match get(&format!("{p}.order")) {
            "" if i == 0 => f64::MAX,
            v => v
                .parse::<f64>()
                .map_err(|_| format!("rule {i}: the position must be a number"))?,
        };
        rules.push((
            order,
            if i == 0 { usize::MAX } else { i },
            Rule {
                when: Conditions {
                    source: cond(&p, "source"),
                    list: cond(&p, "list"),
                    label: cond(&p, "label"),
                    severity: cond(&p, "severity"),
                    jurisdiction: cond(&p, "jurisdiction").map(|j| j.to_ascii_uppercase()),
                    language: cond(&p, "language"),
                },
                queue: queue.to_string(),
            },
        ));
    }
    // By the position typed, ties in their old order, the new rule last among equals.
    rules.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(RoutingConfig {
        version: 0,
        queues,
        rules: rules.into_iter().map(|(_, _, r)| r).collect(),
        default_queue: get("default_queue").to_string(),
    })
}

async fn save(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(&[])?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let expected = field(&pairs, "version")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| WebError::BadRequest("version: missing".into()))?;
    let config = match parse_form(&pairs) {
        Ok(c) => c,
        Err(e) => return render(&state, &session, e, String::new()).await,
    };
    match state
        .store
        .save_routing(expected, config, &session.name)
        .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/admin/routing?saved={v}")).into_response()),
        Err(e @ takedown_review::store::StoreError::Invalid(_))
        | Err(e @ takedown_review::store::StoreError::State(_)) => {
            render(&state, &session, e.to_string(), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The routing in force and the session's role, when the role does not see every queue
/// (the queue page then hides the cases of the others).
pub(crate) async fn restricted(
    state: &AppState,
    session: &Session,
) -> Result<Option<(RoutingConfig, Role)>, WebError> {
    let config = state.store.routing().await?;
    Ok(match config.sees_all(session.role) {
        true => None,
        false => Some((config, session.role)),
    })
}

/// The case id of a path under `/cases/{id}`.
fn case_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/cases/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Answers "not found" for any page or action of a case whose queue the session's role may
/// not see, before the page's own handler runs (which then cannot leak it by mistake).
pub(crate) async fn case_guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(id) = case_of(req.uri().path()).map(str::to_string) else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let session = Session::from_request_parts(&mut parts, &state).await;
    let req = Request::from_parts(parts, body);
    let Ok(session) = session else {
        // No session: the page's handler sends the visitor to the login.
        return next.run(req).await;
    };
    match state.store.may_see_case(&id, session.role).await {
        Ok(true) => next.run(req).await,
        Ok(false) => error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no page at this address. It may have been mistyped, or the case may have \
             been purged.",
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn case_paths_name_their_case() {
        assert_eq!(case_of("/cases/m-1"), Some("m-1"));
        assert_eq!(case_of("/cases/m-1/decide"), Some("m-1"));
        assert_eq!(case_of("/cases/"), None);
        assert_eq!(case_of("/queue"), None);
        assert_eq!(case_of("/api/v1/cases/m-1"), None);
    }

    #[test]
    fn the_form_gives_queues_and_rules_in_the_order_typed() {
        let c = parse_form(&pairs(&[
            ("q0.name", "general"),
            ("q0.title", "General"),
            ("q0.role", "moderator"),
            ("q0.role", "senior_moderator"),
            ("q0.qa", "2.5"),
            ("q1.name", "old"),
            ("q1.title", "Old"),
            ("q1.role", "legal"),
            ("q1.delete", "on"),
            ("qnew.name", "orders"),
            ("qnew.role", "legal"),
            ("r1.order", "2"),
            ("r1.list", "gifct"),
            ("r1.queue", "general"),
            ("r2.order", "1"),
            ("r2.source", "removal_order"),
            ("r2.jurisdiction", "fr"),
            ("r2.queue", "orders"),
            ("r3.order", "3"),
            ("r3.queue", "general"),
            ("r3.delete", "on"),
            ("rnew.label", "bomb"),
            ("rnew.queue", "orders"),
            ("default_queue", "general"),
        ]))
        .unwrap();
        let names: Vec<&str> = c.queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["general", "orders"]);
        assert_eq!(c.queues[0].roles, [Role::Moderator, Role::SeniorModerator]);
        assert_eq!(c.queues[0].qa_percent, 2.5);
        assert_eq!(c.queues[1].title, "orders");
        assert_eq!(c.queues[1].qa_percent, 5.0);
        assert_eq!(c.rules.len(), 3);
        assert_eq!(c.rules[0].when.source.as_deref(), Some("removal_order"));
        assert_eq!(c.rules[0].when.jurisdiction.as_deref(), Some("FR"));
        assert_eq!(c.rules[1].when.list.as_deref(), Some("gifct"));
        assert_eq!(c.rules[2].when.label.as_deref(), Some("bomb"));
        assert_eq!(c.default_queue, "general");
        assert!(parse_form(&pairs(&[("q0.name", "g"), ("q0.qa", "five")])).is_err());
    }
}
