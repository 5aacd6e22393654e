//! Accounts, sessions and CSRF tokens of the web UI.
//!
//! This module exists so that one place decides who is logged in and what they may do:
//! every page handler takes a [`Session`] (which only exists for a live session in Redis) and
//! names the roles it allows. Passwords are argon2id hashes (PHC strings) in
//! `<prefix>:web:users`; a session id is 32 random bytes whose SHA-256 names the Redis key,
//! so a copy of Redis yields no usable cookie. Secrets (passwords, session ids, CSRF tokens)
//! are never logged or put in audit entries.

use super::login_guard;
use super::ops;
use super::state::{AppState, WebError};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use takedown_review::model::Role;
use takedown_review::store::{ReviewStore, StoreError};

/// The pages an account that must change its password may open (see [`super::accounts`]).
pub(crate) const PASSWORD_PAGES: [&str; 2] = ["/account/password", "/logout"];

/// The session cookie.
pub(super) const SESSION_COOKIE: &str = "td_session";
/// The login form's double-submit CSRF cookie (there is no session yet to hold a token).
const LOGIN_COOKIE: &str = "td_login";
/// The cookie naming a browser that has logged in before (see [`super::login_guard`]).
const DEVICE_COOKIE: &str = "td_device";

/// Why an account could not be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The name is not 1–64 of `a-z 0-9 . _ -`.
    #[error("account names are 1-64 characters of a-z, 0-9, '.', '_' and '-'")]
    InvalidName,
    /// The role cannot log in to the UI.
    #[error("authority clients and trusted flaggers use API tokens, not UI accounts")]
    InvalidRole,
    /// The password is too short.
    #[error("passwords need at least 12 characters")]
    WeakPassword,
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
    /// The name is an API token's (one name space for everyone who acts).
    #[error("the name {0} belongs to an API token; pick another")]
    NameTaken(String),
    /// No such account.
    #[error("no account named {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize, Deserialize)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) role: Role,
    /// The argon2id PHC string.
    pub(super) phc: String,
    /// Bumped by every change of role, password or status; a session made under another
    /// version is over.
    #[serde(default)]
    pub(super) version: u64,
    /// A disabled account cannot log in and its sessions end.
    #[serde(default)]
    pub(super) disabled: bool,
    /// The password must be changed before anything else (a one-time password, or an
    /// admin's request): every page but the change form leads to it.
    #[serde(default)]
    pub(super) must_change: bool,
}

/// The argon2id parameters: OWASP's 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub(super) fn hash_password(password: &str) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| UserError::Hash)?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| UserError::Hash)?
        .to_string())
}

/// Checks `password` against a PHC string of ours (argon2id).
///
/// The 19 MiB of argon2 state is kept per thread and reused rather than allocated per call:
/// allocated each time, freed blocks of that size stayed in the allocator and the process grew
/// by about 19 MiB per login (measured: `scripts/bench-login`). The login pool's threads each
/// hold one buffer, so memory stays at workers × 19 MiB.
pub(super) fn verify_password(password: &str, phc: &str) -> bool {
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let decimal = |name: &str| hash.params.get_decimal(name);
    let (Some(m), Some(t), Some(p)) = (decimal("m"), decimal("t"), decimal("p")) else {
        return false;
    };
    // Only our own parameters: a stored string cannot make a login allocate more.
    if hash.algorithm.as_str() != "argon2id" || m > 64 * 1024 || t > 10 || p > 4 {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let Ok(params) = Params::new(m, t, p, Some(expected.len())) else {
        return false;
    };
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = vec![0u8; expected.len()];
    let hashed = BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        blocks.resize(params.block_count(), argon2::Block::default());
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..])
            .is_ok()
    });
    hashed && constant_time_eq(&out, expected.as_bytes())
}

use takedown_review::store::tokens::valid_name;

