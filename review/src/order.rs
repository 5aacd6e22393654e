//! TCO removal orders: Annex I as received, Annex II and III as replied.
//!
//! An authority's order is validated field by field so the API can name exactly what is wrong
//! (422). Two levels are kept apart: an order that is malformed (Section A missing or a value of
//! the wrong form) is refused; an order that is well-formed but lacks what we need to act
//! (URLs, grounds, reasons in Section B) is accepted, stored with its receipt time, and gets a
//! draft Annex III "insufficient information" reply, its clock suspended (Art. 3(8)) until the
//! clarification arrives.

use crate::field::{FieldError, check_url, json_object, only_keys};
use crate::model::Ground;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// Section A: who issued the order, to whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionA {
    /// Issuing Member State (ISO 3166-1 alpha-2; Greece is GR).
    pub issuing_member_state: String,
    /// The issuing authority.
    pub issuing_authority: String,
    /// The addressee (the provider's legal representative or establishment).
    pub addressee: String,
    /// The provider's contact point the order was sent to.
    pub contact_point: String,
    /// The Member State where the provider is established or represented.
    pub member_state_of_establishment: String,
    /// When the order was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The authority's file reference.
    pub reference: String,
}

/// A validated removal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalOrder {
    /// Section A.
    pub section_a: SectionA,
    /// URLs of the content (Section B); one case each.
    pub urls: Vec<String>,
    /// Extra identifying information.
    pub additional_information: Option<String>,
    /// Art. 2(7) grounds.
    pub grounds: Vec<Ground>,
    /// The authority's statement of reasons.
    pub reasons: Option<String>,
    /// Section C: do not inform the content provider (Art. 11(3)).
    pub do_not_inform: bool,
    /// Redress body and deadline as given (Section G).
    pub redress: Option<String>,
    /// What Section B lacks for us to act (Annex III, insufficient information).
    pub missing: Vec<FieldError>,
}

impl RemovalOrder {
    /// Whether the issuer is not the Member State of establishment (Art. 4): scrutiny may be
    /// requested within 48 hours.
    pub fn cross_border(&self) -> bool {
        self.section_a.issuing_member_state != self.section_a.member_state_of_establishment
    }

    /// Whether Annex III (insufficient information) applies.
    pub fn insufficient(&self) -> bool {
        !self.missing.is_empty()
    }
}

/// The 27 Member States, ISO 3166-1 alpha-2 (Greece is GR, not the EU's EL).
pub const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// The fields of Section A.
const SECTION_A_FIELDS: [&str; 7] = [
    "issuing_member_state",
    "issuing_authority",
    "addressee",
    "contact_point",
    "member_state_of_establishment",
    "issued_at",
    "reference",
];

/// The longest value of a Section A field, in characters.
pub const MAX_SECTION_A_CHARS: usize = 500;

/// The longest free text (reasons, additional information, redress), in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

fn is_country(s: &str) -> bool {
    MEMBER_STATES.contains(&s)
}

/// Bounds on what one removal order may ask of us.
#[derive(Debug, Clone)]
pub struct OrderLimits {
    /// URLs (one case each, all due within the hour) one order may name; more is refused, so
    /// one order cannot flood the queue with top-priority cases.
    pub max_urls: usize,
    /// How far `issued_at` may be ahead of our clock (the issuer's clock may run fast).
    pub clock_skew: Duration,
}

impl Default for OrderLimits {
    fn default() -> Self {
        OrderLimits {
            max_urls: 1_000,
            clock_skew: Duration::minutes(5),
        }
    }
}

/// The day Regulation (EU) 2021/784 applies from (Art. 24): no removal order is issued earlier.
pub const TCO_APPLIES_FROM: OffsetDateTime = time::macros::datetime!(2022-06-07 00:00 UTC);

/// The longest URL accepted.
pub const MAX_URL_BYTES: usize = 2_048;

