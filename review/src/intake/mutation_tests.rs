//! Rules of notice and complaint intake that the mutation run (`docs/testing.md`) showed no test
//! pinned: what a valid notice keeps, blank and over-long values, implausible emails and URLs,
//! the six-month complaint window of DSA Art. 20(1) against a decided case, and the ids that
//! make a resent notice the same notice. Expected values are written from docs/review.md.

use super::*;
use crate::model::{DecisionInput, DecisionRecord, Outcome, Source, Subject};
use crate::sla::{SlaClass, SlaConfig};
use serde_json::json;
use time::macros::datetime;

fn good_notice() -> Value {
    json!({"platform": "web", "url": "https://example.org/p/1",
        "explanation": "praises an attack", "good_faith": true,
        "notifier": {"name": "A. Person", "email": "a@example.org"}})
}

fn good_complaint() -> Value {
    json!({"case_id": "m-1", "explanation": "satire",
        "complainant": {"name": "B. Person", "email": "b@example.org"}})
}

fn notice(v: &Value) -> Result<Notice, Vec<FieldError>> {
    parse_notice(v.to_string().as_bytes())
}

fn complaint(v: &Value) -> Result<Complaint, Vec<FieldError>> {
    parse_complaint(v.to_string().as_bytes())
}

fn errors(r: Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<(String, String)> {
    r.unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.reason))
        .collect()
}

