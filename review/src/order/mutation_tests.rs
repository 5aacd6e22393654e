//! Rules of removal-order intake and replies that the mutation run (`docs/testing.md`) showed no
//! test pinned: Art. 4 applies only across borders; the shapes of invalid orders (blank strings,
//! values of the wrong JSON type, `null`, absent sections) each get exactly the error or the
//! Annex III gap they should; the Annex II text. Expected values are written from Annex I–II of
//! Regulation 2021/784 and docs/review.md.

use super::*;
use serde_json::json;
use time::macros::datetime;

fn full() -> Value {
    json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": "2026-04-01T10:00:00Z",
            "reference": "FR-2026-0042"},
        "section_b": {"urls": ["https://example.org/p/1"], "grounds": ["art2_7_d"],
            "reasons": "bomb-making manual"}
    })
}

fn parse(v: &Value) -> Result<RemovalOrder, Vec<FieldError>> {
    parse_order(v.to_string().as_bytes())
}

fn error_fields(v: &Value) -> Vec<String> {
    parse(v).unwrap_err().into_iter().map(|e| e.field).collect()
}

fn missing_fields(o: &RemovalOrder) -> Vec<&str> {
    o.missing.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn an_order_from_the_member_state_of_establishment_is_not_cross_border() {
    let mut v = full();
    v["section_a"]["issuing_member_state"] = "IE".into();
    let o = parse(&v).unwrap();
    assert!(
        !o.cross_border(),
        "Art. 4 scrutiny is for other Member States' orders"
    );
    v["section_a"]["issuing_member_state"] = "DE".into();
    assert!(parse(&v).unwrap().cross_border());
}

#[test]
fn a_complete_order_keeps_every_field_as_sent() {
    let mut v = full();
    v["section_a"]["addressee"] = "  Example Ltd  ".into();
    v["section_b"]["additional_information"] = "the second video in the post".into();
    v["section_g"] = json!({"redress": "Tribunal administratif de Paris, 2 months"});
    let o = parse(&v).unwrap();
    assert_eq!(
        o.section_a,
        SectionA {
            issuing_member_state: "FR".into(),
            issuing_authority: "OCLCTIC".into(),
            addressee: "Example Ltd".into(),
            contact_point: "tco@example.org".into(),
            member_state_of_establishment: "IE".into(),
            issued_at: datetime!(2026-04-01 10:00 UTC),
            reference: "FR-2026-0042".into(),
        }
    );
    assert_eq!(o.urls, ["https://example.org/p/1"]);
    assert_eq!(o.grounds, [Ground::Instruction]);
    assert_eq!(o.reasons.as_deref(), Some("bomb-making manual"));
    assert_eq!(
        o.additional_information.as_deref(),
        Some("the second video in the post")
    );
    assert_eq!(
        o.redress.as_deref(),
        Some("Tribunal administratif de Paris, 2 months")
    );
    assert!(
        !o.do_not_inform,
        "no Section C: the provider may be informed"
    );
    assert!(o.missing.is_empty());
}

#[test]
fn an_absent_section_a_is_one_error_not_one_per_field() {
    let mut v = full();
    v.as_object_mut().unwrap().remove("section_a");
    assert_eq!(error_fields(&v), ["section_a"]);
    v["section_a"] = json!("FR");
    assert_eq!(error_fields(&v), ["section_a"]);
}

#[test]
fn blank_or_mistyped_section_a_values_are_malformed() {
    let mut v = full();
    v["section_a"]["reference"] = "   ".into();
    v["section_a"]["addressee"] = json!(42);
    v["section_a"]["contact_point"] = Value::Null;
    assert_eq!(
        error_fields(&v),
        [
            "section_a.addressee",
            "section_a.contact_point",
            "section_a.reference"
        ]
    );
}

#[test]
fn a_missing_member_state_is_reported_once_as_required() {
    let mut v = full();
    v["section_a"]
        .as_object_mut()
        .unwrap()
        .remove("member_state_of_establishment");
    let errors = parse(&v).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "section_a.member_state_of_establishment");
    assert_eq!(errors[0].reason, "required");
}

#[test]
fn urls_must_be_absolute_http_urls_without_blanks() {
    for bad in [
        "https://",
        "http://",
        "ftp://example.org/p/1",
        "example.org/p/1",
        "https://example.org/p 1",
    ] {
        let mut v = full();
        v["section_b"]["urls"] = json!(["https://example.org/ok", bad]);
        assert_eq!(error_fields(&v), ["section_b.urls[1]"], "{bad:?}");
    }
    let mut v = full();
    v["section_b"]["urls"] = json!(["http://e.org/1", "https://e.org/2"]);
    assert_eq!(
        parse(&v).unwrap().urls,
        ["http://e.org/1", "https://e.org/2"]
    );
}

