//! DSA Art. 17 statements of reasons, mapped from ledger decisions to the EU Transparency
//! Database's fields (`../shared/reports.md` §1; the choices are in `docs/reports.md`).
//!
//! Only facts go in: the restriction, its territorial scope, the legal or contractual ground
//! with fixed explanatory texts, the category, dates and automation. Nothing a moderator
//! typed and nothing about the user is sent (Art. 24(5)).

use crate::event::{Decision, Effect, SourceKind};
use crate::mapping::{Mapping, content_types, source_type};
use crate::period::ymd;
use crate::validate::COUNTRIES;
use serde_json::{Value, json};

/// The EU 27 among the territorial-scope codes (`EU` in a disabling stands for them).
const EU27: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

fn ground_text(g: &str) -> Option<(&'static str, &'static str)> {
    Some(match g {
        "art2_7_a" => (
            "(a)",
            "it incites the commission of terrorist offences, including by glorifying terrorist acts",
        ),
        "art2_7_b" => (
            "(b)",
            "it solicits a person or a group of persons to commit or contribute to terrorist offences",
        ),
        "art2_7_c" => (
            "(c)",
            "it solicits a person or a group of persons to participate in the activities of a terrorist group",
        ),
        "art2_7_d" => (
            "(d)",
            "it provides instruction on the making or use of explosives, firearms or other weapons, noxious or hazardous substances, or on other methods for the purpose of committing terrorist offences",
        ),
        "art2_7_e" => (
            "(e)",
            "it constitutes a threat to commit a terrorist offence",
        ),
        _ => return None,
    })
}

