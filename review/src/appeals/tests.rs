//! Appeal outcomes as decisions, written out by hand.

use super::*;
use crate::model::{Ground, PurposeExemption};
use time::macros::datetime;

fn contested(outcome: Outcome) -> DecisionRecord {
    DecisionRecord {
        input: DecisionInput {
            outcome,
            grounds: vec![Ground::Incitement],
            tos_clauses: vec!["4.2".into()],
            justification: "glorifies an attack".into(),
        },
        decided_by: "ana".into(),
        decided_at: datetime!(2026-05-01 10:00 UTC),
        in_time: true,
        action_id: None,
        automated: false,
    }
}

fn de() -> Vec<String> {
    vec!["DE".into()]
}

#[test]
fn a_reversed_removal_is_restored_and_an_upheld_one_removed_again() {
    let removed = contested(Outcome::Remove);
    let r = decision_for(AppealOutcome::Reverse, &removed, &[], "satire").unwrap();
    assert_eq!(r.outcome, Outcome::Restore);
    assert!(r.grounds.is_empty() && r.tos_clauses.is_empty());
    assert_eq!(r.justification, "satire");
    let u = decision_for(AppealOutcome::Uphold, &removed, &[], "it glorifies").unwrap();
    assert_eq!(u.outcome, Outcome::Remove);
    assert_eq!(u.grounds, vec![Ground::Incitement]);
    assert_eq!(u.tos_clauses, vec!["4.2".to_string()]);
    let p = decision_for(AppealOutcome::PartiallyReverse, &removed, &de(), "news").unwrap();
    assert_eq!(p.outcome, Outcome::Disable { territories: de() });
    assert_eq!(p.grounds, vec![Ground::Incitement]);
}

#[test]
fn a_disabling_can_be_upheld_or_reversed_but_not_partially() {
    let disabled = contested(Outcome::Disable { territories: de() });
    let u = decision_for(AppealOutcome::Uphold, &disabled, &[], "stands").unwrap();
    assert_eq!(u.outcome, Outcome::Disable { territories: de() });
    let r = decision_for(AppealOutcome::Reverse, &disabled, &[], "wrong").unwrap();
    assert_eq!(r.outcome, Outcome::Restore);
    let p = decision_for(AppealOutcome::PartiallyReverse, &disabled, &de(), "x");
    assert!(matches!(
        p,
        Err(DecisionError::Invalid {
            field: "outcome",
            ..
        })
    ));
}

#[test]
fn a_decision_to_leave_content_up_is_upheld_as_it_was() {
    let left = contested(Outcome::NotTerroristContent {
        exemption: Some(PurposeExemption::Journalistic),
    });
    let u = decision_for(AppealOutcome::Uphold, &left, &[], "reporting").unwrap();
    assert_eq!(u.outcome, left.input.outcome);
    assert!(u.grounds.is_empty());
    for o in [AppealOutcome::Reverse, AppealOutcome::PartiallyReverse] {
        let e = decision_for(o, &left, &de(), "x");
        assert!(
            matches!(
                e,
                Err(DecisionError::Invalid {
                    field: "outcome",
                    ..
                })
            ),
            "{o:?}"
        );
    }
}

#[test]
fn reasons_are_required() {
    let removed = contested(Outcome::Remove);
    for o in [
        AppealOutcome::Uphold,
        AppealOutcome::Reverse,
        AppealOutcome::PartiallyReverse,
    ] {
        let e = decision_for(o, &removed, &de(), "  ");
        assert!(
            matches!(
                e,
                Err(DecisionError::Invalid {
                    field: "justification",
                    ..
                })
            ),
            "{o:?}"
        );
    }
}

#[test]
fn outcomes_parse_by_their_form_names() {
    assert_eq!(AppealOutcome::parse("uphold"), Some(AppealOutcome::Uphold));
    assert_eq!(
        AppealOutcome::parse("reverse"),
        Some(AppealOutcome::Reverse)
    );
    assert_eq!(
        AppealOutcome::parse("partially_reverse"),
        Some(AppealOutcome::PartiallyReverse)
    );
    assert_eq!(AppealOutcome::parse("restore"), None);
}