#[test]
fn a_url_given_twice_is_one_case() {
    let mut v = full();
    v["section_b"]["urls"] = json!(["https://e.org/1", "https://e.org/2", "https://e.org/1"]);
    assert_eq!(
        parse(&v).unwrap().urls,
        ["https://e.org/1", "https://e.org/2"]
    );
}

#[test]
fn absent_section_b_content_is_insufficient_and_wrong_types_are_malformed() {
    // Absent or null: Annex III, insufficient information (Art. 3(8)); the order is kept.
    let mut v = full();
    v["section_b"] = json!({"urls": null, "reasons": "   "});
    let o = parse(&v).unwrap();
    assert_eq!(
        missing_fields(&o),
        ["section_b.urls", "section_b.grounds", "section_b.reasons"]
    );
    assert!(o.urls.is_empty() && o.grounds.is_empty() && o.reasons.is_none());
    v.as_object_mut().unwrap().remove("section_b");
    assert_eq!(
        missing_fields(&parse(&v).unwrap()),
        ["section_b.urls", "section_b.grounds", "section_b.reasons"]
    );
    // Empty arrays are as insufficient as absent ones.
    v["section_b"] = json!({"urls": [], "grounds": [], "reasons": "r"});
    assert_eq!(
        missing_fields(&parse(&v).unwrap()),
        ["section_b.urls", "section_b.grounds"]
    );
    // A value of the wrong type is malformed: 422.
    v["section_b"] = json!({"urls": "https://e.org/1", "grounds": "art2_7_a", "reasons": 1,
        "additional_information": ["x"]});
    assert_eq!(
        error_fields(&v),
        [
            "section_b.urls",
            "section_b.grounds",
            "section_b.reasons",
            "section_b.additional_information"
        ]
    );
}

#[test]
fn section_c_and_g_are_optional_but_typed() {
    let mut v = full();
    v["section_c"] = json!({"do_not_inform": null});
    assert!(!parse(&v).unwrap().do_not_inform);
    v["section_c"] = json!({"do_not_inform": false});
    assert!(!parse(&v).unwrap().do_not_inform);
    v["section_c"] = json!({"do_not_inform": true});
    assert!(parse(&v).unwrap().do_not_inform);
    v["section_g"] = json!({"redress": ""});
    assert_eq!(parse(&v).unwrap().redress, None);
    v["section_g"] = json!({"redress": {"body": "court"}});
    assert_eq!(error_fields(&v), ["section_g.redress"]);
}

#[test]
fn annex_ii_text_follows_the_form() {
    let a = parse(&full()).unwrap().section_a;
    let reply = AnnexII {
        authority_reference: "FR-2026-0042".into(),
        provider_reference: "ord-1".into(),
        received_at: datetime!(2026-04-01 10:05 UTC),
        items: vec![
            AnnexIIItem {
                url: "https://example.org/p/1".into(),
                action: "removed".into(),
                time_of_action: datetime!(2026-04-01 10:40:30 UTC),
            },
            AnnexIIItem {
                url: "https://example.org/p/2".into(),
                action: "disabled_in_all_member_states".into(),
                time_of_action: datetime!(2026-04-01 10:50 UTC),
            },
        ],
        provider_name: "Example Ltd".into(),
        signature: "legal-1".into(),
        date: datetime!(2026-04-01 11:00 UTC),
    };
    let expected = "\
ANNEX II - FEEDBACK FOLLOWING REMOVAL OF TERRORIST CONTENT OR DISABLING OF ACCESS THERETO
(Article 3(6) of Regulation (EU) 2021/784)

SECTION A
Addressee of the removal order: Example Ltd
Competent authority that issued the removal order: OCLCTIC (FR)
File reference of the competent authority: FR-2026-0042
File reference of the addressee: ord-1
Time and date of receipt of the removal order: 2026-04-01T10:05:00Z

SECTION B
Measures taken in compliance with the removal order:
- https://example.org/p/1: the terrorist content has been removed; time and date of the measure taken: 2026-04-01T10:40:30Z
- https://example.org/p/2: access to the terrorist content has been disabled in all Member States; time and date of the measure taken: 2026-04-01T10:50:00Z

SECTION C
Name of the hosting service provider: Example Ltd
Member State of main establishment or of the legal representative: IE
Contact point: tco@example.org
Signature: legal-1
Date: 2026-04-01T11:00:00Z
";
    assert_eq!(reply.to_text(&a), expected);
}

fn parse_at(
    v: &Value,
    limits: &OrderLimits,
    received_at: Option<OffsetDateTime>,
) -> Result<RemovalOrder, Vec<FieldError>> {
    parse_order_with(v.to_string().as_bytes(), limits, received_at)
}

fn reasons(r: Result<RemovalOrder, Vec<FieldError>>) -> Vec<(String, String)> {
    r.unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.reason))
        .collect()
}

