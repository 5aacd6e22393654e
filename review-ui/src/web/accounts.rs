//! Account management for admins (create with a one-time password, change a role, disable or
//! enable, require a new password at the next login) and the page where a user sets their own
//! password. Every change is audited under the admin's name; none of them logs a password.
//!
//! It exists so accounts need no shell on the server. A new account's password is generated
//! here, shown once in the response to the admin who created it (never stored in clear, never
//! logged or audited) and must be replaced at the first login: until it is, every page leads
//! to the change form (`auth::PASSWORD_PAGES` are the only ones open). Each change bumps the
//! account's version, which ends its live sessions at their next request.

use super::auth::{
    self, Account, SESSION_COOKIE, Session, SessionDoc, UserError, account, cookie, field,
    form_pairs, hash_password, role_name, save, session_key, verify_password,
};
use super::chrome::Chrome;
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use std::collections::HashMap;
use takedown_review::model::Role;
use takedown_review::store::ReviewStore;
use takedown_review::store::tokens::{UI_ACCOUNTS, name_taken, valid_name};

/// The roles an admin may give a UI account.
const UI_ROLES: [Role; 5] = [
    Role::Moderator,
    Role::SeniorModerator,
    Role::Legal,
    Role::Auditor,
    Role::Admin,
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/users/create", post(create))
        .route("/admin/users/role", post(change_role))
        .route("/admin/users/disable", post(disable))
        .route("/admin/users/require-password", post(require_password))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
}

impl From<UserError> for WebError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Store(s) => WebError::Store(s),
            UserError::NotFound(n) => WebError::NotFound(format!("no account named {n}")),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// A one-time password: 20 characters from an alphabet without look-alikes (about 110 bits).
fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Creates account `name` with `role` and a generated password it must change at its first
/// login; returns that password (to be shown once). Audited as `user.created` by `actor`.
pub(crate) async fn create_user(
    store: &ReviewStore,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<String, UserError> {
    if !valid_name(name) {
        return Err(UserError::InvalidName);
    }
    if !UI_ROLES.contains(&role) {
        return Err(UserError::InvalidRole);
    }
    if name_taken(store, name).await? || account(store, name).await?.is_some() {
        return Err(UserError::NameTaken(name.to_string()));
    }
    let password = one_time_password();
    let owned = password.clone();
    let phc = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|_| UserError::Hash)??;
    save(
        store,
        &Account {
            name: name.to_string(),
            role,
            phc,
            version: 0,
            disabled: false,
            must_change: true,
        },
    )
    .await?;
    let after = serde_json::json!({ "role": role, "must_change_password": true }).to_string();
    super::ops::Scripts::new()
        .audit(store, name, actor, "user.created", &after, "")
        .await?;
    Ok(password)
}

/// Makes account `name` choose a new password at its next login (its sessions end now).
/// Audited as `user.password_change_required`.
pub(crate) async fn require_password_change(
    store: &ReviewStore,
    name: &str,
    actor: &str,
) -> Result<(), UserError> {
    let mut a = account(store, name)
        .await?
        .ok_or_else(|| UserError::NotFound(name.to_string()))?;
    a.must_change = true;
    a.version += 1;
    save(store, &a).await?;
    super::ops::Scripts::new()
        .audit(
            store,
            name,
            actor,
            "user.password_change_required",
            "{}",
            "",
        )
        .await?;
    Ok(())
}

/// One account as the admin page lists it.
pub(crate) struct AccountRow {
    pub name: String,
    pub role: &'static str,
    pub disabled: bool,
    pub must_change: bool,
}

