//! A scenario of every source fed straight to [`DsaFigures::add`], with each figure computed
//! by hand below (written against the cargo-mutants run, docs/testing.md): orders from two
//! Member States, notices with and without trusted flaggers, own-initiative matches on legal
//! grounds and on terms only, complaints of every type and outcome, and the automated systems'
//! confusion matrices against the reviewers' decisions.

use super::*;
use crate::event::{CaseOpened, OrderReceived};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-01 00:00 UTC);
const TERROR: &str = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY";
const VIOLENCE: &str = "STATEMENT_CATEGORY_VIOLENCE";

fn mapping() -> Mapping {
    let mut m = Mapping::default();
    m.labels.insert(
        "violence".into(),
        CategoryRef {
            category: VIOLENCE.into(),
            keywords: vec!["KEYWORD_INCITEMENT_VIOLENCE_HATRED".into()],
        },
    );
    m
}

fn order(id: &str, state: &str, items: u32, ack_min: i64) -> Event {
    Event::OrderReceived(OrderReceived {
        order_id: id.into(),
        at: T0,
        acknowledged_at: T0 + Duration::minutes(ack_min),
        issuing_state: state.into(),
        items,
    })
}

fn opened(case: &str, source: SourceKind, labels: &[&str]) -> CaseOpened {
    CaseOpened {
        case_id: case.into(),
        at: T0,
        source,
        labels: labels.iter().map(|s| s.to_string()).collect(),
        signals: vec![],
        media: false,
        contested: None,
        contested_source: None,
    }
}

fn complaint_opened(case: &str, contested: Effect, of: SourceKind) -> Event {
    Event::CaseOpened(CaseOpened {
        contested: Some(contested),
        contested_source: Some(of),
        ..opened(case, SourceKind::Complaint, &[])
    })
}

/// A decision taken `took_min` minutes after receipt, on legal grounds unless `tos_only`.
fn decided(case: &str, source: SourceKind, effect: Effect, took_min: i64) -> Decision {
    Decision {
        case_id: case.into(),
        seq: 0,
        at: T0 + Duration::minutes(took_min),
        received_at: T0,
        due_at: None,
        in_time: true,
        source,
        issuing_state: None,
        effect,
        territories: vec![],
        legal_grounds: vec!["art2_7_a".into()],
        tos: false,
        labels: vec![],
        signals: vec![],
        media: false,
        automated_decision: false,
        contested: None,
        contested_source: None,
    }
}