/// Validates an order body (JSON) with the default limits and no date window. `Err` lists
/// every malformed field.
pub fn parse_order(body: &[u8]) -> Result<RemovalOrder, Vec<FieldError>> {
    parse_order_with(body, &OrderLimits::default(), None)
}

/// Validates an order body received at `received_at` (when given, `issued_at` must lie between
/// [`TCO_APPLIES_FROM`] and `received_at` plus the clock skew). `Err` lists every malformed
/// field.
pub fn parse_order_with(
    body: &[u8],
    limits: &OrderLimits,
    received_at: Option<OffsetDateTime>,
) -> Result<RemovalOrder, Vec<FieldError>> {
    let mut errors = Vec::new();
    let err = |errors: &mut Vec<FieldError>, field: &str, reason: &str| {
        errors.push(FieldError {
            field: field.to_string(),
            reason: reason.to_string(),
        })
    };
    let root: Value = match json_object(body) {
        Ok(v) => v,
        Err(e) if e.reason == "must be a JSON object" => {
            err(&mut errors, "$", "the order must be a JSON object");
            return Err(errors);
        }
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    only_keys(
        &root,
        "",
        &["section_a", "section_b", "section_c", "section_g"],
        &mut errors,
    );
    only_keys(
        &root["section_a"],
        "section_a",
        &SECTION_A_FIELDS,
        &mut errors,
    );
    only_keys(
        &root["section_b"],
        "section_b",
        &["urls", "grounds", "reasons", "additional_information"],
        &mut errors,
    );
    only_keys(
        &root["section_c"],
        "section_c",
        &["do_not_inform"],
        &mut errors,
    );
    only_keys(&root["section_g"], "section_g", &["redress"], &mut errors);
    let a = &root["section_a"];
    if !a.is_object() {
        err(&mut errors, "section_a", "required object");
    }
    let text = |errors: &mut Vec<FieldError>, name: &str| -> String {
        match &a[name] {
            Value::String(s) if s.chars().count() > MAX_SECTION_A_CHARS => {
                err(
                    errors,
                    &format!("section_a.{name}"),
                    &format!("at most {MAX_SECTION_A_CHARS} characters"),
                );
                String::new()
            }
            Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            Value::Null if a.is_object() => {
                err(errors, &format!("section_a.{name}"), "required");
                String::new()
            }
            Value::Null => String::new(),
            _ => {
                err(
                    errors,
                    &format!("section_a.{name}"),
                    "must be a non-empty string",
                );
                String::new()
            }
        }
    };
    let issuing = text(&mut errors, "issuing_member_state");
    let authority = text(&mut errors, "issuing_authority");
    let addressee = text(&mut errors, "addressee");
    let contact = text(&mut errors, "contact_point");
    let establishment = text(&mut errors, "member_state_of_establishment");
    let issued_text = text(&mut errors, "issued_at");
    let reference = text(&mut errors, "reference");
    for (name, value) in [
        ("issuing_member_state", &issuing),
        ("member_state_of_establishment", &establishment),
    ] {
        if !value.is_empty() && !is_country(value) {
            err(
                &mut errors,
                &format!("section_a.{name}"),
                "an EU Member State as ISO 3166-1 alpha-2 in capitals (Greece is GR)",
            );
        }
    }
    let issued_at = if issued_text.is_empty() {
        None
    } else {
        match OffsetDateTime::parse(&issued_text, &time::format_description::well_known::Rfc3339) {
            Ok(t) if t < TCO_APPLIES_FROM => {
                err(
                    &mut errors,
                    "section_a.issued_at",
                    "before 2022-06-07, when Regulation (EU) 2021/784 began to apply",
                );
                None
            }
            Ok(t) if received_at.is_some_and(|r| t > r + limits.clock_skew) => {
                err(&mut errors, "section_a.issued_at", "in the future");
                None
            }
            Ok(t) => Some(t),
            Err(_) => {
                err(&mut errors, "section_a.issued_at", "RFC 3339 date and time");
                None
            }
        }
    };

    // Section B: malformed values are errors; absent ones make the order insufficient.
    let b = &root["section_b"];
    let mut missing = Vec::new();
    let mut urls = Vec::new();
    match &b["urls"] {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let field = format!("section_b.urls[{i}]");
                match item.as_str().map(|u| (u, check_url(u, MAX_URL_BYTES))) {
                    Some((u, Ok(()))) => {
                        if !urls.iter().any(|x: &String| x == u) {
                            urls.push(u.to_string());
                        }
                    }
                    Some((_, Err(why))) => err(&mut errors, &field, why),
                    None => err(&mut errors, &field, "an absolute http(s) URL"),
                }
            }
            if items.len() > limits.max_urls {
                err(
                    &mut errors,
                    "section_b.urls",
                    &format!(
                        "at most {} URLs in one order (this one has {}); split it",
                        limits.max_urls,
                        items.len()
                    ),
                );
            }
            if items.is_empty() {
                err(
                    &mut missing,
                    "section_b.urls",
                    "no URL identifies the content",
                );
            }
        }
        Value::Null => err(
            &mut missing,
            "section_b.urls",
            "no URL identifies the content",
        ),
        _ => err(&mut errors, "section_b.urls", "an array of URLs"),
    }
    let mut grounds = Vec::new();
    match &b["grounds"] {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match serde_json::from_value::<Ground>(item.clone()) {
                    Ok(g) => grounds.push(g),
                    Err(_) => err(
                        &mut errors,
                        &format!("section_b.grounds[{i}]"),
                        "one of art2_7_a, art2_7_b, art2_7_c, art2_7_d, art2_7_e",
                    ),
                }
            }
            if items.is_empty() {
                err(
                    &mut missing,
                    "section_b.grounds",
                    "no Art. 2(7) ground given",
                );
            }
        }
        Value::Null => err(
            &mut missing,
            "section_b.grounds",
            "no Art. 2(7) ground given",
        ),
        _ => err(&mut errors, "section_b.grounds", "an array of grounds"),
    }
    let optional_text = |errors: &mut Vec<FieldError>, v: &Value, field: &str| match v {
        Value::String(s) if s.chars().count() > MAX_TEXT_CHARS => {
            err(
                errors,
                field,
                &format!("at most {MAX_TEXT_CHARS} characters"),
            );
            None
        }
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::String(_) | Value::Null => None,
        _ => {
            err(errors, field, "must be a string");
            None
        }
    };
    let reasons = optional_text(&mut errors, &b["reasons"], "section_b.reasons");
    if reasons.is_none() {
        err(
            &mut missing,
            "section_b.reasons",
            "no statement of reasons why the content is terrorist content",
        );
    }
    let additional = optional_text(
        &mut errors,
        &b["additional_information"],
        "section_b.additional_information",
    );
    let do_not_inform = match &root["section_c"]["do_not_inform"] {
        Value::Bool(v) => *v,
        Value::Null => false,
        _ => {
            err(&mut errors, "section_c.do_not_inform", "true or false");
            false
        }
    };
    let redress = optional_text(
        &mut errors,
        &root["section_g"]["redress"],
        "section_g.redress",
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RemovalOrder {
        section_a: SectionA {
            issuing_member_state: issuing,
            issuing_authority: authority,
            addressee,
            contact_point: contact,
            member_state_of_establishment: establishment,
            issued_at: issued_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
            reference,
        },
        urls,
        additional_information: additional,
        grounds,
        reasons,
        do_not_inform,
        redress,
        missing,
    })
}

