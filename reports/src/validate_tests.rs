//! One test per field rule: a valid statement, then each rule broken on its own, with the
//! field the error must name.

use super::*;
use serde_json::json;

fn valid() -> Value {
    json!({
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Regulation (EU) 2021/784, Article 2(7)(a)",
        "illegal_content_explanation": "Incites terrorist offences.",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "category_specification": ["KEYWORD_TERRORIST_CONTENT"],
        "territorial_scope": ["DE", "GR"],
        "content_language": "AR",
        "content_date": "2026-03-01",
        "application_date": "2026-03-02",
        "end_date_visibility_restriction": null,
        "decision_facts": "Matched a hash list; reviewed.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "td_m-1_0",
        "content_id": {"EAN-13": "1234567890123"}
    })
}

/// The fields named by the errors after `change` is applied to a valid statement.
fn fields(change: impl FnOnce(&mut Map<String, Value>)) -> Vec<String> {
    let mut s = valid();
    change(s.as_object_mut().unwrap());
    validate(&s).into_keys().collect()
}

fn set(k: &'static str, v: Value) -> impl FnOnce(&mut Map<String, Value>) {
    move |m| {
        m.insert(k.into(), v);
    }
}

fn del(k: &'static str) -> impl FnOnce(&mut Map<String, Value>) {
    move |m| {
        m.remove(k);
    }
}

#[test]
fn a_valid_statement_passes() {
    assert_eq!(validate(&valid()), FieldErrors::new());
    assert_eq!(fields(|_| {}), Vec::<String>::new());
}

#[test]
fn restrictions() {
    assert_eq!(fields(del("decision_visibility")), ["decision_visibility"]);
    assert_eq!(
        fields(set("decision_visibility", json!([]))),
        ["decision_visibility"]
    );
    assert!(
        fields(|m| {
            m.remove("decision_visibility");
            m.insert(
                "decision_account".into(),
                json!("DECISION_ACCOUNT_SUSPENDED"),
            );
        })
        .is_empty()
    );
    assert!(
        fields(|m| {
            m.remove("decision_visibility");
            m.insert(
                "decision_monetary".into(),
                json!("DECISION_MONETARY_SUSPENSION"),
            );
        })
        .is_empty()
    );
    assert!(
        fields(|m| {
            m.remove("decision_visibility");
            m.insert(
                "decision_provision".into(),
                json!("DECISION_PROVISION_TOTAL_SUSPENSION"),
            );
        })
        .is_empty()
    );
    assert_eq!(
        fields(set("decision_visibility", json!(["REMOVED"]))),
        ["decision_visibility"]
    );
    assert_eq!(
        fields(set(
            "decision_visibility",
            json!(["DECISION_VISIBILITY_OTHER"])
        )),
        ["decision_visibility_other"]
    );
    assert!(
        fields(|m| {
            m.insert(
                "decision_visibility".into(),
                json!(["DECISION_VISIBILITY_OTHER"]),
            );
            m.insert("decision_visibility_other".into(), json!("shadow"));
        })
        .is_empty()
    );
    assert_eq!(
        fields(|m| {
            m.insert(
                "decision_visibility".into(),
                json!(["DECISION_VISIBILITY_OTHER"]),
            );
            m.insert("decision_visibility_other".into(), json!("x".repeat(501)));
        }),
        ["decision_visibility_other"]
    );
    assert_eq!(
        fields(set("decision_monetary", json!("DECISION_MONETARY_OTHER"))),
        ["decision_monetary_other"]
    );
    assert_eq!(
        fields(set("decision_monetary", json!("FINE"))),
        ["decision_monetary"]
    );
    assert_eq!(
        fields(set("decision_provision", json!("X"))),
        ["decision_provision"]
    );
    assert_eq!(
        fields(set("decision_account", json!("X"))),
        ["decision_account"]
    );
    assert_eq!(
        fields(set("account_type", json!("ACCOUNT_TYPE_X"))),
        ["account_type"]
    );
    assert!(fields(set("account_type", json!("ACCOUNT_TYPE_PRIVATE"))).is_empty());
}