fn signals(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn scenario() -> DsaFigures {
    use Effect::*;
    use SourceKind::*;
    let mut events = vec![
        // Orders: DE 2 items acknowledged after 30 min, DE 1 item after 15, FR 3 items after 60.
        order("o1", "DE", 2, 30),
        order("o2", "DE", 1, 15),
        order("o3", "FR", 3, 60),
        Event::Decision(Decision {
            issuing_state: Some("DE".into()),
            ..decided("d1", RemovalOrder, Removed, 45)
        }),
        Event::Decision(Decision {
            issuing_state: Some("DE".into()),
            ..decided("d2", RemovalOrder, NoAction, 50)
        }),
        Event::Decision(Decision {
            issuing_state: Some("FR".into()),
            ..decided("d3", RemovalOrder, Disabled, 120)
        }),
        // A reinstatement after an order: no effect time, not scored.
        Event::Decision(Decision {
            issuing_state: Some("DE".into()),
            ..decided("d4", RemovalOrder, Restored, 600)
        }),
        // Notices: one plain (violence), two from trusted flaggers (terrorist, violence).
        Event::CaseOpened(opened("n1", Notice, &["violence"])),
        Event::CaseOpened(opened("n2", TrustedNotice, &[])),
        Event::CaseOpened(opened("n3", TrustedNotice, &["violence"])),
        Event::Decision(Decision {
            labels: signals(&["violence"]),
            ..decided("n1", Notice, Removed, 180)
        }),
        Event::Decision(Decision {
            legal_grounds: vec![],
            tos: true,
            automated_decision: true,
            ..decided("n2", TrustedNotice, Disabled, 90)
        }),
        Event::Decision(Decision {
            labels: signals(&["violence"]),
            ..decided("n3", TrustedNotice, NoAction, 600)
        }),
        // Own initiative: a case opened by a match counts nowhere by itself.
        Event::CaseOpened(opened("h1", HashMatch, &[])),
        Event::Decision(Decision {
            signals: signals(&["pdq", "md5"]),
            automated_decision: true,
            ..decided("h1", HashMatch, Removed, 5)
        }),
        Event::Decision(Decision {
            signals: signals(&["text_regex"]),
            labels: signals(&["violence"]),
            legal_grounds: vec![],
            tos: true,
            ..decided("h2", HashMatch, Disabled, 20)
        }),
        Event::Decision(Decision {
            signals: signals(&["pdq"]),
            ..decided("h3", HashMatch, NoAction, 30)
        }),
        // Own initiative without automated detection (a moderator's own find).
        decided_event("h4", HashMatch, Removed, 40),
        // A referral that is not an order, found by SHA-256.
        Event::Decision(Decision {
            signals: signals(&["sha256"]),
            ..decided("x1", OtherNotification, Removed, 60)
        }),
        // Complaints: opened against a removal, no action on a notice, on a trusted notice,
        // and on a match (no Part 7 type).
        complaint_opened("c1", Removed, HashMatch),
        complaint_opened("c2", NoAction, Notice),
        complaint_opened("c3", NoAction, TrustedNotice),
        complaint_opened("c4", NoAction, HashMatch),
    ];
    let complaint = |case: &str, contested: Option<(Effect, SourceKind)>, effect, took| {
        Event::Decision(Decision {
            contested: contested.map(|c| c.0),
            contested_source: contested.map(|c| c.1),
            ..decided(case, Complaint, effect, took)
        })
    };
    events.extend([
        // Removal reinstated after 24 h: reversed.
        complaint("c1", Some((Removed, HashMatch)), Restored, 24 * 60),
        // No action on a notice, then removed after 48 h: reversed, newly imposed.
        complaint("c2", Some((NoAction, Notice)), Removed, 48 * 60),
        // No action on a trusted notice kept after 12 h: upheld.
        complaint("c3", Some((NoAction, TrustedNotice)), NoAction, 12 * 60),
        // A removal made a disabling after 6 h: partially reversed.
        complaint("c5", Some((Removed, RemovalOrder)), Disabled, 6 * 60),
        // Nothing recorded about the contested decision, removed after 2 h: reversed, newly
        // imposed, no type.
        complaint("c6", None, Removed, 2 * 60),
    ]);
    let m = mapping();
    let mut f = DsaFigures::default();
    for e in &events {
        f.add(&m, e);
    }
    f
}

fn decided_event(case: &str, source: SourceKind, effect: Effect, took_min: i64) -> Event {
    Event::Decision(decided(case, source, effect, took_min))
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

#[test]
fn categories_are_indexed_in_order_of_appearance_and_rows_select_them() {
    let f = scenario();
    let names: Vec<_> = f.cats.iter().map(|c| c.category.as_str()).collect();
    assert_eq!(names, [TERROR, VIOLENCE]);
    assert_eq!(f.row_cats("", "TOTAL"), [0, 1]);
    assert_eq!(f.row_cats("", VIOLENCE), [1]);
    assert_eq!(f.row_cats(TERROR, TERROR), [0]);
    assert_eq!(f.row_cats(TERROR, "KEYWORD_TERRORIST_CONTENT"), [0]);
    assert_eq!(
        f.row_cats(VIOLENCE, "KEYWORD_INCITEMENT_VIOLENCE_HATRED"),
        [1]
    );
    // A keyword row counts only the current category's cases carrying it.
    assert!(f.row_cats(VIOLENCE, "KEYWORD_TERRORIST_CONTENT").is_empty());
    assert!(
        f.row_cats(TERROR, "KEYWORD_INCITEMENT_VIOLENCE_HATRED")
            .is_empty()
    );
    assert!(
        f.row_cats(TERROR, "STATEMENT_CATEGORY_SELF_HARM")
            .is_empty()
    );
}

#[test]
fn part_3_orders_per_issuing_state() {
    let f = scenario();
    let all = f.orders_for(&[0, 1], None);
    assert_eq!((all.orders, all.items), (3, 6));
    assert_eq!(sorted(all.ack), [0.25, 0.5, 1.0]);
    // Effect given: d1 after 45 min, d3 after 2 h; no action and reinstatement do not count.
    assert_eq!(sorted(all.effect), [0.75, 2.0]);
    let de = f.orders_for(&[0], Some("DE"));
    assert_eq!((de.orders, de.items), (2, 3));
    assert_eq!(sorted(de.ack), [0.25, 0.5]);
    assert_eq!(de.effect, [0.75]);
    let fr = f.orders_for(&[0], Some("FR"));
    assert_eq!(
        (fr.orders, fr.items, fr.ack, fr.effect),
        (1, 3, vec![1.0], vec![2.0])
    );
    // Orders are terrorist content: nothing under the violence category.
    assert_eq!(f.orders_for(&[1], None), OrderAcc::default());
    assert_eq!(f.orders_for(&[0], Some("IT")), OrderAcc::default());
}

#[test]
fn part_4_notices_all_and_trusted() {
    let f = scenario();
    let violence = f.notices_for(&[1]);
    assert_eq!((violence.notices, violence.items), ([2, 1], [2, 1]));
    assert_eq!(sorted(violence.time[0].clone()), [3.0, 10.0]);
    assert_eq!(violence.time[1], [10.0]);
    assert_eq!((violence.law, violence.tos), ([1, 0], [0, 0]));
    let terror = f.notices_for(&[0]);
    assert_eq!((terror.notices, terror.items), ([1, 1], [1, 1]));
    assert_eq!(
        (terror.time[0].clone(), terror.time[1].clone()),
        (vec![1.5], vec![1.5])
    );
    assert_eq!((terror.law, terror.tos), ([0, 0], [1, 1]));
    let total = f.notices_for(&[0, 1]);
    assert_eq!((total.notices, total.items), ([3, 2], [3, 2]));
    assert_eq!(sorted(total.time[0].clone()), [1.5, 3.0, 10.0]);
    assert_eq!(sorted(total.time[1].clone()), [1.5, 10.0]);
    assert_eq!((total.law, total.tos), ([1, 0], [1, 1]));
    // Notices are decided by people; n2's decision was automated.
    let nam = |a: &AutoAcc| (a.solely, a.not_automated, a.tp + a.fp + a.fn_ + a.tn);
    assert_eq!(nam(&f.nam[0]), (1, 2, 0));
    assert_eq!(nam(&f.nam[1]), (1, 1, 0));
}

#[test]
fn parts_5_and_6_own_initiative_on_law_and_on_terms() {
    let f = scenario();
    let own = |measures, automated, removal, disable| OwnAcc {
        measures,
        automated,
        removal,
        disable,
    };
    // h1 (PDQ + MD5) and h4 (no automated detection), both removed on legal grounds.
    assert_eq!(f.own_for(true, &[0]), own(2, 1, 2, 0));
    assert_eq!(f.own_for(true, &[0, 1]), own(2, 1, 2, 0));
    // h2 (text rules) disabled on the terms only, labelled violence.
    assert_eq!(f.own_for(false, &[1]), own(1, 1, 0, 1));
    assert_eq!(f.own_for(false, &[0, 1]), own(1, 1, 0, 1));
    assert_eq!(f.own_for(true, &[1]), OwnAcc::default());
    assert_eq!(f.own_for(false, &[0]), OwnAcc::default());
}

#[test]
fn part_7_complaints_by_outcome_and_type() {
    let f = scenario();
    // c1..c4 opened; c5 and c6 were opened before the period.
    assert_eq!(f.complaints.received, 4);
    // Upheld c3; partially reversed c5; reversed c1, c2, c6.
    assert_eq!(f.complaints.outcomes, [1, 1, 3]);
    assert_eq!(
        sorted(f.complaints.time.clone()),
        [2.0, 6.0, 12.0, 24.0, 48.0]
    );
    let [restriction, notice, trusted] = &f.complaint_types;
    assert_eq!((restriction.received, restriction.outcomes), (1, [0, 1, 1]));
    assert_eq!(sorted(restriction.time.clone()), [6.0, 24.0]);
    assert_eq!(
        (notice.received, notice.outcomes, notice.time.clone()),
        (1, [0, 0, 1], vec![48.0])
    );
    assert_eq!(
        (trusted.received, trusted.outcomes, trusted.time.clone()),
        (1, [1, 0, 0], vec![12.0])
    );
    // c2 and c6 restricted what had not been restricted.
    assert_eq!(f.newly_imposed, 2);
}

/// (solely, not automated, tp, fp, fn, tn)
fn matrix(a: &AutoAcc) -> (u64, u64, u64, u64, u64, u64) {
    (a.solely, a.not_automated, a.tp, a.fp, a.fn_, a.tn)
}

#[test]
fn part_8_automated_means_against_the_reviewers() {
    let f = scenario();
    // Scored: d1 d2 d3 n1 n2 n3 h1 h2 h3 h4 x1 (not the reinstatement d4, not complaints).
    // Restricting: d1 d3 n1 n2 h1 h2 h4 x1; of which automated decisions n2, h1.
    // Detected by any system: h1 h2 h3 x1; restricting among them h1 h2 x1.
    assert_eq!(matrix(&f.auto_total), (2, 6, 3, 1, 5, 2));
    // Own initiative only: h1 h2 h3 h4.
    assert_eq!(matrix(&f.auto_own), (1, 2, 2, 1, 1, 0));
    let system = |s: &str| matrix(&f.per_system[s]);
    // PDQ found h1 (removed, automated) and h3 (no violation).
    assert_eq!(system("PDQ"), (1, 0, 1, 1, 7, 2));
    // MD5/SHA-256 found h1 and x1 (removed by a person).
    assert_eq!(system("MD5/SHA-256"), (1, 1, 2, 0, 6, 3));
    assert_eq!(system("Text rules"), (0, 1, 1, 0, 7, 3));
    assert_eq!(system("vPDQ"), (0, 0, 0, 0, 8, 3));
    assert_eq!(f.per_system.len(), crate::mapping::SYSTEMS.len());
}