/// Adds a UI account, or replaces its role and password; audited as `user.added` by
/// `actor`. Hashing takes tens of milliseconds on purpose.
pub async fn add_user(
    store: &ReviewStore,
    name: &str,
    role: Role,
    password: &str,
    actor: &str,
) -> Result<(), UserError> {
    if !valid_name(name) {
        return Err(UserError::InvalidName);
    }
    if matches!(
        role,
        Role::AuthorityClient | Role::TrustedFlagger | Role::Platform
    ) {
        return Err(UserError::InvalidRole);
    }
    if password.chars().count() < 12 {
        return Err(UserError::WeakPassword);
    }
    if takedown_review::store::tokens::name_taken(store, name).await? {
        return Err(UserError::NameTaken(name.to_string()));
    }
    let owned = password.to_string();
    let phc = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|_| UserError::Hash)??;
    let version = account(store, name).await?.map_or(0, |a| a.version + 1);
    save(
        store,
        &Account {
            name: name.to_string(),
            role,
            phc,
            version,
            disabled: false,
            must_change: false,
        },
    )
    .await?;
    let role_json = serde_json::json!({ "role": role }).to_string();
    ops::Scripts::new()
        .audit(store, name, actor, "user.added", &role_json, "")
        .await?;
    Ok(())
}

pub(super) async fn account(
    store: &ReviewStore,
    name: &str,
) -> Result<Option<Account>, StoreError> {
    let json: Option<String> = store
        .connection()
        .hget(store.key(takedown_review::store::tokens::UI_ACCOUNTS), name)
        .await?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

pub(super) async fn save(store: &ReviewStore, account: &Account) -> Result<(), StoreError> {
    let json = serde_json::to_string(account)?;
    let _: () = store
        .connection()
        .hset(
            store.key(takedown_review::store::tokens::UI_ACCOUNTS),
            &account.name,
            json,
        )
        .await?;
    Ok(())
}

/// Disables (or re-enables) account `name`: a disabled account cannot log in, and its live
/// sessions end at their next request. Audited as `user.disabled` / `user.enabled`.
pub async fn set_disabled(
    store: &ReviewStore,
    name: &str,
    disabled: bool,
    actor: &str,
) -> Result<(), UserError> {
    let mut a = account(store, name)
        .await?
        .ok_or_else(|| UserError::NotFound(name.to_string()))?;
    a.disabled = disabled;
    a.version += 1;
    save(store, &a).await?;
    let action = if disabled {
        "user.disabled"
    } else {
        "user.enabled"
    };
    ops::Scripts::new()
        .audit(store, name, actor, action, "{}", "")
        .await?;
    Ok(())
}

/// Changes account `name`'s role; its live sessions end at their next request (the user logs
/// in again under the new role). Audited as `user.role_changed`.
pub async fn set_role(
    store: &ReviewStore,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<(), UserError> {
    if matches!(
        role,
        Role::AuthorityClient | Role::TrustedFlagger | Role::Platform
    ) {
        return Err(UserError::InvalidRole);
    }
    let mut a = account(store, name)
        .await?
        .ok_or_else(|| UserError::NotFound(name.to_string()))?;
    let before = serde_json::json!({ "role": a.role }).to_string();
    a.role = role;
    a.version += 1;
    save(store, &a).await?;
    let after = serde_json::json!({ "role": role }).to_string();
    let cause = format!("was {before}");
    ops::Scripts::new()
        .audit(store, name, actor, "user.role_changed", &after, &cause)
        .await?;
    Ok(())
}

/// The accounts (name, role), sorted by name.
pub(crate) async fn accounts(store: &ReviewStore) -> Result<Vec<(String, Role)>, WebError> {
    let all: Vec<(String, String)> = store
        .connection()
        .hgetall(store.key(takedown_review::store::tokens::UI_ACCOUNTS))
        .await?;
    let mut out = all
        .into_iter()
        .filter_map(|(name, json)| {
            serde_json::from_str::<Account>(&json)
                .ok()
                .map(|a| (name, a.role))
        })
        .collect::<Vec<_>>();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[derive(Serialize, Deserialize)]
pub(super) struct SessionDoc {
    name: String,
    role: Role,
    csrf: String,
    created_ms: i64,
    /// The account's version when the session began.
    #[serde(default)]
    pub(super) version: u64,
}

/// A logged-in user, extracted from the session cookie of a request.
pub(crate) struct Session {
    /// The account name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The session's CSRF token, put into every form.
    pub csrf: String,
}

impl Session {
    /// Refuses unless the role is one of `allowed` (admins may do everything).
    pub fn require(&self, allowed: &[Role]) -> Result<(), WebError> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Refuses unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), WebError> {
        match token {
            Some(t) if constant_time_eq(t.as_bytes(), self.csrf.as_bytes()) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// Whether the role may see a page or use an action (for showing links).
    pub fn can(&self, allowed: &[Role]) -> bool {
        self.require(allowed).is_ok()
    }

    /// The role's name as shown.
    pub fn role_name(&self) -> &'static str {
        role_name(self.role)
    }
}

/// The name of a role as shown and as typed on the command line.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Moderator => "moderator",
        Role::SeniorModerator => "senior_moderator",
        Role::Legal => "legal",
        Role::Admin => "admin",
        Role::Auditor => "auditor",
        Role::AuthorityClient => "authority_client",
        Role::TrustedFlagger => "trusted_flagger",
        Role::Platform => "platform",
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

pub(super) fn session_key(store: &ReviewStore, sid: &str) -> String {
    store.key(&format!(
        "web:session:{}",
        hex::encode(Sha256::digest(sid.as_bytes()))
    ))
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let sid = cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::Unauthenticated)?;
        let key = session_key(&state.store, sid);
        let mut conn = state.store.connection();
        let doc: Option<String> = conn.get(&key).await?;
        let doc: SessionDoc = match doc.map(|d| serde_json::from_str(&d)) {
            Some(Ok(doc)) => doc,
            _ => return Err(WebError::Unauthenticated),
        };
        let now = ms(state.store.clock().now());
        if now - doc.created_ms > state.cfg.session_max.whole_milliseconds() as i64 {
            let _: () = conn.del(&key).await?;
            return Err(WebError::Unauthenticated);
        }
        // A change of role, password or status since login ends the session at once.
        let current = account(&state.store, &doc.name).await?;
        let Some(current) =
            current.filter(|a| !a.disabled && a.version == doc.version && a.role == doc.role)
        else {
            let _: () = conn.del(&key).await?;
            return Err(WebError::Unauthenticated);
        };
        if current.must_change && !PASSWORD_PAGES.contains(&parts.uri.path()) {
            return Err(WebError::PasswordChange);
        }
        // Sliding idle expiry.
        let _: () = conn
            .expire(&key, state.cfg.session_idle.whole_seconds())
            .await?;
        Ok(Session {
            name: current.name,
            role: current.role,
            csrf: doc.csrf,
        })
    }
}

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    error: Option<&'a str>,
    name: &'a str,
    /// The page to open after logging in.
    next: &'a str,
}

