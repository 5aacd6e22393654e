//! The registry of DSA Art. 22 trusted flaggers.
//!
//! A Digital Services Coordinator awards trusted-flagger status; the platform keeps here the
//! flaggers whose notices it treats as trusted: who they are, which coordinator awarded the
//! status, their area of expertise, since when, and whether the status is active or suspended.
//! Admin and legal accounts manage the registry through the API; every change is audited.
//!
//! A notice is a flagger's when it comes from an API account bound to a registry entry (role
//! `trusted_flagger`), or when an account that relays notices names a registered `flagger_id`.
//! The registry, not the notice, decides: only an active entry makes it a `trusted_notice`
//! (24 h, queued before hash matches); a suspended flagger's notices are ordinary notices.
//!
//! For transparency reports (DSA Art. 15(1)(b): notices from trusted flaggers and the action
//! taken) the registry keeps, per flagger, the receipt time of each trusted notice and the time
//! each one's case was decided and, if so, acted on (removed or disabled), so a report counts
//! any period and computes median times from them.
//!
//! Keys under the store's prefix: `flaggers` (hash id → JSON), `flaggers:accounts` (hash
//! account → id), `flagger:<id>:received` (zset notice id → receipt ms),
//! `flagger:<id>:decided` and `flagger:<id>:acted` (zset case id → decision ms).

use crate::field::FieldError;
use crate::store::handle::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// Whether a flagger's notices are trusted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlaggerStatus {
    /// Notices get the trusted-flagger profile.
    Active,
    /// Status suspended (Art. 22(6), for instance during an investigation): ordinary notices.
    Suspended,
}

/// One change of a flagger's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The new status.
    pub status: FlaggerStatus,
    /// When it changed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The account that changed it.
    pub by: String,
    /// Why (the coordinator's decision, its reference).
    pub reason: String,
}

/// A registry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedFlagger {
    /// Our id (`[a-z0-9][a-z0-9_-]*`, at most 64 characters).
    pub id: String,
    /// The entity's name.
    pub name: String,
    /// The Digital Services Coordinator that awarded the status (Art. 22(2)).
    pub awarded_by: String,
    /// Areas of expertise the status was awarded for.
    pub expertise: Vec<String>,
    /// The day the status was awarded (`YYYY-MM-DD`).
    pub since: String,
    /// The API account whose notices are this flagger's, if it submits directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The current status.
    pub status: FlaggerStatus,
    /// Status changes after registration, oldest first.
    #[serde(default)]
    pub changes: Vec<StatusChange>,
    /// When it was registered here, and by whom.
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    /// The account that registered it.
    pub registered_by: String,
}

/// Per-flagger totals for transparency reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggerCounts {
    /// Notices received while the flagger was active (handled as trusted).
    pub notices_received: u64,
    /// Of those, notices whose case was decided.
    pub notices_decided: u64,
    /// Of those, notices acted on (content removed or disabled).
    pub notices_acted_on: u64,
}

/// A registry entry with its counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlaggerView {
    /// The entry.
    #[serde(flatten)]
    pub flagger: TrustedFlagger,
    /// Its counts so far.
    pub counts: FlaggerCounts,
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No entry with this id.
    #[error("trusted flagger {0} not found")]
    NotFound(String),
    /// An entry with this id exists.
    #[error("trusted flagger {0} is already registered")]
    Exists(String),
    /// The account is bound to another entry.
    #[error("account {account} is already bound to trusted flagger {flagger}")]
    AccountTaken {
        /// The account.
        account: String,
        /// The entry it is bound to.
        flagger: String,
    },
    /// The entry already has that status.
    #[error("trusted flagger {0} already has that status")]
    Unchanged(String),
    /// The entry kept changing under us.
    #[error("the registry changed concurrently; retry")]
    Busy,
}

impl From<redis::RedisError> for RegistryError {
    fn from(e: redis::RedisError) -> Self {
        RegistryError::Store(e.into())
    }
}

impl From<serde_json::Error> for RegistryError {
    fn from(e: serde_json::Error) -> Self {
        RegistryError::Store(e.into())
    }
}