/// The territorial scope: everywhere for a removal, the named EEA states for a disabling.
fn territories(d: &Decision) -> Vec<String> {
    if d.effect != Effect::Disabled {
        return COUNTRIES.iter().map(|s| s.to_string()).collect();
    }
    let mut out: Vec<String> = Vec::new();
    for t in &d.territories {
        if t == "EU" {
            out.extend(EU27.iter().map(|s| s.to_string()));
        } else if COUNTRIES.contains(&t.as_str()) {
            out.push(t.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn facts(d: &Decision) -> String {
    let found = match d.source {
        SourceKind::HashMatch => {
            "Detected on our own initiative by matching against hash lists or text rules of known terrorist content"
        }
        SourceKind::Notice => "Reported in a notice under Article 16 of Regulation (EU) 2022/2065",
        SourceKind::TrustedNotice => {
            "Reported by a trusted flagger under Article 22 of Regulation (EU) 2022/2065"
        }
        SourceKind::RemovalOrder => {
            "Named in a removal order under Article 3 of Regulation (EU) 2021/784"
        }
        SourceKind::OtherNotification => {
            "Reported by a public authority's referral that is not an order"
        }
        SourceKind::Complaint => "Decided on an internal complaint",
    };
    let done = match d.effect {
        Effect::Removed => "the content was removed",
        _ => "access to the content was disabled in the territories listed",
    };
    format!("{found}; reviewed by a trained moderator, who decided that {done}.")
}

/// The statement for a decision, or `None` when Art. 17 asks for none: no restriction, a
/// complaint (the contested decision had its statement), or an authority's order (Art.
/// 17(5); unless [`Mapping::statements_for_orders`]).
pub fn statement(d: &Decision, m: &Mapping) -> Option<Value> {
    if !d.effect.restricts() {
        return None;
    }
    let source = match (source_type(d.source), d.source) {
        (Some(s), _) => s,
        (None, SourceKind::RemovalOrder) if m.statements_for_orders => {
            "SOURCE_TYPE_OTHER_NOTIFICATION"
        }
        _ => return None,
    };
    let cat = m.category(d.source, &d.labels);
    let visibility = match d.effect {
        Effect::Removed => "DECISION_VISIBILITY_CONTENT_REMOVED",
        _ => "DECISION_VISIBILITY_CONTENT_DISABLED",
    };
    let types = content_types(&d.signals);
    let mut s = json!({
        "decision_visibility": [visibility],
        "decision_monetary": null,
        "decision_provision": null,
        "decision_account": null,
        "account_type": null,
        "content_type": types,
        "category": cat.category,
        "category_specification": if cat.keywords.is_empty() { Value::Null } else { json!(cat.keywords) },
        "territorial_scope": territories(d),
        "content_language": null,
        "content_date": ymd(d.received_at.date()),
        "application_date": ymd(d.at.date()),
        "end_date_visibility_restriction": null,
        "decision_facts": facts(d),
        "source_type": source,
        "automated_detection": if d.automated_detection() { "Yes" } else { "No" },
        "automated_decision": if d.automated_decision {
            "AUTOMATED_DECISION_FULLY".to_string()
        } else if d.automated_detection() {
            m.reviewed_match_decision.clone()
        } else {
            "AUTOMATED_DECISION_NOT_AUTOMATED".to_string()
        },
        "puid": d.puid(),
    });
    let o = s.as_object_mut()?;
    if types.contains(&"CONTENT_TYPE_OTHER") {
        o.insert(
            "content_type_other".into(),
            json!("A file or web page identified by its hash or its address"),
        );
    }
    let grounds: Vec<_> = d
        .legal_grounds
        .iter()
        .filter_map(|g| ground_text(g))
        .collect();
    if grounds.is_empty() {
        o.insert(
            "decision_ground".into(),
            json!("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        );
        o.insert(
            "incompatible_content_ground".into(),
            json!("Terms of service: terrorist and violent extremist content is not allowed"),
        );
        o.insert(
            "incompatible_content_explanation".into(),
            json!("The content promotes, supports or depicts terrorist or violent extremist acts or organisations, which our terms of service prohibit."),
        );
        o.insert("incompatible_content_illegal".into(), json!("No"));
    } else {
        let letters: Vec<_> = grounds.iter().map(|g| g.0).collect();
        let why: Vec<_> = grounds.iter().map(|g| g.1).collect();
        o.insert(
            "decision_ground".into(),
            json!("DECISION_GROUND_ILLEGAL_CONTENT"),
        );
        o.insert(
            "illegal_content_legal_ground".into(),
            json!(format!(
                "Terrorist content: Regulation (EU) 2021/784, Article 2(7){}",
                letters.join(", ")
            )),
        );
        o.insert(
            "illegal_content_explanation".into(),
            json!(format!(
                "The content is terrorist content because {}.",
                why.join("; ")
            )),
        );
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate;
    use time::macros::datetime;

    fn decision(source: SourceKind, effect: Effect) -> Decision {
        Decision {
            case_id: "m-0123abcd".into(),
            seq: 0,
            at: datetime!(2026-03-02 10:00 UTC),
            received_at: datetime!(2026-03-01 09:00 UTC),
            due_at: None,
            in_time: true,
            source,
            issuing_state: None,
            effect,
            territories: vec!["DE".into(), "EU".into(), "US".into()],
            legal_grounds: vec!["art2_7_a".into(), "art2_7_e".into()],
            tos: false,
            labels: vec![],
            signals: vec!["pdq".into()],
            media: true,
            automated_decision: false,
            contested: None,
            contested_source: None,
        }
    }

    #[test]
    fn a_reviewed_hash_match_removal_maps_as_reports_md_says() {
        let s = statement(
            &decision(SourceKind::HashMatch, Effect::Removed),
            &Mapping::default(),
        )
        .unwrap();
        assert_eq!(validate(&s), Default::default(), "{s:#}");
        assert_eq!(s["puid"], "td_m-0123abcd_0");
        assert_eq!(s["source_type"], "SOURCE_VOLUNTARY");
        assert_eq!(s["automated_detection"], "Yes");
        assert_eq!(s["automated_decision"], "AUTOMATED_DECISION_NOT_AUTOMATED");
        assert_eq!(s["category"], "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY");
        assert_eq!(
            s["category_specification"],
            json!(["KEYWORD_TERRORIST_CONTENT"])
        );
        assert_eq!(s["decision_ground"], "DECISION_GROUND_ILLEGAL_CONTENT");
        assert_eq!(
            s["illegal_content_legal_ground"],
            "Terrorist content: Regulation (EU) 2021/784, Article 2(7)(a), (e)"
        );
        assert_eq!(s["territorial_scope"].as_array().unwrap().len(), 30);
        assert_eq!(s["content_type"], json!(["CONTENT_TYPE_IMAGE"]));
        assert_eq!(s["content_date"], "2026-03-01");
        assert_eq!(s["application_date"], "2026-03-02");
    }

    #[test]
    fn disabling_tos_and_notices() {
        let mut d = decision(SourceKind::TrustedNotice, Effect::Disabled);
        d.legal_grounds.clear();
        d.signals.clear();
        let s = statement(&d, &Mapping::default()).unwrap();
        assert_eq!(validate(&s), Default::default(), "{s:#}");
        let scope = s["territorial_scope"].as_array().unwrap();
        assert_eq!(scope.len(), 27, "EU expands, DE once, US dropped");
        assert!(!scope.contains(&json!("NO")));
        assert_eq!(s["source_type"], "SOURCE_TRUSTED_FLAGGER");
        assert_eq!(s["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT");
        assert_eq!(s["automated_detection"], "No");
        assert_eq!(s["content_type"], json!(["CONTENT_TYPE_OTHER"]));
        assert!(s["content_type_other"].is_string());
    }

    #[test]
    fn orders_complaints_and_no_action_get_no_statement_by_default() {
        let m = Mapping::default();
        assert!(statement(&decision(SourceKind::RemovalOrder, Effect::Removed), &m).is_none());
        assert!(statement(&decision(SourceKind::Complaint, Effect::Removed), &m).is_none());
        assert!(statement(&decision(SourceKind::HashMatch, Effect::NoAction), &m).is_none());
        assert!(statement(&decision(SourceKind::HashMatch, Effect::Restored), &m).is_none());
        let on = Mapping {
            statements_for_orders: true,
            ..Mapping::default()
        };
        let s = statement(&decision(SourceKind::RemovalOrder, Effect::Removed), &on).unwrap();
        assert_eq!(s["source_type"], "SOURCE_TYPE_OTHER_NOTIFICATION");
        let partial = Mapping {
            reviewed_match_decision: "AUTOMATED_DECISION_PARTIALLY".into(),
            ..Mapping::default()
        };
        let s = statement(&decision(SourceKind::HashMatch, Effect::Removed), &partial).unwrap();
        assert_eq!(s["automated_decision"], "AUTOMATED_DECISION_PARTIALLY");
    }
}
