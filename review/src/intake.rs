//! Notices (DSA Art. 16) and complaints (TCO Art. 10, DSA Art. 20) as received.
//!
//! Both arrive over the API and each becomes a case under its own clock: a notice from an
//! active Art. 22 trusted flagger (per the registry, [`crate::flaggers`], never per the notice
//! itself) goes before other notices, a complaint has two weeks. Like removal
//! orders they are validated field by field so the API can name every wrong field (422), and
//! stored once with their raw body, its digest and the receipt time.

use crate::field::FieldError;
use crate::model::{Case, CaseState, derive_id};
use crate::sla::complaint_window_open;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// Who sent a notice or complaint. Personal data: stored for the reply, never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// A validated DSA Art. 16 notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The submitter's own reference; the same reference again is the same notice.
    pub reference: Option<String>,
    /// The platform (tenant) the content is on.
    pub platform: String,
    /// The exact electronic location (Art. 16(2)(b)).
    pub url: String,
    /// The post, when the submitter knows it.
    pub post_id: Option<String>,
    /// The media item, when known.
    pub media_id: Option<String>,
    /// Why the content is terrorist content (Art. 16(2)(a)).
    pub explanation: String,
    /// The notifier (Art. 16(2)(c)).
    pub notifier: Contact,
    /// The trusted-flagger registry entry the relaying account names (`flagger_id`); the
    /// store replaces it with the entry the notice was attributed to.
    pub flagger_id: Option<String>,
    /// Whether the notice was handled as an Art. 22 trusted flagger's: set by the store from
    /// the registry at receipt, never from the body.
    pub trusted_flagger: bool,
}

/// A validated complaint against one of our decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// The submitter's own reference; the same reference again is the same complaint.
    pub reference: Option<String>,
    /// The decided case the complaint contests.
    pub case_id: String,
    /// Why the decision is wrong.
    pub explanation: String,
    /// The complainant (content provider or notifier).
    pub complainant: Contact,
}

fn err(errors: &mut Vec<FieldError>, field: &str, reason: &str) {
    errors.push(FieldError {
        field: field.to_string(),
        reason: reason.to_string(),
    });
}

fn object(body: &[u8], errors: &mut Vec<FieldError>) -> Option<Value> {
    match crate::field::json_object(body) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// A required non-empty string of at most `max` characters.
fn text(v: &Value, field: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match v {
        Value::String(s) if !s.trim().is_empty() => {
            if s.chars().count() > max {
                err(errors, field, &format!("at most {max} characters"));
            }
            s.trim().to_string()
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

/// An optional string: absent, null or empty is `None`.
fn optional(v: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => {
            if s.chars().count() > 500 {
                err(errors, field, "at most 500 characters");
            }
            Some(s.trim().to_string())
        }
        Value::String(_) | Value::Null => None,
        _ => {
            err(errors, field, "must be a string");
            None
        }
    }
}

fn contact(v: &Value, field: &str, errors: &mut Vec<FieldError>) -> Contact {
    if !v.is_object() {
        err(errors, field, "required object with name and email");
        return Contact {
            name: String::new(),
            email: String::new(),
        };
    }
    let name = text(&v["name"], &format!("{field}.name"), 200, errors);
    let email = text(&v["email"], &format!("{field}.email"), 254, errors);
    let plausible = email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        && !email.contains(char::is_whitespace);
    if !email.is_empty() && !plausible {
        err(errors, &format!("{field}.email"), "an email address");
    }
    Contact { name, email }
}

fn is_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() > 8
        && !u.contains(char::is_whitespace)
}

/// Validates a notice body. `Err` lists every wrong field.
pub fn parse_notice(body: &[u8]) -> Result<Notice, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(root) = object(body, &mut errors) else {
        return Err(errors);
    };
    let platform = text(&root["platform"], "platform", 200, &mut errors);
    let url = text(&root["url"], "url", 2000, &mut errors);
    if !url.is_empty() && !is_url(&url) {
        err(&mut errors, "url", "an absolute http(s) URL");
    }
    let explanation = text(&root["explanation"], "explanation", 5000, &mut errors);
    let notifier = contact(&root["notifier"], "notifier", &mut errors);
    if !matches!(root["trusted_flagger"], Value::Null | Value::Bool(false)) {
        err(
            &mut errors,
            "trusted_flagger",
            "trusted status comes from the registry of trusted flaggers: submit with the \
             flagger's own account or name its flagger_id",
        );
    }
    let flagger_id = optional(&root["flagger_id"], "flagger_id", &mut errors);
    if flagger_id
        .as_deref()
        .is_some_and(|id| !crate::flaggers::valid_id(id))
    {
        err(&mut errors, "flagger_id", "a trusted-flagger registry id");
    }
    if root["good_faith"] != Value::Bool(true) {
        err(
            &mut errors,
            "good_faith",
            "the notifier must confirm the notice is accurate and complete (Art. 16(2)(d))",
        );
    }
    let notice = Notice {
        reference: optional(&root["reference"], "reference", &mut errors),
        post_id: optional(&root["post_id"], "post_id", &mut errors),
        media_id: optional(&root["media_id"], "media_id", &mut errors),
        platform,
        url,
        explanation,
        notifier,
        flagger_id,
        trusted_flagger: false,
    };
    if errors.is_empty() {
        Ok(notice)
    } else {
        Err(errors)
    }
}

/// Validates a complaint body. `Err` lists every wrong field.
pub fn parse_complaint(body: &[u8]) -> Result<Complaint, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(root) = object(body, &mut errors) else {
        return Err(errors);
    };
    let complaint = Complaint {
        reference: optional(&root["reference"], "reference", &mut errors),
        case_id: text(&root["case_id"], "case_id", 200, &mut errors),
        explanation: text(&root["explanation"], "explanation", 5000, &mut errors),
        complainant: contact(&root["complainant"], "complainant", &mut errors),
    };
    if errors.is_empty() {
        Ok(complaint)
    } else {
        Err(errors)
    }
}

