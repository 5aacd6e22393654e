//! What the engine refuses since the security review: orders that would flood the queue,
//! impossible dates, malformed or ambiguous bodies, unknown territories, and enforcement
//! times that contradict the record. Each refusal names its field.

mod support;

use serde_json::json;
use support::*;
use takedown_local_services::RedisServer;
use takedown_review::au_notice::parse_au_notice;
use takedown_review::intake::parse_notice;
use takedown_review::model::{DecisionInput, Ground, Outcome};
use takedown_review::order::{OrderLimits, parse_order_with};
use takedown_review::store::StoreError;
use time::Duration;
use time::macros::datetime;

fn order(urls: serde_json::Value, issued_at: &str) -> serde_json::Value {
    json!({
        "section_a": {"issuing_member_state": "FR", "issuing_authority": "OCLCTIC",
            "addressee": "Example Ltd", "contact_point": "tco@example.org",
            "member_state_of_establishment": "IE", "issued_at": issued_at,
            "reference": "FR-1"},
        "section_b": {"urls": urls, "grounds": ["art2_7_a"], "reasons": "glorification"}
    })
}

fn fields(r: Result<impl std::fmt::Debug, Vec<takedown_review::field::FieldError>>) -> Vec<String> {
    r.unwrap_err().into_iter().map(|e| e.field).collect()
}

const NOW: time::OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn parse(
    v: &serde_json::Value,
) -> Result<takedown_review::order::RemovalOrder, Vec<takedown_review::field::FieldError>> {
    parse_order_with(v.to_string().as_bytes(), &OrderLimits::default(), Some(NOW))
}

#[test]
fn one_order_names_at_most_the_configured_number_of_urls() {
    let urls: Vec<String> = (0..1_001)
        .map(|i| format!("https://example.org/{i}"))
        .collect();
    assert_eq!(
        fields(parse(&order(json!(urls), "2026-06-01T11:50:00Z"))),
        ["section_b.urls"]
    );
    assert_eq!(
        parse(&order(json!(urls[..1_000]), "2026-06-01T11:50:00Z"))
            .unwrap()
            .urls
            .len(),
        1_000
    );
    let small = OrderLimits {
        max_urls: 2,
        ..OrderLimits::default()
    };
    let three = order(
        json!([
            "https://a.example/",
            "https://b.example/",
            "https://c.example/"
        ]),
        "2026-06-01T11:50:00Z",
    );
    assert_eq!(
        fields(parse_order_with(
            three.to_string().as_bytes(),
            &small,
            Some(NOW)
        )),
        ["section_b.urls"]
    );
}

#[test]
fn issued_at_lies_between_the_regulation_and_now_plus_skew() {
    for bad in [
        "2099-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2022-06-06T23:59:59Z",
        "2026-06-01T12:05:01Z",
    ] {
        assert_eq!(
            fields(parse(&order(json!(["https://example.org/x"]), bad))),
            ["section_a.issued_at"],
            "{bad}"
        );
    }
    for ok in [
        "2022-06-07T00:00:00Z",
        "2026-06-01T12:05:00Z",
        "2026-06-01T11:00:00Z",
    ] {
        assert!(
            parse(&order(json!(["https://example.org/x"]), ok)).is_ok(),
            "{ok}"
        );
    }
}

