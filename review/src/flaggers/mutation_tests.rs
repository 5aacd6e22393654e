//! Rules of trusted-flagger registration (DSA Art. 22) that the mutation run
//! (`docs/testing.md`) showed no test pinned: what a valid registration keeps, the registry id
//! and account forms, the limits on names and areas of expertise, and the error for each kind
//! of wrong value. Expected values are written from docs/review.md.

use super::*;
use serde_json::json;

fn good() -> Value {
    json!({"id": "ngo-1", "name": "Counter Extremism NGO", "awarded_by": "IE: Coimisiún na Meán",
        "expertise": ["terrorist content", "violent extremism"], "since": "2025-03-01"})
}

fn parse(v: &Value) -> Result<NewFlagger, Vec<FieldError>> {
    parse_new_flagger(v.to_string().as_bytes())
}

fn errors(v: &Value) -> Vec<(String, String)> {
    parse(v)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.reason))
        .collect()
}

fn fields(v: &Value) -> Vec<String> {
    errors(v).into_iter().map(|(f, _)| f).collect()
}

#[test]
fn a_valid_registration_keeps_what_was_sent_trimmed() {
    let mut v = good();
    v["name"] = "  Counter Extremism NGO ".into();
    v["expertise"] = json!([" terrorist content "]);
    assert_eq!(
        parse(&v).unwrap(),
        NewFlagger {
            id: "ngo-1".into(),
            name: "Counter Extremism NGO".into(),
            awarded_by: "IE: Coimisiún na Meán".into(),
            expertise: vec!["terrorist content".into()],
            since: "2025-03-01".into(),
            account: None,
        }
    );
    v["account"] = "ngo1-api".into();
    assert_eq!(parse(&v).unwrap().account.as_deref(), Some("ngo1-api"));
}

#[test]
fn registry_ids_are_lower_case_slugs_of_at_most_64_bytes() {
    for ok in ["a", "0", "ngo-1", "ngo_1", "1-a_b", &"a".repeat(64)] {
        assert!(valid_id(ok), "{ok:?}");
    }
    for bad in [
        "",
        "-ngo",
        "_ngo",
        "Ngo",
        "ngo 1",
        "ngo.1",
        "ngö",
        &"a".repeat(65),
    ] {
        assert!(!valid_id(bad), "{bad:?}");
    }
}

#[test]
fn each_missing_or_blank_field_is_named_with_why() {
    assert_eq!(
        errors(&json!({})),
        [
            ("id".to_string(), "required".to_string()),
            ("name".to_string(), "required".to_string()),
            ("awarded_by".to_string(), "required".to_string()),
            ("expertise".to_string(), "required".to_string()),
            ("since".to_string(), "required".to_string()),
        ],
        "an absent id or date is one error each, not also a malformed one"
    );
    let mut v = good();
    v["name"] = "   ".into();
    v["awarded_by"] = json!(7);
    assert_eq!(
        errors(&v),
        [
            ("name".to_string(), "must be a non-empty string".to_string()),
            (
                "awarded_by".to_string(),
                "must be a non-empty string".to_string()
            ),
        ]
    );
}

#[test]
fn text_limits_include_their_last_character() {
    let mut v = good();
    v["id"] = "a".repeat(64).into();
    v["name"] = "é".repeat(200).into();
    v["awarded_by"] = "d".repeat(200).into();
    v["account"] = "x".repeat(100).into();
    assert!(parse(&v).is_ok(), "{:?}", parse(&v).err());
    v["id"] = "a".repeat(65).into();
    v["name"] = "é".repeat(201).into();
    v["awarded_by"] = "d".repeat(201).into();
    v["account"] = "x".repeat(101).into();
    assert_eq!(
        errors(&v),
        [
            ("id".to_string(), "at most 64 characters".to_string()),
            ("name".to_string(), "at most 200 characters".to_string()),
            (
                "awarded_by".to_string(),
                "at most 200 characters".to_string()
            ),
            (
                "account".to_string(),
                "an API account name (no spaces, at most 100 characters)".to_string()
            ),
        ]
    );
}

#[test]
fn expertise_is_one_to_twenty_areas_of_at_most_200_characters() {
    let mut v = good();
    let twenty: Vec<String> = (0..20).map(|i| format!("area {i}")).collect();
    v["expertise"] = json!(twenty);
    assert_eq!(parse(&v).unwrap().expertise.len(), 20);
    v["expertise"] = json!(["é".repeat(200)]);
    assert!(parse(&v).is_ok());
    let twenty_one: Vec<String> = (0..21).map(|i| format!("area {i}")).collect();
    for bad in [json!([]), json!(twenty_one), json!("terrorist content")] {
        v["expertise"] = bad;
        assert_eq!(fields(&v), ["expertise"]);
    }
    v["expertise"] = json!(["ok", "é".repeat(201), "  ", 5]);
    assert_eq!(fields(&v), ["expertise[1]", "expertise[2]", "expertise[3]"]);
}

#[test]
fn since_is_a_calendar_date() {
    let mut v = good();
    v["since"] = "2024-02-29".into();
    assert!(parse(&v).is_ok());
    for bad in ["2025-02-29", "01/03/2025", "2025-3-1"] {
        v["since"] = bad.into();
        assert_eq!(fields(&v), ["since"], "{bad:?}");
    }
}

#[test]
fn accounts_are_names_without_blanks_or_control_characters() {
    for bad in [
        json!(""),
        json!("ngo api"),
        json!("ngo\tapi"),
        json!("ngo\u{7}"),
        json!(1),
    ] {
        let mut v = good();
        v["account"] = bad.clone();
        assert_eq!(fields(&v), ["account"], "{bad}");
    }
    let mut v = good();
    v["account"] = Value::Null;
    assert_eq!(parse(&v).unwrap().account, None);
}
