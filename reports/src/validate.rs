//! The EU Transparency Database's field rules for a statement of reasons, checked locally
//! before sending, so a refusal is found (and named by field) before it costs a round trip.
//! The rules are those of `../shared/reports.md` §1 (from the database's validation code);
//! errors have the database's own shape: field → messages.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Field → messages, as the database answers a `422`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// `DECISION_VISIBILITY` keys.
pub const DECISION_VISIBILITY: [&str; 7] = [
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
];
const DECISION_MONETARY: [&str; 3] = [
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
];
const DECISION_PROVISION: [&str; 4] = [
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
];
const DECISION_ACCOUNT: [&str; 2] = ["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"];
const ACCOUNT_TYPE: [&str; 2] = ["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"];
const GROUNDS: [&str; 2] = [
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
];
const CONTENT_TYPE: [&str; 8] = [
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];
/// `SOURCE` keys.
pub const SOURCE: [&str; 4] = [
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];
const AUTOMATED_DECISION: [&str; 3] = [
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];
/// The 16 `STATEMENT_CATEGORY` keys of the July 2025 schema.
pub const CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];
/// The territorial-scope codes: EU 27 + IS, LI, NO (Greece is `GR`).
pub const COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The `KEYWORD_*` keys: those of the Commission's category list (Part 2 template).
pub static KEYWORDS: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| {
    include_str!("../templates/Part_2_categories_names.csv")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| s.starts_with("KEYWORD_"))
        .collect()
});

struct Check<'a> {
    s: &'a Map<String, Value>,
    errors: FieldErrors,
}

fn human(field: &str) -> String {
    field.replace('_', " ")
}

impl<'a> Check<'a> {
    fn err(&mut self, field: &str, msg: String) {
        self.errors.entry(field.to_string()).or_default().push(msg);
    }

    /// The value unless absent or null.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.s.get(field).filter(|v| !v.is_null())
    }

    fn required(&mut self, field: &str) -> Option<&'a Value> {
        let v = self.get(field);
        let empty = match v {
            None => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if empty {
            self.err(field, format!("The {} field is required.", human(field)));
            return None;
        }
        v
    }

    fn string(&mut self, field: &str, max: usize) -> Option<&'a str> {
        let Some(s) = self.s.get(field).and_then(Value::as_str) else {
            self.err(
                field,
                format!("The {} field must be a string.", human(field)),
            );
            return None;
        };
        if s.chars().count() > max {
            self.err(
                field,
                format!(
                    "The {} field must not be greater than {max} characters.",
                    human(field)
                ),
            );
        }
        Some(s)
    }

    fn opt_string(&mut self, field: &str, max: usize) -> Option<&'a str> {
        self.get(field)?;
        self.string(field, max)
    }

    fn one_of(&mut self, field: &str, v: &Value, allowed: &[&str]) -> Option<&'a str> {
        match v.as_str() {
            Some(s) if allowed.contains(&s) => self.s.get(field).and_then(Value::as_str),
            _ => {
                self.err(field, format!("The selected {} is invalid.", human(field)));
                None
            }
        }
    }

    fn opt_one_of(&mut self, field: &str, allowed: &[&str]) -> Option<&'a str> {
        let v = self.get(field)?;
        self.one_of(field, v, allowed)
    }

    fn array_of(&mut self, field: &str, allowed: &dyn Fn(&str) -> bool) -> Vec<&'a str> {
        let Some(items) = self.s.get(field).and_then(Value::as_array) else {
            self.err(
                field,
                format!("The {} field must be an array.", human(field)),
            );
            return vec![];
        };
        let mut out = vec![];
        for item in items {
            match item.as_str() {
                Some(s) if allowed(s) => out.push(s),
                _ => {
                    self.err(field, format!("The selected {} is invalid.", human(field)));
                    return out;
                }
            }
        }
        out
    }

    fn required_iff(&mut self, field: &str, condition: bool, max: usize) {
        if condition && self.required(field).is_some() {
            self.string(field, max);
        }
    }

    fn date(&mut self, field: &str, min: &str, max: &str) {
        let Some(v) = self.get(field) else { return };
        let ok = v.as_str().is_some_and(|s| {
            crate::period::Period::parse(&format!("{s}/{s}")).is_ok() && s.len() == 10
        });
        if !ok {
            self.err(
                field,
                format!("The {} field must match the format Y-m-d.", human(field)),
            );
            return;
        }
        let s = v.as_str().unwrap_or_default();
        if s < min {
            self.err(
                field,
                format!(
                    "The {} must be a date after or equal to {min}.",
                    human(field)
                ),
            );
        }
        if s > max {
            self.err(
                field,
                format!(
                    "The {} must be a date before or equal to {max}.",
                    human(field)
                ),
            );
        }
    }
}

