//! Rules of Australian removal-notice intake that the mutation run (`docs/testing.md`) showed no
//! test pinned: what a valid notice keeps, why each kind of wrong value is refused, the
//! five-minute allowance for clock skew on `given_at`, and the limits on URLs and the allowed
//! period. Expected values are written from the Online Safety Act 2021 s109/s110 and
//! docs/review.md.

use super::*;
use serde_json::json;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn good() -> Value {
    json!({"reference": "ESC-RN-7", "section": "s110", "given_at": "2026-06-01T09:30:00+10:00",
        "recipient": "Example Hosting Pty Ltd", "urls": ["https://h.example/a"]})
}

fn parse(v: &Value) -> Result<AuRemovalNotice, Vec<FieldError>> {
    parse_au_notice(v.to_string().as_bytes(), NOW)
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

fn pair(field: &str, reason: &str) -> (String, String) {
    (field.to_string(), reason.to_string())
}

#[test]
fn a_valid_notice_keeps_every_field_as_sent() {
    let mut v = good();
    v["reference"] = " ESC-RN-7 ".into();
    v["service"] = "Example Video".into();
    v["description"] = "beheading video".into();
    v["allowed_period_hours"] = 48.into();
    assert_eq!(
        parse(&v).unwrap(),
        AuRemovalNotice {
            reference: "ESC-RN-7".into(),
            section: AuSection::S110,
            given_at: datetime!(2026-05-31 23:30 UTC),
            recipient: "Example Hosting Pty Ltd".into(),
            service: Some("Example Video".into()),
            urls: vec!["https://h.example/a".into()],
            allowed_period_hours: Some(48),
            description: Some("beheading video".into()),
        }
    );
    let plain = parse(&good()).unwrap();
    assert_eq!((plain.service, plain.description), (None, None));
    assert_eq!(plain.allowed_period_hours, None);
}

#[test]
fn the_clock_starts_when_the_notice_was_given_and_runs_the_longer_period() {
    let n = parse(&good()).unwrap();
    // Given at 23:30 UTC the day before our receipt: 24 hours from then, not from receipt.
    assert_eq!(n.clock_start(NOW), datetime!(2026-05-31 23:30 UTC));
    // Received before the stated time (a clock skew within the allowance): from receipt.
    assert_eq!(
        n.clock_start(datetime!(2026-05-31 23:28 UTC)),
        datetime!(2026-05-31 23:28 UTC)
    );
    let mut v = good();
    v["allowed_period_hours"] = 24.into();
    assert_eq!(
        parse(&v).unwrap().period(Duration::hours(36)),
        Duration::hours(36),
        "a profile longer than what the notice allows wins"
    );
}

#[test]
fn each_wrong_value_is_named_with_why() {
    assert_eq!(
        errors(&json!({})),
        [
            pair("reference", "required"),
            pair("section", "required: s109 or s110"),
            pair("given_at", "required"),
            pair("recipient", "required"),
            pair("urls", "required: the material's URLs"),
        ]
    );
    let v = json!({"reference": "   ", "section": "s111", "given_at": 20260601,
        "recipient": ["Host"], "urls": []});
    assert_eq!(
        errors(&v),
        [
            pair("reference", "must be a non-empty string"),
            pair("section", "s109 or s110"),
            pair("given_at", "must be a non-empty string"),
            pair("recipient", "must be a non-empty string"),
            pair("urls", "a non-empty array of URLs"),
        ]
    );
}

#[test]
fn one_wrong_field_refuses_the_notice() {
    let mut v = good();
    v.as_object_mut().unwrap().remove("recipient");
    assert_eq!(fields(&v), ["recipient"]);
    let mut v = good();
    v["service"] = json!(3);
    assert_eq!(fields(&v), ["service"]);
}

#[test]
fn given_at_may_be_at_most_five_minutes_ahead_of_our_clock() {
    let mut v = good();
    v["given_at"] = "2026-06-01T12:05:00Z".into();
    assert_eq!(parse(&v).unwrap().given_at, datetime!(2026-06-01 12:05 UTC));
    v["given_at"] = "2026-06-01T12:05:01Z".into();
    assert_eq!(errors(&v), [pair("given_at", "in the future")]);
    v["given_at"] = "2026-06-01T11:59:59Z".into();
    assert!(parse(&v).is_ok());
    v["given_at"] = "1 June 2026".into();
    assert_eq!(errors(&v), [pair("given_at", "RFC 3339 date and time")]);
}

#[test]
fn text_limits_include_their_last_character() {
    let mut v = good();
    v["reference"] = "r".repeat(200).into();
    v["recipient"] = "é".repeat(200).into();
    v["service"] = "s".repeat(200).into();
    v["description"] = "d".repeat(5000).into();
    assert!(parse(&v).is_ok(), "{:?}", parse(&v).err());
    v["reference"] = "r".repeat(201).into();
    v["recipient"] = "é".repeat(201).into();
    v["service"] = "s".repeat(201).into();
    v["description"] = "d".repeat(5001).into();
    assert_eq!(
        fields(&v),
        ["reference", "recipient", "service", "description"]
    );
}

#[test]
fn blank_optional_texts_are_absent() {
    let mut v = good();
    v["service"] = "  ".into();
    v["description"] = "".into();
    let n = parse(&v).unwrap();
    assert_eq!((n.service, n.description), (None, None));
}

#[test]
fn urls_are_absolute_http_urls_of_at_most_2000_bytes() {
    for bad in [
        "https://",
        "ftp://example.org/a",
        "https://example.org/a b",
        "example.org/a",
    ] {
        let mut v = good();
        v["urls"] = json!(["https://h.example/ok", bad]);
        assert_eq!(fields(&v), ["urls[1]"], "{bad:?}");
    }
    let longest = format!("https://h.example/{}", "a".repeat(2000 - 18));
    let mut v = good();
    v["urls"] = json!([longest, "http://e.org/1"]);
    assert_eq!(parse(&v).unwrap().urls.len(), 2);
    v["urls"] = json!([format!("{longest}a")]);
    assert_eq!(fields(&v), ["urls[0]"]);
}

#[test]
fn the_allowed_period_is_whole_hours_from_24_to_a_year() {
    for ok in [24, 8760] {
        let mut v = good();
        v["allowed_period_hours"] = ok.into();
        assert_eq!(parse(&v).unwrap().allowed_period_hours, Some(ok));
    }
    for bad in [json!(23), json!(8761), json!(36.5), json!("48"), json!(-24)] {
        let mut v = good();
        v["allowed_period_hours"] = bad.clone();
        assert_eq!(fields(&v), ["allowed_period_hours"], "{bad}");
    }
}

#[test]
fn no_notice_is_given_before_the_online_safety_act_commenced() {
    // The Online Safety Act 2021 (Cth) commenced on 23 January 2022.
    let mut v = good();
    v["given_at"] = "2022-01-23T00:00:00Z".into();
    assert_eq!(parse(&v).unwrap().given_at, datetime!(2022-01-23 00:00 UTC));
    v["given_at"] = "2022-01-22T23:59:59Z".into();
    assert_eq!(
        errors(&v),
        [pair(
            "given_at",
            "before 2022-01-23, when the Online Safety Act 2021 commenced"
        )]
    );
}