async fn account_rows(store: &ReviewStore) -> Result<Vec<AccountRow>, WebError> {
    let all: Vec<(String, String)> = store.connection().hgetall(store.key(UI_ACCOUNTS)).await?;
    let mut out: Vec<AccountRow> = all
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str::<Account>(&json).ok())
        .map(|a| AccountRow {
            role: role_name(a.role),
            name: a.name,
            disabled: a.disabled,
            must_change: a.must_change,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<AccountRow>,
    roles: Vec<&'static str>,
    me: String,
    flash: String,
    /// The account just created and its one-time password (only in the create response).
    created: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    session: &Session,
    flash: String,
    created: Option<(String, String)>,
) -> Result<Response, WebError> {
    let page = UsersPage {
        chrome: Chrome::of(session, state),
        users: account_rows(&state.store).await?,
        roles: UI_ROLES.iter().map(|r| role_name(*r)).collect(),
        me: session.name.clone(),
        flash,
        created,
    };
    Ok(Html(page.render()?).into_response())
}

/// What the flash line may say after a redirect (a fixed set: the query is a link's to write).
fn flash(q: &HashMap<String, String>) -> String {
    match q.get("done").map(String::as_str) {
        Some("role") => "Role changed; the account's sessions have ended.",
        Some("disabled") => "Account disabled; its sessions have ended.",
        Some("enabled") => "Account enabled.",
        Some("password") => "The account must choose a new password at its next login.",
        _ => "",
    }
    .to_string()
}

async fn users(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(&[])?;
    render(&state, &session, flash(&q), None).await
}

/// Checks the admin and the form's token; returns the form and the account it names.
fn admin_form(
    session: &Session,
    body: &Bytes,
) -> Result<(Vec<(String, String)>, String), WebError> {
    session.require(&[])?;
    let pairs = form_pairs(body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let name = field(&pairs, "name").unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(WebError::BadRequest("name the account".into()));
    }
    Ok((pairs, name))
}

fn role_field(pairs: &[(String, String)]) -> Result<Role, WebError> {
    field(pairs, "role")
        .unwrap_or("")
        .parse::<Role>()
        .map_err(WebError::BadRequest)
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    let (pairs, name) = admin_form(&session, &body)?;
    let role = role_field(&pairs)?;
    let password = create_user(&state.store, &name, role, &session.name).await?;
    // Rendered in this response, never redirected to: the password is in no URL, no log and
    // (with the UI's `Cache-Control: no-store`) no cache.
    render(
        &state,
        &session,
        format!("Account {name} created."),
        Some((name, password)),
    )
    .await
}

async fn change_role(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    let (pairs, name) = admin_form(&session, &body)?;
    if name == session.name {
        return Err(WebError::BadRequest(
            "you cannot change your own role; ask another admin".into(),
        ));
    }
    let role = role_field(&pairs)?;
    auth::set_role(&state.store, &name, role, &session.name).await?;
    Ok(Redirect::to("/admin/users?done=role").into_response())
}

async fn disable(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    let (pairs, name) = admin_form(&session, &body)?;
    let disabled = match field(&pairs, "disabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(WebError::BadRequest("disabled is true or false".into())),
    };
    if name == session.name && disabled {
        return Err(WebError::BadRequest(
            "you cannot disable your own account".into(),
        ));
    }
    auth::set_disabled(&state.store, &name, disabled, &session.name).await?;
    Ok(Redirect::to(match disabled {
        true => "/admin/users?done=disabled",
        false => "/admin/users?done=enabled",
    })
    .into_response())
}

async fn require_password(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    let (_, name) = admin_form(&session, &body)?;
    require_password_change(&state.store, &name, &session.name).await?;
    Ok(Redirect::to("/admin/users?done=password").into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    must_change: bool,
    error: String,
    done: bool,
}

async fn password_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let must_change = account(&state.store, &session.name)
        .await?
        .is_some_and(|a| a.must_change);
    let page = PasswordPage {
        chrome: Chrome::of(&session, &state),
        must_change,
        error: String::new(),
        done: q.contains_key("done"),
    };
    Ok(Html(page.render()?).into_response())
}

/// Sets the user's own password (the current one is asked again); the session goes on under
/// the account's new version, every other session of the account ends. Audited as
/// `user.password_changed`.
async fn change_password(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let store = &state.store;
    let mut a = account(store, &session.name)
        .await?
        .ok_or(WebError::Unauthenticated)?;
    let current = field(&pairs, "current").unwrap_or("").to_string();
    let new = field(&pairs, "new").unwrap_or("").to_string();
    let refuse = |error: &str| -> Result<Response, WebError> {
        let page = PasswordPage {
            chrome: Chrome::of(&session, &state),
            must_change: a.must_change,
            error: error.to_string(),
            done: false,
        };
        Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            Html(page.render()?),
        )
            .into_response())
    };
    if new != field(&pairs, "confirm").unwrap_or("") {
        return refuse("The new password and its confirmation differ.");
    }
    if new.chars().count() < 12 {
        return refuse("Passwords need at least 12 characters.");
    }
    if new == current {
        return refuse("Choose a password other than the current one.");
    }
    let phc = a.phc.clone();
    let ok = state
        .hash_pool
        .run(move || verify_password(&current, &phc))
        .await
        .ok_or_else(|| WebError::BadRequest("the server is busy; try again".into()))?;
    if !ok {
        return refuse("The current password is wrong.");
    }
    a.phc = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|_| WebError::BadRequest("password hashing failed".into()))?
        .map_err(WebError::from)?;
    a.must_change = false;
    a.version += 1;
    save(store, &a).await?;
    // This session follows the account to its new version.
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        let key = session_key(store, sid);
        let mut conn = store.connection();
        let doc: Option<String> = conn.get(&key).await?;
        if let Some(mut doc) = doc.and_then(|d| serde_json::from_str::<SessionDoc>(&d).ok()) {
            doc.version = a.version;
            let _: () = redis::cmd("SET")
                .arg(&key)
                .arg(serde_json::to_string(&doc)?)
                .arg("KEEPTTL")
                .query_async(&mut conn)
                .await?;
        }
    }
    state
        .ops
        .audit(
            store,
            &session.name,
            &session.name,
            "user.password_changed",
            "{}",
            "",
        )
        .await?;
    Ok(Redirect::to("/account/password?done=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_and_differ() {
        let a = one_time_password();
        assert_eq!(a.chars().count(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!a.contains(['0', 'O', 'o', '1', 'l', 'I']));
        assert_ne!(a, one_time_password());
    }

    #[test]
    fn the_flash_says_only_fixed_words() {
        let q = |v: &str| HashMap::from([("done".to_string(), v.to_string())]);
        assert!(flash(&q("role")).starts_with("Role changed"));
        assert_eq!(flash(&q("Your account is locked, call us")), "");
    }
}
