//! The QA draw and verdicts.

use super::*;

#[test]
fn no_share_draws_nothing_and_a_full_share_everything() {
    for i in 0..200 {
        let id = format!("m-{i}");
        assert!(!sampled(7, &id, 0, 0.0));
        assert!(!sampled(7, &id, 0, -1.0));
        assert!(sampled(7, &id, 0, 1.0));
        assert!(sampled(7, &id, 0, 1.5));
    }
}

#[test]
fn the_draw_is_repeatable_under_a_seed_and_near_its_share() {
    let draws = |seed: u64, share: f64| -> Vec<bool> {
        (0..4000)
            .map(|i| sampled(seed, &format!("m-{i}"), 0, share))
            .collect()
    };
    assert_eq!(draws(42, 0.05), draws(42, 0.05));
    assert_ne!(draws(42, 0.05), draws(43, 0.05));
    // 5% of 4,000 is 200; a binomial's standard deviation there is about 14.
    let n = draws(42, 0.05).iter().filter(|d| **d).count();
    assert!((140..=260).contains(&n), "{n} of 4000 drawn at 5%");
    let half = draws(9, 0.5).iter().filter(|d| **d).count();
    assert!((1850..=2150).contains(&half), "{half} of 4000 drawn at 50%");
    // A larger share draws a superset: the same decision is drawn at 5% and at 50%.
    let (small, large) = (draws(42, 0.05), draws(42, 0.5));
    assert!(small.iter().zip(&large).all(|(s, l)| !*s || *l));
    // The decision number is part of the draw (a case decided again is drawn anew).
    let again: Vec<bool> = (0..4000)
        .map(|i| sampled(42, &format!("m-{i}"), 1, 0.5))
        .collect();
    assert_ne!(again, large);
}

#[test]
fn verdicts_compare_restriction_only() {
    use crate::model::PurposeExemption;
    assert_eq!(Verdict::of(&Outcome::Remove), Some(Verdict::Restrict));
    assert_eq!(
        Verdict::of(&Outcome::Disable {
            territories: vec!["DE".into()]
        }),
        Some(Verdict::Restrict)
    );
    assert_eq!(Verdict::of(&Outcome::Restore), Some(Verdict::Allow));
    assert_eq!(
        Verdict::of(&Outcome::NotTerroristContent {
            exemption: Some(PurposeExemption::Research)
        }),
        Some(Verdict::Allow)
    );
    assert_eq!(Verdict::of(&Outcome::Escalate), None);
    assert_eq!(Verdict::of(&Outcome::ThreatToLife), None);
    for v in [Verdict::Restrict, Verdict::Allow] {
        assert_eq!(Verdict::parse(v.as_str()), Some(v));
    }
    assert_eq!(Verdict::parse("remove"), None);
}

#[test]
fn agreement_rates() {
    let a = |reviewed, agreed| Agreement {
        key: "ana".into(),
        reviewed,
        agreed,
    };
    assert_eq!(a(0, 0).rate(), None);
    assert_eq!(a(0, 0).percent(), "–");
    assert_eq!(a(4, 3).rate(), Some(0.75));
    assert_eq!(a(3, 2).percent(), "66.7%");
    assert_eq!(a(1, 1).percent(), "100.0%");
}
