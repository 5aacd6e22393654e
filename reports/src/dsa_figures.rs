//! The DSA transparency report's figures, computed in one streaming pass over a period's
//! ledger events (no case is read, so purged cases still count).
//!
//! What counts where (the rules are in `docs/reports.md`): Part 3 counts removal orders
//! received in the period and the decisions that gave them effect; Part 4 Art. 16 notices
//! received and the decisions on them; Parts 5 and 6 own-initiative restrictions (hash and
//! text-rule matches) on legal grounds or on terms and conditions only; Part 7 complaints;
//! Part 8 the automated means, each signal's accuracy judged against the reviewers'
//! decisions.

use crate::event::{Decision, Effect, Event, SourceKind};
use crate::mapping::{CategoryRef, Mapping, system_of};
use crate::stats::hours;
use std::collections::{BTreeMap, HashMap};

/// Orders of one category from one issuing Member State (or all).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OrderAcc {
    /// Orders to act received.
    pub orders: u64,
    /// Items in them.
    pub items: u64,
    /// Hours from receipt to informing the authority, per order.
    pub ack: Vec<f64>,
    /// Hours from receipt to giving effect, per item given effect.
    pub effect: Vec<f64>,
}

impl OrderAcc {
    fn merge(&mut self, o: &OrderAcc) {
        self.orders += o.orders;
        self.items += o.items;
        self.ack.extend_from_slice(&o.ack);
        self.effect.extend_from_slice(&o.effect);
    }
}

/// Notices of one category; `[all, trusted flaggers]` pairs.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NoticeAcc {
    /// Notices received.
    pub notices: [u64; 2],
    /// Items in them (one per notice case).
    pub items: [u64; 2],
    /// Hours from receipt to the decision.
    pub time: [Vec<f64>; 2],
    /// Restrictions on the basis of the law.
    pub law: [u64; 2],
    /// Restrictions on the basis of the terms and conditions only.
    pub tos: [u64; 2],
}

impl NoticeAcc {
    fn merge(&mut self, o: &NoticeAcc) {
        for i in 0..2 {
            self.notices[i] += o.notices[i];
            self.items[i] += o.items[i];
            self.time[i].extend_from_slice(&o.time[i]);
            self.law[i] += o.law[i];
            self.tos[i] += o.tos[i];
        }
    }
}

/// Own-initiative measures of one category.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OwnAcc {
    /// Measures.
    pub measures: u64,
    /// Of which detected by solely automated means.
    pub automated: u64,
    /// Visibility restriction: removal.
    pub removal: u64,
    /// Visibility restriction: disabled.
    pub disable: u64,
}

impl OwnAcc {
    fn merge(&mut self, o: &OwnAcc) {
        self.measures += o.measures;
        self.automated += o.automated;
        self.removal += o.removal;
        self.disable += o.disable;
    }
}

/// Measures by automated means and a detector's confusion matrix against reviewers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AutoAcc {
    /// Restrictions decided solely by automated means.
    pub solely: u64,
    /// Restrictions decided by people.
    pub not_automated: u64,
    /// Detected, reviewer restricted.
    pub tp: u64,
    /// Detected, reviewer found no violation.
    pub fp: u64,
    /// Not detected, reviewer restricted.
    pub fn_: u64,
    /// Not detected, reviewer found no violation.
    pub tn: u64,
}

impl AutoAcc {
    /// Counts a measure as taken by automated means or by a person.
    fn count(&mut self, d: &Decision) {
        if d.automated_decision {
            self.solely += 1;
        } else {
            self.not_automated += 1;
        }
    }

    /// Scores the detector (`detected`) against the reviewer's decision.
    fn judge(&mut self, d: &Decision, detected: bool) {
        match (detected, d.effect.restricts()) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
}

/// The outcome of an internal complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintOutcome {
    /// The contested decision stands.
    Upheld,
    /// Made less strict (a removal became a territorial disabling).
    PartiallyReversed,
    /// Undone.
    Reversed,
}

/// Classifies a complaint decision against the decision it contests.
pub fn complaint_outcome(contested: Option<Effect>, decided: Effect) -> ComplaintOutcome {
    use ComplaintOutcome::*;
    let was_restricted = contested.is_some_and(Effect::restricts);
    match (was_restricted, decided) {
        (true, Effect::Restored | Effect::NoAction) => Reversed,
        (true, Effect::Disabled) if contested == Some(Effect::Removed) => PartiallyReversed,
        (true, _) => Upheld,
        (false, Effect::Removed | Effect::Disabled) => Reversed,
        (false, _) => Upheld,
    }
}

/// Complaints of one type (or all).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ComplaintAcc {
    /// Complaints received.
    pub received: u64,
    /// Decided: upheld, partially reversed, reversed.
    pub outcomes: [u64; 3],
    /// Hours from receipt to decision.
    pub time: Vec<f64>,
}