#[test]
fn no_order_is_issued_before_the_regulation_applies() {
    // Regulation (EU) 2021/784 applies from 7 June 2022 (Art. 24).
    let mut v = full();
    v["section_a"]["issued_at"] = "2022-06-07T00:00:00Z".into();
    assert_eq!(
        parse(&v).unwrap().section_a.issued_at,
        datetime!(2022-06-07 00:00 UTC)
    );
    v["section_a"]["issued_at"] = "2022-06-06T23:59:59Z".into();
    assert_eq!(
        reasons(parse(&v)),
        [(
            "section_a.issued_at".to_string(),
            "before 2022-06-07, when Regulation (EU) 2021/784 began to apply".to_string()
        )]
    );
}

#[test]
fn issued_at_may_be_five_minutes_ahead_of_receipt_and_no_more() {
    let received = datetime!(2026-04-01 10:00 UTC);
    let limits = OrderLimits::default();
    let mut v = full();
    v["section_a"]["issued_at"] = "2026-04-01T10:05:00Z".into();
    assert!(parse_at(&v, &limits, Some(received)).is_ok());
    v["section_a"]["issued_at"] = "2026-04-01T10:05:01Z".into();
    assert_eq!(
        reasons(parse_at(&v, &limits, Some(received))),
        [(
            "section_a.issued_at".to_string(),
            "in the future".to_string()
        )]
    );
    let tolerant = OrderLimits {
        clock_skew: Duration::minutes(10),
        ..OrderLimits::default()
    };
    assert!(parse_at(&v, &tolerant, Some(received)).is_ok());
    // Without a receipt time (parse_order) only the lower bound applies.
    v["section_a"]["issued_at"] = "2030-01-01T00:00:00Z".into();
    assert!(parse(&v).is_ok());
}

#[test]
fn one_order_names_at_most_max_urls() {
    let two = OrderLimits {
        max_urls: 2,
        ..OrderLimits::default()
    };
    let mut v = full();
    v["section_b"]["urls"] = json!(["https://e.org/1", "https://e.org/2"]);
    assert_eq!(parse_at(&v, &two, None).unwrap().urls.len(), 2);
    v["section_b"]["urls"] = json!(["https://e.org/1", "https://e.org/2", "https://e.org/3"]);
    assert_eq!(
        reasons(parse_at(&v, &two, None)),
        [(
            "section_b.urls".to_string(),
            "at most 2 URLs in one order (this one has 3); split it".to_string()
        )]
    );
    assert_eq!(OrderLimits::default().max_urls, 1_000);
}

#[test]
fn field_sizes_include_their_last_character() {
    let mut v = full();
    v["section_a"]["issuing_authority"] = "é".repeat(500).into();
    v["section_b"]["reasons"] = "r".repeat(20_000).into();
    v["section_b"]["additional_information"] = "i".repeat(20_000).into();
    assert!(parse(&v).is_ok());
    v["section_a"]["issuing_authority"] = "é".repeat(501).into();
    v["section_b"]["reasons"] = "r".repeat(20_001).into();
    v["section_g"] = json!({"redress": "g".repeat(20_001)});
    assert_eq!(
        reasons(parse(&v)),
        [
            (
                "section_a.issuing_authority".to_string(),
                "at most 500 characters".to_string()
            ),
            (
                "section_b.reasons".to_string(),
                "at most 20000 characters".to_string()
            ),
            (
                "section_g.redress".to_string(),
                "at most 20000 characters".to_string()
            ),
        ]
    );
}

#[test]
fn a_body_that_is_not_an_object_is_named_as_such() {
    assert_eq!(
        parse_order(b"[1]").unwrap_err(),
        [FieldError::new("$", "the order must be a JSON object")]
    );
    let not_json = parse_order(b"{").unwrap_err();
    assert_eq!(not_json.len(), 1);
    assert_eq!(not_json[0].field, "$");
    assert!(not_json[0].reason.starts_with("not JSON"), "{not_json:?}");
    let twice = br#"{"section_a": {}, "section_a": {}}"#;
    assert_eq!(
        parse_order(twice).unwrap_err(),
        [FieldError::new("section_a", "given twice")]
    );
}

#[test]
fn unknown_keys_are_refused_in_every_section() {
    let mut v = full();
    v["section_d"] = json!({});
    v["section_a"]["colour"] = "red".into();
    v["section_b"]["url"] = "https://e.org/1".into();
    v["section_c"] = json!({"do_not_inform": true, "until": "2026-05-01"});
    v["section_g"] = json!({"court": "x"});
    assert_eq!(
        error_fields(&v),
        [
            "section_d",
            "section_a.colour",
            "section_b.url",
            "section_c.until",
            "section_g.court"
        ]
    );
}