fn is_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks a statement against every field rule; empty when it passes.
pub fn validate(statement: &Value) -> FieldErrors {
    let Some(s) = statement.as_object() else {
        let mut e = FieldErrors::new();
        e.insert(
            "statement".into(),
            vec!["The statement must be an object.".into()],
        );
        return e;
    };
    let mut c = Check {
        s,
        errors: FieldErrors::new(),
    };
    // Restrictions: at least one of four.
    let visibility = match c.get("decision_visibility") {
        Some(_) => c.array_of("decision_visibility", &|x| DECISION_VISIBILITY.contains(&x)),
        None => vec![],
    };
    let monetary = c.opt_one_of("decision_monetary", &DECISION_MONETARY);
    let provision = c.opt_one_of("decision_provision", &DECISION_PROVISION);
    let account = c.opt_one_of("decision_account", &DECISION_ACCOUNT);
    let any =
        !visibility.is_empty() || monetary.is_some() || provision.is_some() || account.is_some();
    if !any {
        c.err(
            "decision_visibility",
            "The decision visibility field is required when none of decision monetary / \
             decision provision / decision account are present."
                .into(),
        );
    }
    c.required_iff(
        "decision_visibility_other",
        visibility.contains(&"DECISION_VISIBILITY_OTHER"),
        500,
    );
    c.required_iff(
        "decision_monetary_other",
        monetary == Some("DECISION_MONETARY_OTHER"),
        500,
    );
    c.opt_one_of("account_type", &ACCOUNT_TYPE);
    // Grounds.
    let ground = match c.required("decision_ground") {
        Some(v) => c.one_of("decision_ground", v, &GROUNDS),
        None => None,
    };
    if let Some(url) = c.opt_string("decision_ground_reference_url", 500)
        && !is_url(url)
    {
        c.err(
            "decision_ground_reference_url",
            "The decision ground reference url field must be a valid URL.".into(),
        );
    }
    let illegal = ground == Some("DECISION_GROUND_ILLEGAL_CONTENT");
    let incompatible = ground == Some("DECISION_GROUND_INCOMPATIBLE_CONTENT");
    c.required_iff("illegal_content_legal_ground", illegal, 500);
    c.required_iff("illegal_content_explanation", illegal, 2000);
    c.required_iff("incompatible_content_ground", incompatible, 500);
    c.required_iff("incompatible_content_explanation", incompatible, 2000);
    if incompatible {
        c.opt_one_of("incompatible_content_illegal", &["Yes", "No"]);
    }
    // Content.
    let types = match c.required("content_type") {
        Some(_) => c.array_of("content_type", &|x| CONTENT_TYPE.contains(&x)),
        None => vec![],
    };
    c.required_iff(
        "content_type_other",
        types.contains(&"CONTENT_TYPE_OTHER"),
        500,
    );
    if let Some(v) = c.required("category") {
        c.one_of("category", v, &CATEGORIES);
    }
    if c.get("category_addition").is_some() {
        c.array_of("category_addition", &|x| CATEGORIES.contains(&x));
    }
    if c.get("category_specification").is_some() {
        c.array_of("category_specification", &|x| KEYWORDS.contains(x));
    }
    c.opt_string("category_specification_other", 500);
    if c.required("territorial_scope").is_some() {
        c.array_of("territorial_scope", &|x| COUNTRIES.contains(&x));
    }
    if let Some(v) = c.get("content_language") {
        let ok = v
            .as_str()
            .is_some_and(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_uppercase()));
        if !ok {
            c.err(
                "content_language",
                "The selected content language is invalid.".into(),
            );
        }
    }
    if c.required("content_date").is_some() {
        c.date("content_date", "2000-01-01", "2038-01-01");
    }
    if c.required("application_date").is_some() {
        c.date("application_date", "2020-01-01", "2038-01-01");
    }
    for f in [
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
    ] {
        c.date(f, "0000-00-00", "2038-01-01");
    }
    if c.required("decision_facts").is_some() {
        c.string("decision_facts", 5000);
    }
    // Source and automation.
    let source = match c.required("source_type") {
        Some(v) => c.one_of("source_type", v, &SOURCE),
        None => None,
    };
    if source != Some("SOURCE_VOLUNTARY") {
        c.opt_string("source_identity", 500);
    }
    if let Some(v) = c.required("automated_detection") {
        c.one_of("automated_detection", v, &["Yes", "No"]);
    }
    if let Some(v) = c.required("automated_decision") {
        c.one_of("automated_decision", v, &AUTOMATED_DECISION);
    }
    if c.required("puid").is_some()
        && let Some(p) = c.string("puid", 500)
        && !p
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        c.err("puid", "The puid field format is invalid.".into());
    }
    if let Some(v) = c.get("content_id") {
        let ok = v.as_object().is_some_and(|o| {
            o.iter().all(|(k, v)| {
                k == "EAN-13"
                    && v.as_str()
                        .is_some_and(|s| s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit()))
            })
        });
        if !ok {
            c.err(
                "content_id",
                "The content id must hold only an EAN-13 of 13 digits.".into(),
            );
        }
    }
    c.errors
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
