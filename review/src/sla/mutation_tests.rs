//! Rules of the legal clocks that the mutation run (`docs/testing.md`) showed no test pinned:
//! the class names config and Redis use, the units and bounds of a configured duration, and the
//! breach at the deadline's exact second. Expected values are written from the docs and the law.

use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

#[test]
fn every_class_has_its_config_and_redis_name() {
    // The names of `--sla` files and of `queue`/`deadlines` members (docs/review.md).
    let names = [
        (SlaClass::RemovalOrder, "removal_order"),
        (SlaClass::TrustedNotice, "trusted_notice"),
        (SlaClass::Notice, "notice"),
        (SlaClass::HashMatch, "hash_match"),
        (SlaClass::Complaint, "complaint"),
        (SlaClass::AuRemovalNotice, "au_removal_notice"),
        (SlaClass::NetzdgManifest, "netzdg_manifest"),
        (SlaClass::NetzdgOther, "netzdg_other"),
    ];
    for (class, name) in names {
        assert_eq!(class.as_str(), name);
        assert_eq!(class.to_string(), name);
        // A profile file names classes the way the JSON of cases does.
        assert_eq!(
            serde_json::to_string(&class).unwrap(),
            format!("\"{name}\"")
        );
    }
    assert_eq!(
        SlaError::Disabled(SlaClass::NetzdgOther).to_string(),
        "the SLA profile netzdg_other is disabled"
    );
}

#[test]
fn spans_take_every_documented_unit() {
    let span = |s: &str| s.parse::<Span>().map(|s| s.0);
    assert_eq!(span("30s"), Ok(Duration::seconds(30)));
    assert_eq!(span("45m"), Ok(Duration::minutes(45)));
    assert_eq!(span("24h"), Ok(Duration::hours(24)));
    assert_eq!(span("14d"), Ok(Duration::days(14)));
    assert_eq!(span("6w"), Ok(Duration::days(42)));
    assert_eq!(
        span(" 1h "),
        Ok(Duration::hours(1)),
        "surrounding blanks are ignored"
    );
    assert_eq!(
        span("0s"),
        Ok(Duration::ZERO),
        "zero is a length, not an error"
    );
    for bad in ["-1h", "h", "1.5h", "1y", "1", "1 h", "1é"] {
        assert_eq!(
            span(bad),
            Err(SlaError::InvalidSpan(bad.to_string())),
            "{bad:?} must be refused"
        );
    }
}

#[test]
fn spans_are_written_in_their_largest_whole_unit() {
    let text = |d: Duration| Span(d).to_string();
    assert_eq!(text(Duration::ZERO), "0s");
    assert_eq!(text(Duration::seconds(45)), "45s");
    assert_eq!(text(Duration::seconds(90)), "90s");
    assert_eq!(text(Duration::minutes(1)), "1m");
    assert_eq!(text(Duration::hours(1)), "1h");
    assert_eq!(text(Duration::hours(36)), "36h");
    assert_eq!(text(Duration::days(1)), "1d");
    assert_eq!(text(Duration::days(15)), "15d");
    assert_eq!(text(Duration::weeks(6)), "6w");
    assert_eq!(
        serde_json::to_string(&Span(Duration::days(7))).unwrap(),
        "\"1w\""
    );
    assert_eq!(
        serde_json::from_str::<Span>("\"48h\"").unwrap(),
        Span(Duration::hours(48))
    );
    assert!(serde_json::from_str::<Span>("\"48\"").is_err());
}

#[test]
fn an_open_case_at_the_deadlines_exact_second_is_a_breach() {
    // docs/review.md: "the breach event fires at that second if the case is still open",
    // while a decision at that second is still in time.
    let timer = SlaConfig::default()
        .start(SlaClass::RemovalOrder, T0)
        .unwrap();
    let due = T0 + Duration::hours(1);
    assert_eq!(
        timer.status(due),
        SlaStatus::Breached { overdue_seconds: 0 }
    );
    assert!(timer.in_time(due));
    assert_eq!(
        timer.status(T0),
        SlaStatus::Running {
            remaining_seconds: 3600
        }
    );
}

#[test]
fn a_suspended_clock_has_no_deadline_and_decisions_are_not_in_time() {
    let mut timer = SlaConfig::default()
        .start(SlaClass::RemovalOrder, T0)
        .unwrap();
    timer.suspend(T0 + Duration::minutes(10)).unwrap();
    assert_eq!(timer.due_at(), None);
    assert_eq!(timer.suspended_at, Some(T0 + Duration::minutes(10)));
    assert!(!timer.in_time(T0 + Duration::minutes(11)));
    let events = timer.restart(T0 + Duration::hours(2)).unwrap();
    assert_eq!(timer.suspended_at, None);
    assert_eq!(
        events,
        vec![
            DeadlineEvent {
                kind: DeadlineKind::Escalation(1),
                at: T0 + Duration::hours(2) + Duration::minutes(45),
                run: 1
            },
            DeadlineEvent {
                kind: DeadlineKind::Escalation(2),
                at: T0 + Duration::hours(2) + Duration::minutes(55),
                run: 1
            },
            DeadlineEvent {
                kind: DeadlineKind::Breach,
                at: T0 + Duration::hours(3),
                run: 1
            },
        ]
    );
}

#[test]
fn configured_periods_and_escalations_survive_a_round_trip() {
    let json = r#"{"complaint":{"enabled":true,"due_after":"7d","escalate_after":["5d","6d"]}}"#;
    let sla: SlaConfig = serde_json::from_str(json).unwrap();
    let sla = sla.validated().unwrap();
    let timer = sla.start(SlaClass::Complaint, T0).unwrap();
    let back: SlaTimer = serde_json::from_str(&serde_json::to_string(&timer).unwrap()).unwrap();
    assert_eq!(back.period, Duration::days(7));
    assert_eq!(back.escalations, vec![Duration::days(5), Duration::days(6)]);
    assert_eq!(back.due_at(), Some(T0 + Duration::days(7)));
    let written = serde_json::to_value(&sla.profiles[&SlaClass::Complaint]).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"enabled": true, "due_after": "1w", "escalate_after": ["5d", "6d"]})
    );
}