/// Annex III reasons for not complying within the hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CannotComply {
    /// Art. 3(7): force majeure.
    ForceMajeure,
    /// Art. 3(7): de facto technical impossibility not attributable to us.
    TechnicalImpossibility,
    /// Art. 3(8): manifest errors.
    ManifestError,
    /// Art. 3(8): insufficient information to execute the order.
    InsufficientInformation,
}

/// An Annex III reply (a draft until legal sends it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexIII {
    /// The authority's reference.
    pub authority_reference: String,
    /// Our reference.
    pub provider_reference: String,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Why.
    pub reason: CannotComply,
    /// The missing or erroneous information.
    pub details: Vec<FieldError>,
    /// Free-text explanation.
    pub explanation: String,
    /// Whether this is still a draft.
    pub draft: bool,
    /// When it was produced.
    #[serde(with = "time::serde::rfc3339")]
    pub produced_at: OffsetDateTime,
}

/// The outcome for one URL in an Annex II reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexIIItem {
    /// The URL.
    pub url: String,
    /// `removed` or `disabled_in_all_member_states`.
    pub action: String,
    /// Time of the action: when the platform enforced it (not when we decided).
    #[serde(with = "time::serde::rfc3339")]
    pub time_of_action: OffsetDateTime,
}

/// The Annex II reply (Art. 3(6)): the order was executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexII {
    /// The authority's reference.
    pub authority_reference: String,
    /// Our reference.
    pub provider_reference: String,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Per URL.
    pub items: Vec<AnnexIIItem>,
    /// The provider's name.
    pub provider_name: String,
    /// Who signs.
    pub signature: String,
    /// The date of the reply.
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Section A of an Annex II or III reply: who, which order, both references, when received.
fn section_a_text(
    out: &mut String,
    order: &SectionA,
    authority_reference: &str,
    provider_reference: &str,
    received_at: OffsetDateTime,
) {
    out.push_str("SECTION A\n");
    out.push_str(&format!(
        "Addressee of the removal order: {}\n",
        order.addressee
    ));
    out.push_str(&format!(
        "Competent authority that issued the removal order: {} ({})\n",
        order.issuing_authority, order.issuing_member_state
    ));
    out.push_str(&format!(
        "File reference of the competent authority: {authority_reference}\n"
    ));
    out.push_str(&format!(
        "File reference of the addressee: {provider_reference}\n"
    ));
    out.push_str(&format!(
        "Time and date of receipt of the removal order: {}\n\n",
        rfc3339(received_at)
    ));
}