/// The page to open after logging in: `asked` when it is a path on this site (not another
/// site's URL, nor the login or logout routes), else the queue.
pub(crate) fn next_page(asked: Option<&str>) -> &str {
    match asked {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/login")
                && !p.starts_with("/logout")
                && p.len() <= 2048
                && p.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            p
        }
        _ => "/queue",
    }
}

fn login_form(
    status: StatusCode,
    error: Option<&str>,
    name: &str,
    next: &str,
) -> Result<Response, WebError> {
    let token = random_hex();
    let html = LoginPage {
        csrf: &token,
        error,
        name,
        next: next_page(Some(next)),
    }
    .render()?;
    Ok((
        status,
        [(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, 600))],
        Html(html),
    )
        .into_response())
}

async fn login_page(
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    login_form(
        StatusCode::OK,
        None,
        "",
        next_page(q.get("next").map(String::as_str)),
    )
}

/// Reads an `application/x-www-form-urlencoded` body into pairs; repeated keys stay.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `key` in form pairs.
pub(crate) fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Whether `name` is an account (for audit entries of failed logins).
async fn account_exists(store: &ReviewStore, name: &str) -> Result<Option<String>, WebError> {
    if name == "-" {
        return Ok(None);
    }
    let exists: bool = store
        .connection()
        .hexists(store.key(takedown_review::store::tokens::UI_ACCOUNTS), name)
        .await?;
    Ok(exists.then(|| name.to_string()))
}

/// The address a request came from (the peer of its connection; "unknown" where the server
/// does not record it).
pub(crate) struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