/// What an admin or legal account sends to register a flagger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlagger {
    /// Our id.
    pub id: String,
    /// The entity's name.
    pub name: String,
    /// The awarding Digital Services Coordinator.
    pub awarded_by: String,
    /// Areas of expertise.
    pub expertise: Vec<String>,
    /// The award date, `YYYY-MM-DD`.
    pub since: String,
    /// The API account that submits its notices, if any.
    pub account: Option<String>,
}

fn err(errors: &mut Vec<FieldError>, field: &str, reason: &str) {
    errors.push(FieldError {
        field: field.to_string(),
        reason: reason.to_string(),
    });
}

fn text(root: &Value, field: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match &root[field] {
        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= max => {
            s.trim().to_string()
        }
        Value::String(s) if !s.trim().is_empty() => {
            err(errors, field, &format!("at most {max} characters"));
            String::new()
        }
        Value::Null => {
            err(errors, field, "required");
            String::new()
        }
        _ => {
            err(errors, field, "must be a non-empty string");
            String::new()
        }
    }
}

/// Whether `id` is a registry id: `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
pub fn valid_id(id: &str) -> bool {
    id.len() <= 64
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn valid_date(s: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).is_ok()
}

const FIELDS: [&str; 6] = ["id", "name", "awarded_by", "expertise", "since", "account"];

/// Validates a registration body. `Err` lists every wrong field.
pub fn parse_new_flagger(body: &[u8]) -> Result<NewFlagger, Vec<FieldError>> {
    let mut errors = Vec::new();
    let root: Value = match crate::field::json_object(body) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let id = text(&root, "id", 64, &mut errors);
    if !id.is_empty() && !valid_id(&id) {
        err(
            &mut errors,
            "id",
            "lower-case letters, digits, '-' and '_', starting with a letter or digit",
        );
    }
    let name = text(&root, "name", 200, &mut errors);
    let awarded_by = text(&root, "awarded_by", 200, &mut errors);
    let mut expertise = Vec::new();
    match &root["expertise"] {
        Value::Array(items) if !items.is_empty() && items.len() <= 20 => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && s.chars().count() <= 200 => {
                        expertise.push(s.to_string())
                    }
                    _ => err(
                        &mut errors,
                        &format!("expertise[{i}]"),
                        "a non-empty string of at most 200 characters",
                    ),
                }
            }
        }
        Value::Null => err(&mut errors, "expertise", "required"),
        _ => err(
            &mut errors,
            "expertise",
            "an array of 1 to 20 areas of expertise",
        ),
    }
    let since = text(&root, "since", 10, &mut errors);
    if !since.is_empty() && !valid_date(&since) {
        err(&mut errors, "since", "a date as YYYY-MM-DD");
    }
    let account = match &root["account"] {
        Value::Null => None,
        Value::String(s)
            if !s.is_empty()
                && s.chars().count() <= 100
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Some(s.clone())
        }
        _ => {
            err(
                &mut errors,
                "account",
                "an API account name (no spaces, at most 100 characters)",
            );
            None
        }
    };
    if let Value::Object(map) = &root {
        for key in map.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            err(&mut errors, key, "unknown field");
        }
    }
    if errors.is_empty() {
        Ok(NewFlagger {
            id,
            name,
            awarded_by,
            expertise,
            since,
            account,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registrations_name_every_wrong_field() {
        let good = json!({"id": "ngo-1", "name": "Counter Extremism NGO",
            "awarded_by": "IE: Coimisiún na Meán", "expertise": ["terrorist content"],
            "since": "2025-03-01", "account": "ngo1-api"});
        let f = parse_new_flagger(good.to_string().as_bytes()).unwrap();
        assert_eq!(f.account.as_deref(), Some("ngo1-api"));
        let bad = json!({"id": "NGO 1", "name": "", "expertise": [""], "since": "2025-13-01",
            "account": "bad name", "trusted": true});
        let fields: Vec<String> = parse_new_flagger(bad.to_string().as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "id",
                "name",
                "awarded_by",
                "expertise[0]",
                "since",
                "account",
                "trusted"
            ]
        );
        assert!(!valid_id("-x") && !valid_id("") && valid_id("a_b-1"));
    }
}

#[cfg(test)]
mod mutation_tests;