fn fields(r: Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<String> {
    errors(r).into_iter().map(|(f, _)| f).collect()
}

#[test]
fn a_valid_notice_keeps_what_was_sent_trimmed() {
    let mut v = good_notice();
    v["platform"] = " web ".into();
    v["reference"] = " N-1 ".into();
    v["post_id"] = "p1".into();
    v["media_id"] = "m1".into();
    v["trusted_flagger"] = false.into();
    v["flagger_id"] = "ngo-1".into();
    assert_eq!(
        notice(&v).unwrap(),
        Notice {
            reference: Some("N-1".into()),
            platform: "web".into(),
            url: "https://example.org/p/1".into(),
            post_id: Some("p1".into()),
            media_id: Some("m1".into()),
            explanation: "praises an attack".into(),
            notifier: Contact {
                name: "A. Person".into(),
                email: "a@example.org".into()
            },
            flagger_id: Some("ngo-1".into()),
            trusted_flagger: false,
        }
    );
}

#[test]
fn a_valid_complaint_keeps_what_was_sent() {
    let c = complaint(&good_complaint()).unwrap();
    assert_eq!(
        c,
        Complaint {
            reference: None,
            case_id: "m-1".into(),
            explanation: "satire".into(),
            complainant: Contact {
                name: "B. Person".into(),
                email: "b@example.org".into()
            },
        }
    );
}

#[test]
fn absent_required_fields_are_required_and_blank_ones_are_not_strings() {
    let mut v = good_notice();
    v.as_object_mut().unwrap().remove("platform");
    v["explanation"] = "   ".into();
    v["url"] = Value::Null;
    assert_eq!(
        errors(notice(&v)),
        [
            ("platform".to_string(), "required".to_string()),
            ("url".to_string(), "required".to_string()),
            (
                "explanation".to_string(),
                "must be a non-empty string".to_string()
            ),
        ],
        "an absent URL is one error, not also a malformed one"
    );
    let mut c = good_complaint();
    c["complainant"] = json!({"name": "B"});
    assert_eq!(
        errors(complaint(&c)),
        [("complainant.email".to_string(), "required".to_string())],
        "an absent email is one error, not also an implausible one"
    );
    c["complainant"] = json!("B <b@example.org>");
    assert_eq!(fields(complaint(&c)), ["complainant"]);
}

#[test]
fn length_limits_include_their_last_character() {
    // platform and case_id at most 200, explanation 5000, name 200, email 254; optional
    // strings (reference, post_id, media_id) 500.
    let mut v = good_notice();
    v["platform"] = "p".repeat(200).into();
    v["explanation"] = "e".repeat(5000).into();
    v["reference"] = "r".repeat(500).into();
    v["post_id"] = "q".repeat(500).into();
    v["notifier"]["name"] = "n".repeat(200).into();
    v["notifier"]["email"] = format!("{}@example.org", "u".repeat(254 - 12)).into();
    assert!(notice(&v).is_ok(), "{:?}", notice(&v).err());
    v["platform"] = "p".repeat(201).into();
    v["explanation"] = "e".repeat(5001).into();
    v["reference"] = "r".repeat(501).into();
    v["post_id"] = "q".repeat(501).into();
    v["notifier"]["name"] = "n".repeat(201).into();
    v["notifier"]["email"] = format!("{}@example.org", "u".repeat(255 - 12)).into();
    assert_eq!(
        fields(notice(&v)),
        [
            "platform",
            "explanation",
            "notifier.name",
            "notifier.email",
            "reference",
            "post_id"
        ]
    );
}

#[test]
fn length_limits_count_characters_not_bytes() {
    // "é" is two bytes in UTF-8: 500 of them are 1,000 bytes but 500 characters.
    let mut v = good_notice();
    v["reference"] = "é".repeat(500).into();
    v["explanation"] = "é".repeat(5000).into();
    assert!(notice(&v).is_ok(), "{:?}", notice(&v).err());
    v["reference"] = "é".repeat(501).into();
    assert_eq!(fields(notice(&v)), ["reference"]);
}

#[test]
fn blank_optional_strings_are_absent_and_other_types_refused() {
    let mut v = good_notice();
    v["reference"] = "   ".into();
    v["media_id"] = "".into();
    let n = notice(&v).unwrap();
    assert_eq!((n.reference, n.media_id), (None, None));
    v["post_id"] = json!(17);
    assert_eq!(
        errors(notice(&v)),
        [("post_id".to_string(), "must be a string".to_string())]
    );
}

#[test]
fn emails_need_a_user_and_a_dotted_host() {
    for bad in [
        "@example.org",
        "a@localhost",
        "a b@example.org",
        "example.org",
    ] {
        let mut v = good_notice();
        v["notifier"]["email"] = bad.into();
        assert_eq!(fields(notice(&v)), ["notifier.email"], "{bad:?}");
    }
}

#[test]
fn notice_urls_must_be_absolute_http_urls_without_blanks() {
    for bad in [
        "https://",
        "http://",
        "ftp://example.org/p/1",
        "https://example.org/p 1",
    ] {
        let mut v = good_notice();
        v["url"] = bad.into();
        assert_eq!(fields(notice(&v)), ["url"], "{bad:?}");
    }
    let mut v = good_notice();
    v["url"] = "http://e.org/1".into();
    assert_eq!(notice(&v).unwrap().url, "http://e.org/1");
}

#[test]
fn only_good_faith_true_confirms_a_notice() {
    for not_true in [json!(false), json!("true"), Value::Null] {
        let mut v = good_notice();
        v["good_faith"] = not_true;
        assert_eq!(fields(notice(&v)), ["good_faith"]);
    }
}

fn decided(outcome: Outcome, state: CaseState, decided_at: OffsetDateTime) -> Case {
    Case {
        id: "m-1".into(),
        subject: Subject {
            platform: "web".into(),
            post_id: Some("p".into()),
            media_id: None,
            url: None,
            language: None,
        },
        sources: vec![Source::HashMatch],
        state,
        rank: 4,
        senior_only: false,
        threat_to_life: false,
        sla: SlaConfig::default()
            .start(SlaClass::HashMatch, decided_at)
            .unwrap(),
        embargo: None,
        decision: Some(DecisionRecord {
            input: DecisionInput {
                outcome,
                grounds: vec![],
                tos_clauses: vec![],
                justification: String::new(),
            },
            decided_by: "mod".into(),
            decided_at,
            in_time: true,
            action_id: None,
            automated: false,
        }),
        history: vec![],
        preservation: None,
        evidence_holds: Vec::new(),
        created_at: decided_at,
        first_claimed_at: None,
    }
}

#[test]
fn complaints_are_possible_for_six_months_after_a_final_decision() {
    let at = datetime!(2026-08-31 12:00 UTC);
    let case = decided(Outcome::Remove, CaseState::Decided, at);
    assert_eq!(check_contested(&case, at), Ok(()));
    assert_eq!(
        check_contested(&case, datetime!(2027-02-28 11:59 UTC)),
        Ok(())
    );
    let late = check_contested(&case, datetime!(2027-02-28 12:00 UTC)).unwrap_err();
    assert_eq!(late.field, "case_id");
    assert!(late.reason.contains("six months"), "{}", late.reason);
    // A purged case's decision can still be contested.
    let purged = decided(Outcome::Remove, CaseState::Purged, at);
    assert_eq!(check_contested(&purged, at), Ok(()));
}

#[test]
fn no_complaint_against_an_undecided_case() {
    let at = datetime!(2026-06-01 12:00 UTC);
    let mut open = decided(Outcome::Remove, CaseState::Open, at);
    open.decision = None;
    assert_eq!(check_contested(&open, at).unwrap_err().field, "case_id");
    // Escalated or threat-to-life: the content decision is still to come.
    for outcome in [Outcome::Escalate, Outcome::ThreatToLife] {
        let case = decided(outcome, CaseState::Open, at);
        assert!(check_contested(&case, at).is_err());
    }
    let suspended = decided(Outcome::Remove, CaseState::Suspended, at);
    assert!(check_contested(&suspended, at).is_err());
    let escalated_decided = decided(Outcome::Escalate, CaseState::Decided, at);
    assert!(check_contested(&escalated_decided, at).is_err());
}

#[test]
fn the_same_notice_resent_has_the_same_id_and_another_notice_another() {
    let n = notice(&good_notice()).unwrap();
    let id = notice_id("ngo", &n);
    assert!(id.starts_with("nt-") && id.len() > 3, "{id}");
    assert_eq!(id, notice_id("ngo", &n.clone()));
    assert_ne!(id, notice_id("other-account", &n));
    let other_url = Notice {
        url: "https://example.org/p/2".into(),
        ..n.clone()
    };
    assert_ne!(id, notice_id("ngo", &other_url));
    let with_ref = Notice {
        reference: Some("N-1".into()),
        ..n.clone()
    };
    let edited = Notice {
        explanation: "reworded".into(),
        ..with_ref.clone()
    };
    assert_eq!(
        notice_id("ngo", &with_ref),
        notice_id("ngo", &edited),
        "the reference decides when given"
    );
    assert_ne!(notice_id("ngo", &with_ref), id);

    let c = complaint(&good_complaint()).unwrap();
    let cid = complaint_id("legal", &c);
    assert!(cid.starts_with("k-") && cid.len() > 2, "{cid}");
    assert_ne!(
        cid,
        complaint_id(
            "legal",
            &Complaint {
                case_id: "m-2".into(),
                ..c.clone()
            }
        )
    );
    assert_ne!(cid, complaint_id("admin", &c));
}