async fn login(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let pairs = form_pairs(&body);
    let name = field(&pairs, "name").unwrap_or("").trim().to_string();
    let password = field(&pairs, "password").unwrap_or("").to_string();
    let next = next_page(field(&pairs, "next")).to_string();
    let token_ok = match (cookie(&headers, LOGIN_COOKIE), field(&pairs, "csrf")) {
        (Some(c), Some(f)) => constant_time_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    };
    if !token_ok {
        return login_form(
            StatusCode::FORBIDDEN,
            Some("The login form expired; please try again."),
            &name,
            &next,
        );
    }
    let store = &state.store;
    let mut conn = store.connection();
    let known_name = valid_name(&name);
    // Invalid names share one counter, so they cannot be used to make keys.
    let counted = if known_name { name.as_str() } else { "-" };
    let device = cookie(&headers, DEVICE_COOKIE).filter(|d| d.len() == 64);
    let attempt = login_guard::Attempt::new(store, counted, &peer.0, device).await?;
    if let Err(wait) = attempt.reserve(store, &state.cfg.login).await {
        let secs = wait.as_secs().max(1);
        let mut resp = login_form(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed attempts; try again in {secs} second{}.",
                if secs == 1 { "" } else { "s" }
            )),
            &name,
            &next,
        )?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        return Ok(resp);
    }
    let account: Option<Account> = if known_name {
        account(store, &name).await?
    } else {
        None
    };
    // Unknown accounts cost as much as known ones, so timing does not reveal names.
    let phc = account
        .as_ref()
        .filter(|a| !a.disabled)
        .map(|a| a.phc.clone());
    let verified = state
        .hash_pool
        .run(move || match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let dummy =
                    DUMMY.get_or_init(|| hash_password("no such account").unwrap_or_default());
                let _ = verify_password(&password, dummy);
                false
            }
        })
        .await;
    let Some(ok) = verified else {
        attempt.release(store).await?;
        let mut resp = login_form(
            StatusCode::SERVICE_UNAVAILABLE,
            Some("The server is busy; try again in a moment."),
            &name,
            &next,
        )?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(1u64));
        return Ok(resp);
    };
    let Some(account) = account.filter(|a| ok && !a.disabled) else {
        // Only real accounts get an audit entry: names that do not exist would otherwise fill
        // the permanent trail with whatever a stranger types.
        if let Some(a) = account_exists(store, counted).await? {
            state
                .ops
                .audit(store, &a, &a, "ui.login_failed", "{}", "")
                .await?;
        }
        return login_form(
            StatusCode::UNAUTHORIZED,
            Some("Wrong name or password."),
            &name,
            &next,
        );
    };
    attempt.release(store).await?;
    let device = match device {
        Some(d) => d.to_string(),
        None => random_hex(),
    };
    login_guard::remember_device(store, &account.name, &device).await?;
    let sid = random_hex();
    let doc = SessionDoc {
        name: account.name.clone(),
        role: account.role,
        csrf: random_hex(),
        created_ms: ms(store.clock().now()),
        version: account.version,
    };
    let _: () = conn
        .set_ex(
            session_key(store, &sid),
            serde_json::to_string(&doc)?,
            state.cfg.session_idle.whole_seconds().max(1) as u64,
        )
        .await?;
    state
        .ops
        .audit(store, &account.name, &account.name, "ui.login", "{}", "")
        .await?;
    let max = state.cfg.session_max.whole_seconds();
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, set_cookie(SESSION_COOKIE, &sid, max)),
            (header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0)),
            (
                header::SET_COOKIE,
                set_cookie(DEVICE_COOKIE, &device, 90 * 24 * 3600),
            ),
        ]),
        Redirect::to(&next),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    session.check_csrf(field(&form_pairs(&body), "csrf"))?;
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        let _: () = state
            .store
            .connection()
            .del(session_key(&state.store, sid))
            .await?;
    }
    state
        .ops
        .audit(
            &state.store,
            &session.name,
            &session.name,
            "ui.logout",
            "{}",
            "",
        )
        .await?;
    Ok((
        [(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0))],
        Redirect::to("/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; td_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }

    #[test]
    fn names_are_restricted() {
        assert!(valid_name("ana.m-1_x"));
        assert!(!valid_name(""));
        assert!(!valid_name("Ana"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(65)));
    }

    #[test]
    fn after_login_only_pages_of_this_site_are_opened() {
        for ok in ["/cases/m-1?x=1", "/queue?mine=1", "/sla"] {
            assert_eq!(next_page(Some(ok)), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "/login?next=/x",
            "/logout",
            "/a b",
            "",
        ] {
            assert_eq!(next_page(Some(bad)), "/queue", "{bad}");
        }
        assert_eq!(next_page(None), "/queue");
    }
}