impl AnnexIII {
    /// The reply as plain text, in the order of the Annex III form; `order` is Section A of
    /// the order it answers.
    pub fn to_text(&self, order: &SectionA) -> String {
        let mut out = String::from(
            "ANNEX III - INFORMATION ON THE IMPOSSIBILITY TO EXECUTE THE REMOVAL ORDER\n\
             (Article 3(7) and (8) of Regulation (EU) 2021/784)\n",
        );
        if self.draft {
            out.push_str("DRAFT - not sent\n");
        }
        out.push('\n');
        section_a_text(
            &mut out,
            order,
            &self.authority_reference,
            &self.provider_reference,
            self.received_at,
        );
        out.push_str("SECTION B\nReasons for non-execution:\n");
        out.push_str(match self.reason {
            CannotComply::ForceMajeure => "- force majeure (Article 3(7))\n",
            CannotComply::TechnicalImpossibility => {
                "- de facto impossibility not attributable to the hosting service provider, \
                 including for objectively justifiable technical or operational reasons \
                 (Article 3(7))\n"
            }
            CannotComply::ManifestError => {
                "- the removal order contains manifest errors (Article 3(8))\n"
            }
            CannotComply::InsufficientInformation => {
                "- the removal order does not contain sufficient information (Article 3(8))\n"
            }
        });
        if !self.details.is_empty() {
            out.push_str("Information missing or erroneous:\n");
            for d in &self.details {
                out.push_str(&format!("- {}: {}\n", d.field, d.reason));
            }
        }
        out.push_str(&format!("Explanation: {}\n", self.explanation));
        out.push_str(&format!("\nDate: {}\n", rfc3339(self.produced_at)));
        out
    }
}