#[test]
fn order_urls_and_fields_are_checked_and_unknown_or_repeated_fields_refused() {
    let bad_urls = json!([
        "http:///////",
        "https://example.org/<b>x</b>",
        "https://example.org/\u{1}",
        "https://u:p@example.org/"
    ]);
    assert_eq!(
        fields(parse(&order(bad_urls, "2026-06-01T11:50:00Z"))),
        [
            "section_b.urls[0]",
            "section_b.urls[1]",
            "section_b.urls[2]",
            "section_b.urls[3]"
        ]
    );
    let mut long = order(json!(["https://example.org/x"]), "2026-06-01T11:50:00Z");
    long["section_a"]["issuing_authority"] = json!("a".repeat(501));
    long["section_b"]["reasons"] = json!("r".repeat(20_001));
    assert_eq!(
        fields(parse(&long)),
        ["section_a.issuing_authority", "section_b.reasons"]
    );
    let mut unknown = order(json!(["https://example.org/x"]), "2026-06-01T11:50:00Z");
    unknown["section_b"]["url"] = json!("https://example.org/typo");
    unknown["section_z"] = json!({});
    assert_eq!(fields(parse(&unknown)), ["section_z", "section_b.url"]);
    let twice = br#"{"section_a": {}, "section_a": {}}"#;
    assert_eq!(
        fields(parse_order_with(twice, &OrderLimits::default(), Some(NOW))),
        ["section_a"]
    );
    let notice_twice = br#"{"url": "https://example.org/a", "url": "https://example.org/b"}"#;
    assert_eq!(fields(parse_notice(notice_twice)), ["url"]);
}

#[test]
fn an_australian_notice_is_not_given_before_the_act_commenced() {
    let notice = |given: &str| {
        json!({"reference": "ESC-1", "section": "s109", "given_at": given,
            "recipient": "Example Pty Ltd", "urls": ["https://example.org/x"],
            "material": "class 1"})
        .to_string()
    };
    for bad in ["1970-01-01T00:00:00Z", "2022-01-22T23:59:59Z"] {
        let r = parse_au_notice(notice(bad).as_bytes(), NOW);
        assert!(
            r.as_ref()
                .is_err_and(|e| e.iter().any(|f| f.field == "given_at")),
            "{bad}: {r:?}"
        );
    }
    let r = parse_au_notice(notice("2022-01-23T00:00:00Z").as_bytes(), NOW);
    assert!(
        r.as_ref()
            .map_or_else(|e| e.iter().all(|f| f.field != "given_at"), |_| true),
        "{r:?}"
    );
}

#[tokio::test]
async fn disabling_in_unknown_territories_is_refused_naming_the_field() {
    let redis = RedisServer::start().unwrap();
    let (s, _) = store(&redis).await;
    let (c, _) = s
        .ingest_match(&a_match("p1", "m1", "l", "aa", "high"))
        .await
        .unwrap();
    s.claim_next("m", false).await.unwrap();
    for bad in ["XX", "EL", "gr", "UK"] {
        let d = DecisionInput {
            outcome: Outcome::Disable {
                territories: vec!["DE".into(), bad.into()],
            },
            grounds: vec![Ground::Incitement],
            tos_clauses: vec![],
            justification: String::new(),
        };
        match s.decide(&c, "m", &d).await {
            Err(StoreError::Decision(e)) => assert!(e.to_string().contains("territories"), "{e}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let d = DecisionInput {
        outcome: Outcome::Disable {
            territories: vec!["DE".into(), "GR".into(), "EU".into()],
        },
        grounds: vec![Ground::Incitement],
        tos_clauses: vec![],
        justification: String::new(),
    };
    assert!(s.decide(&c, "m", &d).await.unwrap().action.is_some());
}

#[tokio::test]
async fn enforcement_lies_between_the_decision_and_now() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    let (c, _) = s
        .ingest_match(&a_match("p1", "m1", "l", "aa", "high"))
        .await
        .unwrap();
    s.claim_next("m", false).await.unwrap();
    let action = s.decide(&c, "m", &remove()).await.unwrap().action.unwrap();
    clock.advance(Duration::minutes(10));
    let now = clock_now(&s);
    for bad in [
        datetime!(1970-01-01 00:00 UTC),
        action.decided_at - Duration::seconds(1),
        now + Duration::minutes(6),
    ] {
        match s
            .mark_action(&action.action_id, "enforced_at", bad, "platform")
            .await
        {
            Err(StoreError::InvalidField(f)) => assert_eq!(f.field, "enforced_at", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(
        s.mark_action(
            &action.action_id,
            "enforced_at",
            now - Duration::minutes(1),
            "platform"
        )
        .await
        .unwrap()
    );
}