/// Whether `case` can be complained about at `now`: it must carry a decision that ended it
/// (DSA Art. 20(1): within six months of the decision). `Err` names the field.
pub fn check_contested(case: &Case, now: OffsetDateTime) -> Result<(), FieldError> {
    let refuse = |reason: &str| {
        Err(FieldError {
            field: "case_id".into(),
            reason: reason.into(),
        })
    };
    let Some(decision) = &case.decision else {
        return refuse("the case has no decision to complain about");
    };
    if !matches!(case.state, CaseState::Decided | CaseState::Purged)
        || !decision.input.outcome.is_final()
    {
        return refuse("the case is still under review");
    }
    if !complaint_window_open(decision.decided_at, now) {
        return refuse(
            "complaints are possible for six months after the decision (DSA Art. 20(1))",
        );
    }
    Ok(())
}

/// Our id of a notice: the submitter's reference when given, else its content.
pub fn notice_id(submitted_by: &str, n: &Notice) -> String {
    match &n.reference {
        Some(r) => derive_id("nt", &[submitted_by, "ref", r]),
        None => derive_id(
            "nt",
            &[submitted_by, &n.notifier.email, &n.url, &n.explanation],
        ),
    }
}

/// Our id of a complaint: the submitter's reference when given, else its content.
pub fn complaint_id(submitted_by: &str, c: &Complaint) -> String {
    match &c.reference {
        Some(r) => derive_id("k", &[submitted_by, "ref", r]),
        None => derive_id(
            "k",
            &[
                submitted_by,
                &c.case_id,
                &c.complainant.email,
                &c.explanation,
            ],
        ),
    }
}

/// A stored notice or complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeRecord<T> {
    /// Our id.
    pub id: String,
    /// The API token's account that sent it.
    pub submitted_by: String,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 of the raw body, hex.
    pub sha256: String,
    /// What was received.
    pub body: T,
    /// The case it opened.
    pub case_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(r: Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn notices_name_every_wrong_field() {
        let good = json!({"platform": "web", "url": "https://example.org/p/1",
            "explanation": "praises an attack", "good_faith": true, "flagger_id": "ngo-1",
            "notifier": {"name": "Flagger NGO", "email": "tf@example.org"}});
        let n = parse_notice(good.to_string().as_bytes()).unwrap();
        assert_eq!(n.flagger_id.as_deref(), Some("ngo-1"));
        assert!(
            !n.trusted_flagger,
            "only the registry makes a notice trusted"
        );
        assert_eq!(n.reference, None);
        let bad = json!({"platform": "web", "url": "example.org/p/1", "trusted_flagger": true,
            "flagger_id": "NGO 1", "notifier": {"name": "", "email": "nobody"}});
        assert_eq!(
            fields(parse_notice(bad.to_string().as_bytes())),
            [
                "url",
                "explanation",
                "notifier.name",
                "notifier.email",
                "trusted_flagger",
                "flagger_id",
                "good_faith"
            ]
        );
        assert_eq!(fields(parse_notice(b"[]")), ["$"]);
    }

    #[test]
    fn complaints_name_every_wrong_field() {
        let bad = json!({"case_id": 7, "complainant": {"name": "A"}});
        assert_eq!(
            fields(parse_complaint(bad.to_string().as_bytes())),
            ["case_id", "explanation", "complainant.email"]
        );
        let good = json!({"case_id": "m-1", "explanation": "satire",
            "complainant": {"name": "A", "email": "a@example.org"}, "reference": "K1"});
        let c = parse_complaint(good.to_string().as_bytes()).unwrap();
        assert_eq!(
            complaint_id("x", &c),
            complaint_id(
                "x",
                &Complaint {
                    explanation: "other words".into(),
                    ..c.clone()
                }
            )
        );
    }
}

#[cfg(test)]
mod mutation_tests;
