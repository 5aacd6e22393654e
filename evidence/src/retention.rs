//! When evidence must go: the retention rules, as pure arithmetic over the facts of a case.
//!
//! - Removed or disabled content is preserved six months from removal (TCO Art. 6(1)), longer
//!   under a legal hold (Art. 6(2)); the review engine computes that end (`Preservation`), so
//!   here it is a given: `Some(at)`, or `None` while an open-ended hold runs.
//! - Content decided "not terrorist content" has no legal reason to be kept: it is deleted a
//!   configurable period after the decision (30 days by default, so that a complaint or an
//!   authority's question can still be answered), unless a hold keeps it.
//! - A purged case has its evidence deleted at once.
//! - Anything else (open, suspended, escalated cases) is kept and looked at again later.

use time::{Duration, OffsetDateTime};

/// How long evidence of cases decided "not terrorist content" is kept by default.
pub const DEFAULT_NOT_TERRORIST_RETENTION: Duration = Duration::days(30);
/// How soon a case whose fate is open is looked at again.
pub const RECHECK: Duration = Duration::days(1);

/// The retention settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long evidence of a "not terrorist content" decision is kept.
    pub not_terrorist: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            not_terrorist: DEFAULT_NOT_TERRORIST_RETENTION,
        }
    }
}

/// What the review engine knows about a case that bears on its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFate {
    /// The case was purged (its preservation ended).
    Purged,
    /// The content was removed or disabled: preserved until `Some(at)`, or indefinitely
    /// (`None`) while an open-ended legal hold runs.
    Preserved(Option<OffsetDateTime>),
    /// Decided "not terrorist content" at this time; `held` while a legal hold runs.
    NotTerrorist {
        /// When the decision was taken.
        decided_at: OffsetDateTime,
        /// Whether a legal hold keeps the evidence.
        held: bool,
    },
    /// Open, suspended, escalated, or otherwise undecided.
    Pending,
}

/// What to do with a case's evidence now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delete its bytes and previews.
    Purge,
    /// Keep them; look again at this time.
    KeepUntil(OffsetDateTime),
}

impl RetentionPolicy {
    /// The disposition of a case's evidence at `now`. A deadline is inclusive: at the exact
    /// instant of the end the evidence goes.
    pub fn disposition(&self, fate: CaseFate, now: OffsetDateTime) -> Disposition {
        let until = |end: OffsetDateTime| {
            if now >= end {
                Disposition::Purge
            } else {
                Disposition::KeepUntil(end)
            }
        };
        match fate {
            CaseFate::Purged => Disposition::Purge,
            CaseFate::Preserved(Some(end)) => until(end),
            CaseFate::NotTerrorist {
                decided_at,
                held: false,
            } => until(decided_at + self.not_terrorist),
            CaseFate::Preserved(None)
            | CaseFate::NotTerrorist { held: true, .. }
            | CaseFate::Pending => Disposition::KeepUntil(now + RECHECK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn preserved_evidence_goes_at_the_end_of_preservation_not_before() {
        let p = RetentionPolicy::default();
        let end = datetime!(2026-07-15 10:00 UTC);
        let fate = CaseFate::Preserved(Some(end));
        assert_eq!(
            p.disposition(fate, datetime!(2026-07-15 09:59:59 UTC)),
            Disposition::KeepUntil(end)
        );
        assert_eq!(p.disposition(fate, end), Disposition::Purge);
    }

    #[test]
    fn open_ended_holds_and_pending_cases_keep_evidence() {
        let p = RetentionPolicy::default();
        let now = datetime!(2030-01-01 00:00 UTC);
        assert_eq!(
            p.disposition(CaseFate::Preserved(None), now),
            Disposition::KeepUntil(datetime!(2030-01-02 00:00 UTC))
        );
        assert_eq!(
            p.disposition(CaseFate::Pending, now),
            Disposition::KeepUntil(datetime!(2030-01-02 00:00 UTC))
        );
        let held = CaseFate::NotTerrorist {
            decided_at: datetime!(2020-01-01 00:00 UTC),
            held: true,
        };
        assert!(matches!(
            p.disposition(held, now),
            Disposition::KeepUntil(_)
        ));
        assert_eq!(p.disposition(CaseFate::Purged, now), Disposition::Purge);
    }

    #[test]
    fn not_terrorist_evidence_goes_after_thirty_days_or_the_configured_period() {
        let decided = datetime!(2026-03-01 12:00 UTC);
        let fate = CaseFate::NotTerrorist {
            decided_at: decided,
            held: false,
        };
        let p = RetentionPolicy::default();
        assert_eq!(
            p.disposition(fate, datetime!(2026-03-31 11:59 UTC)),
            Disposition::KeepUntil(datetime!(2026-03-31 12:00 UTC))
        );
        assert_eq!(
            p.disposition(fate, datetime!(2026-03-31 12:00 UTC)),
            Disposition::Purge
        );
        let week = RetentionPolicy {
            not_terrorist: Duration::days(7),
        };
        assert_eq!(
            week.disposition(fate, datetime!(2026-03-08 12:00 UTC)),
            Disposition::Purge
        );
    }
}