#[test]
fn grounds() {
    assert_eq!(fields(del("decision_ground")), ["decision_ground"]);
    assert_eq!(
        fields(set("decision_ground", json!("ILLEGAL"))),
        ["decision_ground"]
    );
    assert_eq!(
        fields(del("illegal_content_legal_ground")),
        ["illegal_content_legal_ground"]
    );
    assert_eq!(
        fields(del("illegal_content_explanation")),
        ["illegal_content_explanation"]
    );
    assert_eq!(
        fields(set("illegal_content_explanation", json!("x".repeat(2001)))),
        ["illegal_content_explanation"]
    );
    assert!(fields(set("illegal_content_explanation", json!("é".repeat(2000)))).is_empty());
    assert_eq!(
        fields(set("illegal_content_legal_ground", json!("x".repeat(501)))),
        ["illegal_content_legal_ground"]
    );
    let incompatible = |m: &mut Map<String, Value>| {
        m.insert(
            "decision_ground".into(),
            json!("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        );
    };
    assert_eq!(
        fields(incompatible),
        [
            "incompatible_content_explanation",
            "incompatible_content_ground"
        ]
    );
    assert!(
        fields(|m| {
            incompatible(m);
            m.insert("incompatible_content_ground".into(), json!("ToS 4.2"));
            m.insert(
                "incompatible_content_explanation".into(),
                json!("Violent extremism."),
            );
            m.insert("incompatible_content_illegal".into(), json!("No"));
        })
        .is_empty()
    );
    assert_eq!(
        fields(|m| {
            incompatible(m);
            m.insert("incompatible_content_ground".into(), json!("x".repeat(501)));
            m.insert(
                "incompatible_content_explanation".into(),
                json!("x".repeat(2001)),
            );
            m.insert("incompatible_content_illegal".into(), json!("maybe"));
        }),
        [
            "incompatible_content_explanation",
            "incompatible_content_ground",
            "incompatible_content_illegal"
        ]
    );
    // With ILLEGAL_CONTENT the field is dropped, not checked.
    assert!(fields(set("incompatible_content_illegal", json!("maybe"))).is_empty());
    assert_eq!(
        fields(set("decision_ground_reference_url", json!("not a url"))),
        ["decision_ground_reference_url"]
    );
    assert_eq!(
        fields(set(
            "decision_ground_reference_url",
            json!(format!("https://e.eu/{}", "x".repeat(490)))
        )),
        ["decision_ground_reference_url"]
    );
    assert!(
        fields(set(
            "decision_ground_reference_url",
            json!("https://example.eu/tos#4")
        ))
        .is_empty()
    );
}

#[test]
fn content_and_categories() {
    assert_eq!(fields(del("content_type")), ["content_type"]);
    assert_eq!(
        fields(set("content_type", json!(["CONTENT_TYPE_GIF"]))),
        ["content_type"]
    );
    assert_eq!(
        fields(set("content_type", json!(["CONTENT_TYPE_OTHER"]))),
        ["content_type_other"]
    );
    assert_eq!(
        fields(|m| {
            m.insert("content_type".into(), json!(["CONTENT_TYPE_OTHER"]));
            m.insert("content_type_other".into(), json!("x".repeat(501)));
        }),
        ["content_type_other"]
    );
    assert_eq!(fields(del("category")), ["category"]);
    for removed in [
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER",
    ] {
        assert_eq!(
            fields(set("category", json!(removed))),
            ["category"],
            "{removed}"
        );
    }
    assert!(fields(set("category", json!("STATEMENT_CATEGORY_VIOLENCE"))).is_empty());
    assert_eq!(
        fields(set("category_addition", json!(["X"]))),
        ["category_addition"]
    );
    assert!(
        fields(set(
            "category_addition",
            json!(["STATEMENT_CATEGORY_VIOLENCE"])
        ))
        .is_empty()
    );
    assert_eq!(
        fields(set("category_specification", json!(["KEYWORD_NOPE"]))),
        ["category_specification"]
    );
    assert!(fields(set("category_specification", Value::Null)).is_empty());
    assert!(
        fields(set(
            "category_specification",
            json!(["KEYWORD_ILLEGAL_ORGANIZATIONS", "KEYWORD_COORDINATED_HARM"])
        ))
        .is_empty()
    );
    assert_eq!(
        fields(set("category_specification_other", json!("x".repeat(501)))),
        ["category_specification_other"]
    );
    assert_eq!(fields(del("territorial_scope")), ["territorial_scope"]);
    assert_eq!(
        fields(set("territorial_scope", json!(["EL"]))),
        ["territorial_scope"]
    );
    assert_eq!(
        fields(set("territorial_scope", json!(["US"]))),
        ["territorial_scope"]
    );
    assert!(fields(set("territorial_scope", json!(["IS", "LI", "NO"]))).is_empty());
    assert_eq!(
        fields(set("content_language", json!("en"))),
        ["content_language"]
    );
    assert_eq!(
        fields(set("content_language", json!("ENG"))),
        ["content_language"]
    );
    assert!(fields(set("content_language", Value::Null)).is_empty());
}

#[test]
fn dates_facts_source_automation_puid_and_content_id() {
    assert_eq!(fields(del("content_date")), ["content_date"]);
    assert_eq!(
        fields(set("content_date", json!("1999-12-31"))),
        ["content_date"]
    );
    assert!(fields(set("content_date", json!("2000-01-01"))).is_empty());
    assert_eq!(
        fields(set("content_date", json!("2038-01-02"))),
        ["content_date"]
    );
    assert_eq!(
        fields(set("content_date", json!("01/03/2026"))),
        ["content_date"]
    );
    assert_eq!(fields(del("application_date")), ["application_date"]);
    assert_eq!(
        fields(set("application_date", json!("2019-12-31"))),
        ["application_date"]
    );
    assert!(fields(set("application_date", json!("2038-01-01"))).is_empty());
    assert_eq!(
        fields(set("application_date", json!("2026-02-30"))),
        ["application_date"]
    );
    assert_eq!(
        fields(set("end_date_account_restriction", json!("2038-01-02"))),
        ["end_date_account_restriction"]
    );
    assert!(fields(set("end_date_monetary_restriction", json!("2030-01-01"))).is_empty());
    assert_eq!(fields(del("decision_facts")), ["decision_facts"]);
    assert_eq!(
        fields(set("decision_facts", json!("x".repeat(5001)))),
        ["decision_facts"]
    );
    assert_eq!(fields(del("source_type")), ["source_type"]);
    assert_eq!(
        fields(set("source_type", json!("SOURCE_ORDER"))),
        ["source_type"]
    );
    // Dropped with SOURCE_VOLUNTARY, checked otherwise.
    assert!(fields(set("source_identity", json!("x".repeat(501)))).is_empty());
    assert_eq!(
        fields(|m| {
            m.insert("source_type".into(), json!("SOURCE_ARTICLE_16"));
            m.insert("source_identity".into(), json!("x".repeat(501)));
        }),
        ["source_identity"]
    );
    assert_eq!(fields(del("automated_detection")), ["automated_detection"]);
    assert_eq!(
        fields(set("automated_detection", json!(true))),
        ["automated_detection"]
    );
    assert_eq!(
        fields(set("automated_decision", json!("FULLY"))),
        ["automated_decision"]
    );
    assert_eq!(fields(del("automated_decision")), ["automated_decision"]);
    assert_eq!(fields(del("puid")), ["puid"]);
    assert_eq!(fields(set("puid", json!("a b"))), ["puid"]);
    assert_eq!(fields(set("puid", json!("x".repeat(501)))), ["puid"]);
    assert!(fields(set("puid", json!("x".repeat(500)))).is_empty());
    assert_eq!(
        fields(set("content_id", json!({"EAN-13": "123"}))),
        ["content_id"]
    );
    assert_eq!(
        fields(set("content_id", json!({"ISBN": "1234567890123"}))),
        ["content_id"]
    );
    assert!(fields(set("content_id", Value::Null)).is_empty());
    assert_eq!(
        validate(&json!([])).into_keys().collect::<Vec<_>>(),
        ["statement"]
    );
    let messages = validate(&json!({}));
    assert_eq!(
        messages["decision_ground"],
        ["The decision ground field is required."]
    );
}

/// Written against the cargo-mutants run (docs/testing.md): what "required" means for an
/// empty value, as the database's `required` rule has it (an empty or blank string and an
/// empty array count as missing).
#[test]
fn blank_strings_and_empty_arrays_are_missing() {
    for blank in ["", "   "] {
        let messages = validate(&{
            let mut s = valid();
            s["decision_facts"] = json!(blank);
            s
        });
        assert_eq!(
            messages,
            FieldErrors::from([(
                "decision_facts".to_string(),
                vec!["The decision facts field is required.".to_string()]
            )]),
            "{blank:?}"
        );
    }
    assert_eq!(fields(set("puid", json!(" "))), ["puid"]);
    let messages = validate(&{
        let mut s = valid();
        s["content_type"] = json!([]);
        s
    });
    assert_eq!(
        messages,
        FieldErrors::from([(
            "content_type".to_string(),
            vec!["The content type field is required.".to_string()]
        )])
    );
    assert_eq!(
        fields(set("territorial_scope", json!([]))),
        ["territorial_scope"]
    );
}

/// Written against the cargo-mutants run: the reference URL must be a web link a reader of
/// the database can open (http or https, with a host); other schemes are refused locally.
#[test]
fn the_reference_url_is_a_web_link() {
    for bad in [
        "ftp://example.eu/terms",
        "mailto:legal@example.eu",
        "file:///etc/terms",
    ] {
        assert_eq!(
            fields(set("decision_ground_reference_url", json!(bad))),
            ["decision_ground_reference_url"],
            "{bad}"
        );
    }
    assert!(
        fields(set(
            "decision_ground_reference_url",
            json!("http://example.eu/t")
        ))
        .is_empty()
    );
}