/// Complaint types of Part 7 that Takedown's decisions can be contested under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintType {
    /// Against a removal or disabling.
    Restriction,
    /// Against not acting on an Art. 16 notice.
    NoActionNotice,
    /// Against not acting on a trusted flagger's notice.
    NoActionTrusted,
}

fn complaint_type(contested: Option<Effect>, source: Option<SourceKind>) -> Option<ComplaintType> {
    if contested.is_some_and(Effect::restricts) {
        return Some(ComplaintType::Restriction);
    }
    match source {
        Some(SourceKind::Notice) => Some(ComplaintType::NoActionNotice),
        Some(SourceKind::TrustedNotice) => Some(ComplaintType::NoActionTrusted),
        _ => None,
    }
}

/// Every figure of the DSA report for one period.
#[derive(Debug, Default, Clone)]
pub struct DsaFigures {
    /// The categories seen (indexes used below).
    pub cats: Vec<CategoryRef>,
    /// Part 3: (category, issuing state).
    pub orders: HashMap<(usize, String), OrderAcc>,
    /// Part 4.
    pub notices: HashMap<usize, NoticeAcc>,
    /// Part 5.
    pub own_illegal: HashMap<usize, OwnAcc>,
    /// Part 6.
    pub own_tos: HashMap<usize, OwnAcc>,
    /// Part 7: all complaints.
    pub complaints: ComplaintAcc,
    /// Part 7: per type (restriction, no action on a notice, on a trusted flagger's).
    pub complaint_types: [ComplaintAcc; 3],
    /// Part 7: restrictions newly imposed after a complaint.
    pub newly_imposed: u64,
    /// Part 8: all decisions, any automated means as the detector.
    pub auto_total: AutoAcc,
    /// Part 8: own-initiative decisions.
    pub auto_own: AutoAcc,
    /// Part 8: notices (all, trusted).
    pub nam: [AutoAcc; 2],
    /// Part 8: per automated system.
    pub per_system: BTreeMap<&'static str, AutoAcc>,
}

impl DsaFigures {
    fn cat(&mut self, c: &CategoryRef) -> usize {
        match self.cats.iter().position(|x| x == c) {
            Some(i) => i,
            None => {
                self.cats.push(c.clone());
                self.cats.len() - 1
            }
        }
    }

    /// Adds one event of the period.
    pub fn add(&mut self, m: &Mapping, e: &Event) {
        match e {
            Event::OrderReceived(o) => {
                let c = self.cat(&m.order_category);
                let acc = self.orders.entry((c, o.issuing_state.clone())).or_default();
                acc.orders += 1;
                acc.items += o.items as u64;
                acc.ack.push(hours(o.at, o.acknowledged_at));
            }
            Event::CaseOpened(o) => match o.source {
                SourceKind::Notice | SourceKind::TrustedNotice => {
                    let c = self.cat(m.category(o.source, &o.labels));
                    let acc = self.notices.entry(c).or_default();
                    let t = o.source == SourceKind::TrustedNotice;
                    acc.notices[0] += 1;
                    acc.items[0] += 1;
                    if t {
                        acc.notices[1] += 1;
                        acc.items[1] += 1;
                    }
                }
                SourceKind::Complaint => {
                    self.complaints.received += 1;
                    if let Some(t) = complaint_type(o.contested, o.contested_source) {
                        self.complaint_types[t as usize].received += 1;
                    }
                }
                _ => {}
            },
            Event::OrderNotExecuted(_) => {}
            Event::Decision(d) => self.decision(m, d),
        }
    }

