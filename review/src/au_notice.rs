//! Australian removal notices: the eSafety Commissioner's notices under the Online Safety Act
//! 2021, s109 (to a social media service, relevant electronic service or designated internet
//! service: remove the material) and s110 (to a hosting service provider: cease hosting it).
//!
//! The provider must comply within 24 hours after the notice was given, or such longer period
//! as the Commissioner allows. The clock therefore starts when the notice was given (its
//! `given_at`), or at our receipt if that is earlier (a `given_at` in the future is refused),
//! and runs for the `au_removal_notice` profile's period (24 h by default) or the longer
//! period the notice allows. Like removal orders, a notice is validated field by field (422
//! naming each wrong field), stored once with its raw body, SHA-256 and receipt time, and opens
//! one case per URL under one deadline.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// The section of the Act the notice is given under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuSection {
    /// s109: remove the material from a social media, relevant electronic or designated
    /// internet service.
    S109,
    /// s110: cease hosting the material (hosting service provider).
    S110,
}

/// A validated Australian removal notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuRemovalNotice {
    /// The Commissioner's reference; the same reference from the same authority account is
    /// the same notice.
    pub reference: String,
    /// s109 or s110.
    pub section: AuSection,
    /// When the notice was given.
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: OffsetDateTime,
    /// The provider the notice is addressed to.
    pub recipient: String,
    /// The service the material is provided on, as the notice names it.
    pub service: Option<String>,
    /// The material's locations; one case each.
    pub urls: Vec<String>,
    /// A longer compliance period the Commissioner allows, in hours (at least 24).
    pub allowed_period_hours: Option<u32>,
    /// The Commissioner's description of the material.
    pub description: Option<String>,
}

impl AuRemovalNotice {
    /// When the provider's clock starts: the notice's `given_at`, or `received_at` if that is
    /// earlier.
    pub fn clock_start(&self, received_at: OffsetDateTime) -> OffsetDateTime {
        self.given_at.min(received_at)
    }

    /// The compliance period: the longer of the profile's `period` and the period allowed.
    pub fn period(&self, profile_period: Duration) -> Duration {
        self.allowed_period_hours
            .map(|h| Duration::hours(h.into()))
            .map_or(profile_period, |allowed| allowed.max(profile_period))
    }
}

/// The longest period a notice may allow (a year), to catch typing errors.
const MAX_ALLOWED_HOURS: u64 = 8760;

/// The day the Online Safety Act 2021 (Cth) commenced: no removal notice is given earlier.
pub const ONLINE_SAFETY_ACT_FROM: OffsetDateTime = time::macros::datetime!(2022-01-23 00:00 UTC);

/// How far `given_at` may be ahead of our clock (clock skew) before it is refused.
const SKEW: Duration = Duration::minutes(5);

const FIELDS: [&str; 8] = [
    "reference",
    "section",
    "given_at",
    "recipient",
    "service",
    "urls",
    "allowed_period_hours",
    "description",
];

fn err(errors: &mut Vec<FieldError>, field: &str, reason: &str) {
    errors.push(FieldError {
        field: field.to_string(),
        reason: reason.to_string(),
    });
}