impl AnnexII {
    /// The reply as plain text, in the order of the Annex II form; `order` is Section A of
    /// the order it answers.
    pub fn to_text(&self, order: &SectionA) -> String {
        let mut out = String::new();
        out.push_str(
            "ANNEX II - FEEDBACK FOLLOWING REMOVAL OF TERRORIST CONTENT OR DISABLING OF ACCESS \
             THERETO\n(Article 3(6) of Regulation (EU) 2021/784)\n\n",
        );
        section_a_text(
            &mut out,
            order,
            &self.authority_reference,
            &self.provider_reference,
            self.received_at,
        );
        out.push_str("SECTION B\nMeasures taken in compliance with the removal order:\n");
        for item in &self.items {
            let measure = if item.action == "removed" {
                "the terrorist content has been removed"
            } else {
                "access to the terrorist content has been disabled in all Member States"
            };
            out.push_str(&format!(
                "- {}: {measure}; time and date of the measure taken: {}\n",
                item.url,
                rfc3339(item.time_of_action)
            ));
        }
        out.push_str("\nSECTION C\n");
        out.push_str(&format!(
            "Name of the hosting service provider: {}\n",
            self.provider_name
        ));
        out.push_str(&format!(
            "Member State of main establishment or of the legal representative: {}\n",
            order.member_state_of_establishment
        ));
        out.push_str(&format!("Contact point: {}\n", order.contact_point));
        out.push_str(&format!("Signature: {}\n", self.signature));
        out.push_str(&format!("Date: {}\n", rfc3339(self.date)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Value {
        serde_json::json!({
            "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
                "addressee": "Example Ltd", "contact_point": "tco@example.org",
                "member_state_of_establishment": "IE", "issued_at": "2026-04-01T10:00:00Z",
                "reference": "FR-2026-0042"},
            "section_b": {"urls": ["https://example.org/p/1", "https://example.org/p/2"],
                "grounds": ["art2_7_a"], "reasons": "glorifies an attack"},
            "section_c": {"do_not_inform": true}
        })
    }

    fn parse(v: &Value) -> Result<RemovalOrder, Vec<FieldError>> {
        parse_order(v.to_string().as_bytes())
    }

    #[test]
    fn a_complete_order_parses() {
        let o = parse(&full()).unwrap();
        assert_eq!(o.urls.len(), 2);
        assert!(o.do_not_inform && o.cross_border() && !o.insufficient());
        assert_eq!(o.grounds, vec![Ground::Incitement]);
    }

    #[test]
    fn malformed_fields_are_named() {
        let mut v = full();
        v["section_a"]["issuing_member_state"] = "EL".into();
        v["section_a"]["issued_at"] = "yesterday".into();
        v["section_a"].as_object_mut().unwrap().remove("reference");
        v["section_b"]["urls"][1] = "ftp://x".into();
        v["section_b"]["grounds"][0] = "art2_7_z".into();
        v["section_c"]["do_not_inform"] = "yes".into();
        let fields: Vec<String> = parse(&v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "section_a.reference",
                "section_a.issuing_member_state",
                "section_a.issued_at",
                "section_b.urls[1]",
                "section_b.grounds[0]",
                "section_c.do_not_inform"
            ]
        );
        assert_eq!(parse_order(b"[1]").unwrap_err()[0].field, "$");
        assert_eq!(parse_order(b"{").unwrap_err()[0].field, "$");
        assert_eq!(parse_order(b"{}").unwrap_err()[0].field, "section_a");
    }

    #[test]
    fn missing_section_b_content_is_insufficient_not_malformed() {
        let mut v = full();
        v["section_b"] = serde_json::json!({"urls": ["https://example.org/p/1"]});
        let o = parse(&v).unwrap();
        assert!(o.insufficient());
        let fields: Vec<&str> = o.missing.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["section_b.grounds", "section_b.reasons"]);
    }
}

#[cfg(test)]
mod mutation_tests;