    fn decision(&mut self, m: &Mapping, d: &Decision) {
        let c = self.cat(m.category(d.source, &d.labels));
        let took = hours(d.received_at, d.at);
        match d.source {
            SourceKind::RemovalOrder if d.effect.restricts() => {
                let state = d.issuing_state.clone().unwrap_or_default();
                let acc = self.orders.entry((c, state)).or_default();
                acc.effect.push(took);
            }
            SourceKind::Notice | SourceKind::TrustedNotice => {
                let t = d.source == SourceKind::TrustedNotice;
                let acc = self.notices.entry(c).or_default();
                for i in 0..1 + t as usize {
                    acc.time[i].push(took);
                    if d.effect.restricts() {
                        if d.legal_grounds.is_empty() {
                            acc.tos[i] += 1;
                        } else {
                            acc.law[i] += 1;
                        }
                    }
                }
                // Notices are processed by people: counted, not scored.
                self.nam[0].count(d);
                if t {
                    self.nam[1].count(d);
                }
            }
            SourceKind::HashMatch if d.effect.restricts() => {
                let part = if d.legal_grounds.is_empty() {
                    &mut self.own_tos
                } else {
                    &mut self.own_illegal
                };
                let acc = part.entry(c).or_default();
                acc.measures += 1;
                acc.automated += d.automated_detection() as u64;
                acc.removal += (d.effect == Effect::Removed) as u64;
                acc.disable += (d.effect == Effect::Disabled) as u64;
            }
            SourceKind::Complaint => {
                let o = complaint_outcome(d.contested, d.effect);
                let i = match o {
                    ComplaintOutcome::Upheld => 0,
                    ComplaintOutcome::PartiallyReversed => 1,
                    ComplaintOutcome::Reversed => 2,
                };
                self.complaints.outcomes[i] += 1;
                self.complaints.time.push(took);
                if let Some(t) = complaint_type(d.contested, d.contested_source) {
                    let acc = &mut self.complaint_types[t as usize];
                    acc.outcomes[i] += 1;
                    acc.time.push(took);
                }
                if !d.contested.is_some_and(Effect::restricts) && d.effect.restricts() {
                    self.newly_imposed += 1;
                }
                return;
            }
            _ => {}
        }
        if d.effect == Effect::Restored {
            return;
        }
        let restricts = d.effect.restricts();
        let own = d.source == SourceKind::HashMatch;
        self.auto_total.judge(d, d.automated_detection());
        if own {
            self.auto_own.judge(d, d.automated_detection());
        }
        if restricts {
            self.auto_total.count(d);
            if own {
                self.auto_own.count(d);
            }
        }
        let mut systems: Vec<&'static str> = d.signals.iter().map(|s| system_of(s)).collect();
        systems.sort_unstable();
        systems.dedup();
        for s in crate::mapping::SYSTEMS {
            let detected = systems.contains(&s);
            let acc = self.per_system.entry(s).or_default();
            acc.judge(d, detected);
            if restricts && detected {
                acc.count(d);
            }
        }
    }

    /// The category indexes a template row stands for: `TOTAL` is every category, a
    /// `STATEMENT_CATEGORY_*` row its own, a `KEYWORD_*` row the categories under the
    /// current one that carry the keyword.
    pub fn row_cats(&self, current: &str, code: &str) -> Vec<usize> {
        (0..self.cats.len())
            .filter(|&i| {
                let c = &self.cats[i];
                code == "TOTAL"
                    || c.category == code
                    || (code.starts_with("KEYWORD_")
                        && c.category == current
                        && c.keywords.iter().any(|k| k == code))
            })
            .collect()
    }

    /// Part 3's sums over categories `cats` and `state` (`None`: every state).
    pub fn orders_for(&self, cats: &[usize], state: Option<&str>) -> OrderAcc {
        let mut out = OrderAcc::default();
        for ((c, s), acc) in &self.orders {
            if cats.contains(c) && state.is_none_or(|x| x == s) {
                out.merge(acc);
            }
        }
        out
    }

    /// Part 4's sums over `cats`.
    pub fn notices_for(&self, cats: &[usize]) -> NoticeAcc {
        let mut out = NoticeAcc::default();
        for c in cats {
            if let Some(a) = self.notices.get(c) {
                out.merge(a);
            }
        }
        out
    }

    /// Part 5 (`illegal`) or 6's sums over `cats`.
    pub fn own_for(&self, illegal: bool, cats: &[usize]) -> OwnAcc {
        let part = if illegal {
            &self.own_illegal
        } else {
            &self.own_tos
        };
        let mut out = OwnAcc::default();
        for c in cats {
            if let Some(a) = part.get(c) {
                out.merge(a);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComplaintOutcome::*;

    #[test]
    fn complaint_outcomes_follow_the_contested_decision() {
        assert_eq!(
            complaint_outcome(Some(Effect::Removed), Effect::Restored),
            Reversed
        );
        assert_eq!(
            complaint_outcome(Some(Effect::Removed), Effect::NoAction),
            Reversed
        );
        assert_eq!(
            complaint_outcome(Some(Effect::Removed), Effect::Disabled),
            PartiallyReversed
        );
        assert_eq!(
            complaint_outcome(Some(Effect::Disabled), Effect::Disabled),
            Upheld
        );
        assert_eq!(
            complaint_outcome(Some(Effect::Disabled), Effect::Removed),
            Upheld
        );
        assert_eq!(
            complaint_outcome(Some(Effect::Removed), Effect::Removed),
            Upheld
        );
        assert_eq!(
            complaint_outcome(Some(Effect::NoAction), Effect::Removed),
            Reversed
        );
        assert_eq!(complaint_outcome(None, Effect::Disabled), Reversed);
        assert_eq!(
            complaint_outcome(Some(Effect::NoAction), Effect::NoAction),
            Upheld
        );
        assert_eq!(
            complaint_type(Some(Effect::Disabled), None),
            Some(ComplaintType::Restriction)
        );
        assert_eq!(
            complaint_type(Some(Effect::NoAction), Some(SourceKind::TrustedNotice)),
            Some(ComplaintType::NoActionTrusted)
        );
        assert_eq!(
            complaint_type(Some(Effect::NoAction), Some(SourceKind::HashMatch)),
            None
        );
    }
}

#[cfg(test)]
#[path = "dsa_figures_tests.rs"]
pub(crate) mod scenario_tests;