fn required(root: &Value, field: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match &root[field] {
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

fn optional(root: &Value, field: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    match &root[field] {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) if s.chars().count() <= max => Some(s.trim().to_string()),
        _ => {
            err(
                errors,
                field,
                &format!("a string of at most {max} characters"),
            );
            None
        }
    }
}

/// Validates a notice body received at `received_at`. `Err` lists every wrong field.
pub fn parse_au_notice(
    body: &[u8],
    received_at: OffsetDateTime,
) -> Result<AuRemovalNotice, Vec<FieldError>> {
    let mut errors = Vec::new();
    let root: Value = match crate::field::json_object(body) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let reference = required(&root, "reference", 200, &mut errors);
    let section = match root["section"].as_str() {
        Some("s109") => Some(AuSection::S109),
        Some("s110") => Some(AuSection::S110),
        _ if root["section"].is_null() => {
            err(&mut errors, "section", "required: s109 or s110");
            None
        }
        _ => {
            err(&mut errors, "section", "s109 or s110");
            None
        }
    };
    let given_text = required(&root, "given_at", 64, &mut errors);
    let given_at = if given_text.is_empty() {
        None
    } else {
        match OffsetDateTime::parse(&given_text, &time::format_description::well_known::Rfc3339) {
            Ok(t) if t > received_at + SKEW => {
                err(&mut errors, "given_at", "in the future");
                None
            }
            Ok(t) if t < ONLINE_SAFETY_ACT_FROM => {
                err(
                    &mut errors,
                    "given_at",
                    "before 2022-01-23, when the Online Safety Act 2021 commenced",
                );
                None
            }
            Ok(t) => Some(t),
            Err(_) => {
                err(&mut errors, "given_at", "RFC 3339 date and time");
                None
            }
        }
    };
    let recipient = required(&root, "recipient", 200, &mut errors);
    let service = optional(&root, "service", 200, &mut errors);
    let mut urls: Vec<String> = Vec::new();
    match &root["urls"] {
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(u)
                        if (u.starts_with("https://") || u.starts_with("http://"))
                            && u.len() > 8
                            && u.len() <= 2000
                            && !u.contains(char::is_whitespace) =>
                    {
                        if !urls.iter().any(|x| x == u) {
                            urls.push(u.to_string());
                        }
                    }
                    _ => err(
                        &mut errors,
                        &format!("urls[{i}]"),
                        "an absolute http(s) URL",
                    ),
                }
            }
        }
        Value::Null => err(&mut errors, "urls", "required: the material's URLs"),
        _ => err(&mut errors, "urls", "a non-empty array of URLs"),
    }
    let allowed_period_hours = match &root["allowed_period_hours"] {
        Value::Null => None,
        v => match v.as_u64() {
            Some(h) if (24..=MAX_ALLOWED_HOURS).contains(&h) => Some(h as u32),
            _ => {
                err(
                    &mut errors,
                    "allowed_period_hours",
                    "whole hours from 24 to 8760 (the longer period the Commissioner allows)",
                );
                None
            }
        },
    };
    let description = optional(&root, "description", 5000, &mut errors);
    if let Value::Object(map) = &root {
        for key in map.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            err(&mut errors, key, "unknown field");
        }
    }
    match (section, given_at) {
        (Some(section), Some(given_at)) if errors.is_empty() => Ok(AuRemovalNotice {
            reference,
            section,
            given_at,
            recipient,
            service,
            urls,
            allowed_period_hours,
            description,
        }),
        _ => Err(errors),
    }
}

/// A stored Australian removal notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuNoticeRecord {
    /// Our id.
    pub id: String,
    /// The authority account that sent it.
    pub submitted_by: String,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 of the raw body, hex.
    pub sha256: String,
    /// The validated notice.
    pub notice: AuRemovalNotice,
    /// The deadline of every URL's case.
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    /// One case per URL, in the notice's order.
    pub case_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    #[test]
    fn notices_name_every_wrong_field() {
        let good = json!({"reference": "ESC-RN-1", "section": "s109",
            "given_at": "2026-06-01T11:00:00Z", "recipient": "Example Pty Ltd",
            "urls": ["https://example.org/a", "https://example.org/a", "https://example.org/b"]});
        let n = parse_au_notice(good.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(n.urls.len(), 2);
        assert_eq!(n.clock_start(NOW), datetime!(2026-06-01 11:00 UTC));
        assert_eq!(n.period(Duration::hours(24)), Duration::hours(24));
        let bad = json!({"section": "s111", "given_at": "2026-06-02T12:00:00Z",
            "urls": ["ftp://x"], "allowed_period_hours": 12, "extra": 1});
        let fields: Vec<String> = parse_au_notice(bad.to_string().as_bytes(), NOW)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "reference",
                "section",
                "given_at",
                "recipient",
                "urls[0]",
                "allowed_period_hours",
                "extra"
            ]
        );
        let longer = json!({"reference": "R", "section": "s110", "given_at": "2026-06-01T12:00:00Z",
            "recipient": "Host", "urls": ["https://h.example/x"], "allowed_period_hours": 72});
        let n = parse_au_notice(longer.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(n.period(Duration::hours(24)), Duration::hours(72));
        assert_eq!(
            parse_au_notice(b"{}", NOW).unwrap_err().len(),
            5,
            "reference, section, given_at, recipient, urls"
        );
    }
}

#[cfg(test)]
mod mutation_tests;
