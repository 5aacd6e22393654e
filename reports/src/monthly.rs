//! Month-by-month figures for the reports page's charts: removals and disablings per month,
//! and, per source with a legal deadline, the median time to action against the median time
//! the deadline allowed, with the decisions that missed it.
//!
//! They live here rather than in the web UI so that the page draws what the reports count,
//! with the same rules (a removal is a restricting decision not taken on a complaint, as in
//! TCO figure (a); medians as in every report, [`crate::stats::median`]).

use crate::event::{Event, SourceKind};
use crate::ledger::{Ledger, LedgerError};
use crate::period::Period;
use crate::stats::{hours, median};
use std::collections::BTreeMap;

/// One source's time to action in one month.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Final decisions with a deadline.
    pub decided: u64,
    /// Of which after the deadline.
    pub missed: u64,
    /// Median receipt-to-decision time, in hours.
    pub median_hours: Option<f64>,
    /// Median time the deadline allowed (receipt to deadline), in hours.
    pub allowed_hours: Option<f64>,
}

/// One month of the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Removals and disablings decided (not on complaints).
    pub removals: u64,
    /// Time to action by source (`removal_order`, `notice`, …), only sources whose cases had
    /// a deadline.
    pub timing: BTreeMap<&'static str, Timing>,
}

/// The name a source goes by on the page (and in TCO figure (a)'s breakdown).
pub fn source_name(s: SourceKind) -> &'static str {
    match s {
        SourceKind::HashMatch => "own_initiative",
        SourceKind::RemovalOrder => "removal_order",
        SourceKind::Notice => "notice",
        SourceKind::TrustedNotice => "trusted_flagger_notice",
        SourceKind::OtherNotification => "other_referral",
        SourceKind::Complaint => "complaint",
    }
}

#[derive(Default)]
struct Acc {
    removals: u64,
    timing: BTreeMap<&'static str, (u64, Vec<f64>, Vec<f64>)>,
}

/// Every month the period touches, in order (months without decisions included, at zero),
/// from one streaming pass over the ledger; memory is two durations per decision with a
/// deadline.
pub fn monthly(ledger: &Ledger, period: &Period) -> Result<Vec<Month>, LedgerError> {
    let mut acc: BTreeMap<String, Acc> = period
        .months()
        .into_iter()
        .map(|m| (m, Acc::default()))
        .collect();
    ledger.scan(Some(period), |e| {
        let Event::Decision(d) = e else { return };
        let month = format!("{:04}-{:02}", d.at.year(), d.at.month() as u8);
        let Some(a) = acc.get_mut(&month) else { return };
        if d.effect.restricts() && d.source != SourceKind::Complaint {
            a.removals += 1;
        }
        if let Some(due) = d.due_at {
            let t = a.timing.entry(source_name(d.source)).or_default();
            if !d.in_time {
                t.0 += 1;
            }
            t.1.push(hours(d.received_at, d.at));
            t.2.push(hours(d.received_at, due));
        }
    })?;
    Ok(acc
        .into_iter()
        .map(|(month, a)| Month {
            month,
            removals: a.removals,
            timing: a
                .timing
                .into_iter()
                .map(|(source, (missed, mut took, mut allowed))| {
                    let t = Timing {
                        decided: took.len() as u64,
                        missed,
                        median_hours: median(&mut took),
                        allowed_hours: median(&mut allowed),
                    };
                    (source, t)
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Decision, Effect};
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    fn decision(
        case: &str,
        source: SourceKind,
        effect: Effect,
        received: OffsetDateTime,
        took_min: i64,
        allowed_min: Option<i64>,
    ) -> Event {
        let at = received + Duration::minutes(took_min);
        let due_at = allowed_min.map(|m| received + Duration::minutes(m));
        Event::Decision(Decision {
            case_id: case.into(),
            seq: 0,
            at,
            received_at: received,
            due_at,
            in_time: due_at.is_none_or(|d| at <= d),
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
        })
    }

    #[test]
    fn months_count_removals_and_time_to_action_against_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let mar = datetime!(2026-03-10 09:00 UTC);
        let may = datetime!(2026-05-02 09:00 UTC);
        use Effect::*;
        use SourceKind::*;
        ledger
            .append(&[
                // March: orders decided after 30, 50 and 90 minutes of a 60-minute deadline.
                decision("o1", RemovalOrder, Removed, mar, 30, Some(60)),
                decision("o2", RemovalOrder, Disabled, mar, 50, Some(60)),
                decision("o3", RemovalOrder, Removed, mar, 90, Some(60)),
                // A notice with a 24-hour deadline, no action after 2 hours.
                decision("n1", Notice, NoAction, mar, 120, Some(24 * 60)),
                // Own initiative: no deadline; a complaint's removal is not counted.
                decision("h1", HashMatch, Removed, mar, 600, None),
                decision("c1", Complaint, Removed, mar, 10, None),
                // May: one order after 20 and one after 40 minutes.
                decision("o4", RemovalOrder, Removed, may, 20, Some(60)),
                decision("o5", RemovalOrder, Removed, may, 40, Some(60)),
            ])
            .unwrap();
        let months = monthly(&ledger, &Period::parse("2026-03-01/2026-05-31").unwrap()).unwrap();
        let names: Vec<_> = months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(names, ["2026-03", "2026-04", "2026-05"]);
        assert_eq!(
            months.iter().map(|m| m.removals).collect::<Vec<_>>(),
            [4, 0, 2]
        );
        let orders = &months[0].timing["removal_order"];
        assert_eq!((orders.decided, orders.missed), (3, 1));
        assert_eq!(orders.median_hours, Some(50.0 / 60.0));
        assert_eq!(orders.allowed_hours, Some(1.0));
        let notices = &months[0].timing["notice"];
        assert_eq!((notices.decided, notices.missed), (1, 0));
        assert_eq!(
            (notices.median_hours, notices.allowed_hours),
            (Some(2.0), Some(24.0))
        );
        assert_eq!(months[0].timing.len(), 2, "{:?}", months[0].timing);
        assert!(months[1].timing.is_empty());
        let may_orders = &months[2].timing["removal_order"];
        assert_eq!(may_orders.median_hours, Some(0.5));
        assert_eq!(may_orders.missed, 0);
    }
}
