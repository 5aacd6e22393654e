//! The legal clocks, as pure functions of an injected time.
//!
//! Deadlines are what this crate exists for, so the rules live here free of I/O and are tested
//! to the second: SLA profiles per source (config with legal defaults), the removal-order clock
//! that Annex III suspends and that restarts with a fresh full period, the Art. 11(3) embargo
//! (six weeks, extendable once), complaint deadlines, and preservation (six months from
//! removal, extended by legal holds). The Redis store schedules what these functions compute.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// The SLA class of a case: which legal or internal deadline applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaClass {
    /// TCO Art. 3 removal order: one hour from receipt.
    RemovalOrder,
    /// DSA Art. 16 notice from an Art. 22 trusted flagger.
    TrustedNotice,
    /// DSA Art. 16 notice from anyone else.
    Notice,
    /// A hash-list match (TCO Art. 5 specific measure, reviewed by a human).
    HashMatch,
    /// TCO Art. 10 / DSA Art. 20 complaint against our own decision.
    Complaint,
    /// Australian Online Safety Act s109/s110 removal notice.
    AuRemovalNotice,
    /// Legacy NetzDG "manifestly unlawful" (24 h); repealed, off by default.
    NetzdgManifest,
    /// Legacy NetzDG other unlawful content (7 days); repealed, off by default.
    NetzdgOther,
}

impl SlaClass {
    /// Every class, in priority order.
    pub const ALL: [SlaClass; 8] = [
        SlaClass::RemovalOrder,
        SlaClass::AuRemovalNotice,
        SlaClass::TrustedNotice,
        SlaClass::HashMatch,
        SlaClass::NetzdgManifest,
        SlaClass::Notice,
        SlaClass::NetzdgOther,
        SlaClass::Complaint,
    ];

    /// The name used in config, JSON and Redis.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaClass::RemovalOrder => "removal_order",
            SlaClass::TrustedNotice => "trusted_notice",
            SlaClass::Notice => "notice",
            SlaClass::HashMatch => "hash_match",
            SlaClass::Complaint => "complaint",
            SlaClass::AuRemovalNotice => "au_removal_notice",
            SlaClass::NetzdgManifest => "netzdg_manifest",
            SlaClass::NetzdgOther => "netzdg_other",
        }
    }
}

impl fmt::Display for SlaClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duration written as in config: an integer and a unit `s`, `m`, `h`, `d` or `w`
/// (`"1h"`, `"45m"`, `"14d"`). Serialised the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl FromStr for Span {
    type Err = SlaError;
    fn from_str(text: &str) -> Result<Self, SlaError> {
        let bad = || SlaError::InvalidSpan(text.to_string());
        let text = text.trim();
        let unit = text.chars().last().ok_or_else(bad)?;
        let number: i64 = text[..text.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| bad())?;
        if number < 0 {
            return Err(bad());
        }
        let d = match unit {
            's' => Duration::seconds(number),
            'm' => Duration::minutes(number),
            'h' => Duration::hours(number),
            'd' => Duration::days(number),
            'w' => Duration::weeks(number),
            _ => return Err(bad()),
        };
        Ok(Span(d))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.whole_seconds();
        for (unit, size) in [('w', 604_800), ('d', 86_400), ('h', 3600), ('m', 60)] {
            if s != 0 && s % size == 0 {
                return write!(f, "{}{unit}", s / size);
            }
        }
        write!(f, "{s}s")
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The deadline rule of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaProfile {
    /// Whether cases of this class are accepted at all.
    pub enabled: bool,
    /// Time from receipt (or restart) to the deadline.
    pub due_after: Span,
    /// Escalation points, measured like `due_after`; each one notifies senior moderators.
    #[serde(default)]
    pub escalate_after: Vec<Span>,
}

impl SlaProfile {
    fn new(enabled: bool, due_after: Duration, escalate_after: &[Duration]) -> Self {
        SlaProfile {
            enabled,
            due_after: Span(due_after),
            escalate_after: escalate_after.iter().copied().map(Span).collect(),
        }
    }
}

/// Why an SLA rule could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    /// A duration in config is malformed.
    #[error("invalid duration {0:?}: expected an integer and one of s, m, h, d, w")]
    InvalidSpan(String),
    /// The class is switched off in config.
    #[error("the SLA profile {0} is disabled")]
    Disabled(SlaClass),
    /// An escalation point is at or after the deadline.
    #[error("profile {0}: escalation at {1} is not before the deadline")]
    EscalationAfterDeadline(SlaClass, Span),
    /// The clock is not suspended, so it cannot restart.
    #[error("the clock is not suspended")]
    NotSuspended,
    /// The clock is already suspended.
    #[error("the clock is already suspended")]
    AlreadySuspended,
    /// The embargo was already extended once (Art. 11(3) allows one extension).
    #[error("the embargo was already extended once")]
    EmbargoAlreadyExtended,
}

/// The SLA profiles, one per class. Missing classes get their legal defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SlaConfig {
    /// Profiles by class.
    pub profiles: BTreeMap<SlaClass, SlaProfile>,
}

impl Default for SlaConfig {
    /// Removal order 1 h (escalations at 45 and 55 min); trusted-flagger notice 24 h; other
    /// notice 48 h; hash match 24 h; complaint 14 days; Australian removal notice 24 h; NetzDG
    /// legacy profiles (24 h / 7 d) present but disabled.
    fn default() -> Self {
        let h = Duration::hours;
        let m = Duration::minutes;
        let profiles = BTreeMap::from([
            (
                SlaClass::RemovalOrder,
                SlaProfile::new(true, h(1), &[m(45), m(55)]),
            ),
            (SlaClass::TrustedNotice, SlaProfile::new(true, h(24), &[])),
            (SlaClass::Notice, SlaProfile::new(true, h(48), &[])),
            (SlaClass::HashMatch, SlaProfile::new(true, h(24), &[])),
            (
                SlaClass::Complaint,
                SlaProfile::new(true, Duration::days(14), &[]),
            ),
            (SlaClass::AuRemovalNotice, SlaProfile::new(true, h(24), &[])),
            (SlaClass::NetzdgManifest, SlaProfile::new(false, h(24), &[])),
            (
                SlaClass::NetzdgOther,
                SlaProfile::new(false, Duration::days(7), &[]),
            ),
        ]);
        SlaConfig { profiles }
    }
}

impl SlaConfig {
    /// Fills classes missing from `self` with defaults and checks escalations come before
    /// deadlines.
    pub fn validated(mut self) -> Result<Self, SlaError> {
        for (class, profile) in SlaConfig::default().profiles {
            self.profiles.entry(class).or_insert(profile);
        }
        for (class, p) in &self.profiles {
            if let Some(e) = p.escalate_after.iter().find(|e| e.0 >= p.due_after.0) {
                return Err(SlaError::EscalationAfterDeadline(*class, *e));
            }
        }
        Ok(self)
    }

    /// The enabled profile of `class`.
    pub fn profile(&self, class: SlaClass) -> Result<&SlaProfile, SlaError> {
        match self.profiles.get(&class) {
            Some(p) if p.enabled => Ok(p),
            _ => Err(SlaError::Disabled(class)),
        }
    }

    /// Starts the clock of a case of `class` received at `received_at`.
    pub fn start(
        &self,
        class: SlaClass,
        received_at: OffsetDateTime,
    ) -> Result<SlaTimer, SlaError> {
        let p = self.profile(class)?;
        Ok(SlaTimer {
            class,
            received_at,
            period: p.due_after.0,
            escalations: p.escalate_after.iter().map(|s| s.0).collect(),
            running_since: Some(received_at),
            suspended_at: None,
            restarts: 0,
        })
    }
}

/// What a deadline event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "level")]
pub enum DeadlineKind {
    /// The n-th escalation point (1-based).
    Escalation(u8),
    /// The deadline itself: reached without a decision, a breach.
    Breach,
}

/// A scheduled point on a case's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineEvent {
    /// What fires.
    #[serde(flatten)]
    pub kind: DeadlineKind,
    /// When it fires.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Which run of the clock it belongs to (0 before any restart), so events of a run that
    /// was suspended are never confused with those of the fresh run.
    pub run: u32,
}

/// Where a clock stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SlaStatus {
    /// Running, with this many whole seconds left.
    Running {
        /// Seconds until the deadline.
        remaining_seconds: i64,
    },
    /// The deadline has been reached (or passed) without the clock stopping.
    Breached {
        /// Seconds since the deadline.
        overdue_seconds: i64,
    },
    /// Suspended by an Annex III reply; no deadline runs.
    Suspended,
}

/// One case's clock.
///
/// The deadline is `running_since + period`. A decision at or before the deadline is in
/// time ("within one hour" includes the last second); the deadline event fires when the time
/// reaches it, so a case still open at that instant is recorded as a breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTimer {
    /// The class whose profile set the period.
    pub class: SlaClass,
    /// When the item reached us (Art. 3(5) receipt time for orders).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The full period of each run.
    #[serde(with = "duration_seconds")]
    pub period: Duration,
    /// Escalation offsets from the start of each run.
    #[serde(with = "duration_seconds_vec")]
    pub escalations: Vec<Duration>,
    /// Start of the current run; `None` while suspended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub running_since: Option<OffsetDateTime>,
    /// When the current suspension began.
    #[serde(with = "time::serde::rfc3339::option")]
    pub suspended_at: Option<OffsetDateTime>,
    /// How many times the clock restarted after a suspension.
    pub restarts: u32,
}

impl SlaTimer {
    /// The current deadline, if the clock runs.
    pub fn due_at(&self) -> Option<OffsetDateTime> {
        self.running_since.map(|s| s + self.period)
    }

    /// The status at `now`.
    pub fn status(&self, now: OffsetDateTime) -> SlaStatus {
        match self.due_at() {
            None => SlaStatus::Suspended,
            Some(due) if now < due => SlaStatus::Running {
                remaining_seconds: (due - now).whole_seconds(),
            },
            Some(due) => SlaStatus::Breached {
                overdue_seconds: (now - due).whole_seconds(),
            },
        }
    }

    /// Whether a decision made at `at` met the current deadline.
    pub fn in_time(&self, at: OffsetDateTime) -> bool {
        self.due_at().is_some_and(|due| at <= due)
    }

    /// The events of the current run, escalations first, then the breach.
    pub fn events(&self) -> Vec<DeadlineEvent> {
        let Some(start) = self.running_since else {
            return Vec::new();
        };
        let mut events: Vec<DeadlineEvent> = self
            .escalations
            .iter()
            .enumerate()
            .map(|(i, e)| DeadlineEvent {
                kind: DeadlineKind::Escalation(i as u8 + 1),
                at: start + *e,
                run: self.restarts,
            })
            .collect();
        events.push(DeadlineEvent {
            kind: DeadlineKind::Breach,
            at: start + self.period,
            run: self.restarts,
        });
        events
    }

    /// Suspends the clock (Annex III: force majeure, technical impossibility, manifest error,
    /// insufficient information). Returns the events that no longer apply.
    pub fn suspend(&mut self, at: OffsetDateTime) -> Result<Vec<DeadlineEvent>, SlaError> {
        if self.running_since.is_none() {
            return Err(SlaError::AlreadySuspended);
        }
        let cancelled = self.events();
        self.running_since = None;
        self.suspended_at = Some(at);
        Ok(cancelled)
    }

    /// Restarts the clock with a fresh full period (Art. 3(7)/(8): when the grounds cease or
    /// the clarification is received). Returns the new events.
    pub fn restart(&mut self, at: OffsetDateTime) -> Result<Vec<DeadlineEvent>, SlaError> {
        if self.running_since.is_some() {
            return Err(SlaError::NotSuspended);
        }
        self.running_since = Some(at);
        self.suspended_at = None;
        self.restarts += 1;
        Ok(self.events())
    }
}

/// An Art. 11(3) embargo: the content provider is not told of the removal until it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embargo {
    /// When it began (the decision to remove under the order).
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// When it ends unless extended.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// Whether the single extension was used.
    pub extended: bool,
}

/// Six weeks, the embargo's length and that of its one extension.
pub const EMBARGO_PERIOD: Duration = Duration::weeks(6);

impl Embargo {
    /// An embargo of six weeks from `from`.
    pub fn new(from: OffsetDateTime) -> Self {
        Embargo {
            from,
            until: from + EMBARGO_PERIOD,
            extended: false,
        }
    }

    /// Extends by six more weeks, once.
    pub fn extend(&mut self) -> Result<(), SlaError> {
        if self.extended {
            return Err(SlaError::EmbargoAlreadyExtended);
        }
        self.extended = true;
        self.until += EMBARGO_PERIOD;
        Ok(())
    }

    /// Whether the provider must still not be told at `now`.
    pub fn active(&self, now: OffsetDateTime) -> bool {
        now < self.until
    }
}

/// Whether a complaint received at `received_at` is still within its decision period at
/// `now`, given the complaint profile (default 14 days).
pub fn complaint_in_time(
    config: &SlaConfig,
    received_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, SlaError> {
    let timer = config.start(SlaClass::Complaint, received_at)?;
    Ok(matches!(timer.status(now), SlaStatus::Running { .. }))
}

/// DSA Art. 20(1): complaints stay possible for six months after the decision.
pub fn complaint_window_open(decided_at: OffsetDateTime, now: OffsetDateTime) -> bool {
    now < add_months(decided_at, 6)
}

/// TCO Art. 4(2): a cross-border order may be sent for scrutiny within 48 hours of receipt.
pub const SCRUTINY_REQUEST_WINDOW: Duration = Duration::hours(48);

/// Adds calendar months, clamping the day to the end of a shorter month
/// (31 August + 6 months = 28 or 29 February).
pub fn add_months(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = at.year() * 12 + (at.month() as i32 - 1) + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from(month0 as u8 + 1).unwrap_or(time::Month::January);
    let day = at.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).unwrap_or(at.date());
    at.replace_date(date)
}

/// A request to keep preserved content longer (Art. 6(2)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// Who asked (authority, court, reference).
    pub requested_by: String,
    /// Until when; `None` until released.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

/// The Art. 6 preservation period of removed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preservation {
    /// When the content was removed or disabled.
    #[serde(with = "time::serde::rfc3339")]
    pub removed_at: OffsetDateTime,
    /// Six months after removal.
    #[serde(with = "time::serde::rfc3339")]
    pub keep_until: OffsetDateTime,
    /// Holds that extend it.
    #[serde(default)]
    pub holds: Vec<LegalHold>,
}

/// Art. 6(2): six months from removal.
pub const PRESERVATION_MONTHS: u32 = 6;

impl Preservation {
    /// Preservation from `removed_at`.
    pub fn new(removed_at: OffsetDateTime) -> Self {
        Preservation {
            removed_at,
            keep_until: add_months(removed_at, PRESERVATION_MONTHS),
            holds: Vec::new(),
        }
    }

    /// The earliest time the content may be purged; `None` while an open-ended hold applies.
    pub fn purge_at(&self) -> Option<OffsetDateTime> {
        let mut at = self.keep_until;
        for hold in &self.holds {
            at = at.max(hold.until?);
        }
        Some(at)
    }

    /// Whether the purge job may delete at `now`.
    pub fn purge_due(&self, now: OffsetDateTime) -> bool {
        self.purge_at().is_some_and(|at| now >= at)
    }
}

mod duration_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::seconds(i64::deserialize(d)?))
    }
}

mod duration_seconds_vec {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;
    pub fn serialize<S: Serializer>(d: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(d.iter().map(|d| d.whole_seconds()))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Ok(Vec::<i64>::deserialize(d)?
            .into_iter()
            .map(Duration::seconds)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    fn secs(s: i64) -> Duration {
        Duration::seconds(s)
    }

    #[test]
    fn removal_order_boundary_59_59_and_60_01() {
        let sla = SlaConfig::default();
        let timer = sla.start(SlaClass::RemovalOrder, T0).unwrap();
        assert_eq!(timer.due_at(), Some(T0 + Duration::hours(1)));
        assert_eq!(
            timer.status(T0 + secs(59 * 60 + 59)),
            SlaStatus::Running {
                remaining_seconds: 1
            }
        );
        assert!(timer.in_time(T0 + secs(59 * 60 + 59)));
        assert!(timer.in_time(T0 + secs(3600)), "the last second is in time");
        assert_eq!(
            timer.status(T0 + secs(60 * 60 + 1)),
            SlaStatus::Breached { overdue_seconds: 1 }
        );
        assert!(!timer.in_time(T0 + secs(3601)));
    }

    #[test]
    fn removal_order_escalates_at_45_and_55_minutes() {
        let timer = SlaConfig::default()
            .start(SlaClass::RemovalOrder, T0)
            .unwrap();
        let events = timer.events();
        assert_eq!(
            events,
            vec![
                DeadlineEvent {
                    kind: DeadlineKind::Escalation(1),
                    at: T0 + Duration::minutes(45),
                    run: 0
                },
                DeadlineEvent {
                    kind: DeadlineKind::Escalation(2),
                    at: T0 + Duration::minutes(55),
                    run: 0
                },
                DeadlineEvent {
                    kind: DeadlineKind::Breach,
                    at: T0 + Duration::hours(1),
                    run: 0
                },
            ]
        );
    }

    #[test]
    fn annex_iii_suspends_and_restart_gives_a_fresh_full_hour() {
        let mut timer = SlaConfig::default()
            .start(SlaClass::RemovalOrder, T0)
            .unwrap();
        let suspended_at = T0 + Duration::minutes(50);
        let cancelled = timer.suspend(suspended_at).unwrap();
        assert_eq!(cancelled.len(), 3);
        assert_eq!(timer.status(T0 + Duration::hours(5)), SlaStatus::Suspended);
        assert_eq!(timer.suspend(suspended_at), Err(SlaError::AlreadySuspended));
        assert!(timer.events().is_empty());

        let clarified = T0 + Duration::hours(30);
        let events = timer.restart(clarified).unwrap();
        assert_eq!(timer.due_at(), Some(clarified + Duration::hours(1)));
        assert_eq!(events.last().unwrap().at, clarified + Duration::hours(1));
        assert!(events.iter().all(|e| e.run == 1));
        assert_eq!(
            timer.status(clarified + secs(3599)),
            SlaStatus::Running {
                remaining_seconds: 1
            }
        );
        assert_eq!(
            timer.status(clarified + secs(3601)),
            SlaStatus::Breached { overdue_seconds: 1 }
        );
        assert_eq!(timer.restart(clarified), Err(SlaError::NotSuspended));
    }

    #[test]
    fn default_profiles_match_the_law() {
        let sla = SlaConfig::default();
        let due = |c| sla.profile(c).unwrap().due_after.0;
        assert_eq!(due(SlaClass::TrustedNotice), Duration::hours(24));
        assert_eq!(due(SlaClass::Notice), Duration::hours(48));
        assert_eq!(due(SlaClass::HashMatch), Duration::hours(24));
        assert_eq!(due(SlaClass::Complaint), Duration::days(14));
        assert_eq!(due(SlaClass::AuRemovalNotice), Duration::hours(24));
        assert_eq!(
            sla.start(SlaClass::NetzdgManifest, T0),
            Err(SlaError::Disabled(SlaClass::NetzdgManifest))
        );
    }

    #[test]
    fn config_parses_spans_fills_defaults_and_rejects_late_escalations() {
        let json = r#"{"notice":{"enabled":true,"due_after":"36h"},
                       "netzdg_manifest":{"enabled":true,"due_after":"1d","escalate_after":["20h"]}}"#;
        let sla: SlaConfig = serde_json::from_str(json).unwrap();
        let sla = sla.validated().unwrap();
        assert_eq!(
            sla.profile(SlaClass::Notice).unwrap().due_after.0,
            Duration::hours(36)
        );
        assert!(sla.profile(SlaClass::NetzdgManifest).is_ok());
        assert_eq!(
            sla.profile(SlaClass::RemovalOrder).unwrap().due_after.0,
            Duration::hours(1)
        );
        let bad = r#"{"notice":{"enabled":true,"due_after":"1h","escalate_after":["1h"]}}"#;
        let sla: SlaConfig = serde_json::from_str(bad).unwrap();
        assert!(matches!(
            sla.validated(),
            Err(SlaError::EscalationAfterDeadline(SlaClass::Notice, _))
        ));
        let unknown = r#"{"notice":{"enabled":true,"due_after":"1h","colour":"red"}}"#;
        assert!(serde_json::from_str::<SlaConfig>(unknown).is_err());
        assert!("12x".parse::<Span>().is_err());
        assert!("".parse::<Span>().is_err());
        assert_eq!("90m".parse::<Span>().unwrap().to_string(), "90m");
        assert_eq!("14d".parse::<Span>().unwrap().to_string(), "2w");
    }

    #[test]
    fn embargo_42_days_then_one_extension_to_84() {
        let mut e = Embargo::new(T0);
        assert!(e.active(T0 + Duration::days(42) - secs(1)));
        assert!(!e.active(T0 + Duration::days(42)));
        e.extend().unwrap();
        assert!(e.active(T0 + Duration::days(42)));
        assert!(e.active(T0 + Duration::days(84) - secs(1)));
        assert!(!e.active(T0 + Duration::days(84)));
        assert_eq!(e.extend(), Err(SlaError::EmbargoAlreadyExtended));
        assert_eq!(e.until, T0 + Duration::days(84));
    }

    #[test]
    fn complaint_13_days_23_59_in_time_14_days_not() {
        let sla = SlaConfig::default();
        let at = T0 + Duration::days(13) + Duration::hours(23) + Duration::minutes(59);
        assert!(complaint_in_time(&sla, T0, at).unwrap());
        assert!(!complaint_in_time(&sla, T0, T0 + Duration::days(14)).unwrap());
    }

    #[test]
    fn complaint_window_is_six_calendar_months() {
        let decided = datetime!(2026-08-31 12:00 UTC);
        assert!(complaint_window_open(
            decided,
            datetime!(2027-02-28 11:59 UTC)
        ));
        assert!(!complaint_window_open(
            decided,
            datetime!(2027-02-28 12:00 UTC)
        ));
    }

    #[test]
    fn preservation_six_months_and_legal_holds() {
        let removed = datetime!(2026-01-15 10:00 UTC);
        let mut p = Preservation::new(removed);
        assert_eq!(p.keep_until, datetime!(2026-07-15 10:00 UTC));
        assert!(!p.purge_due(datetime!(2026-07-15 09:59 UTC)));
        assert!(p.purge_due(datetime!(2026-07-15 10:00 UTC)));
        p.holds.push(LegalHold {
            requested_by: "BKA ref 1".into(),
            until: None,
        });
        assert_eq!(p.purge_at(), None);
        assert!(!p.purge_due(datetime!(2030-01-01 00:00 UTC)));
        p.holds[0].until = Some(datetime!(2027-01-01 00:00 UTC));
        assert!(!p.purge_due(datetime!(2026-12-31 23:59 UTC)));
        assert!(p.purge_due(datetime!(2027-01-01 00:00 UTC)));
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(
            add_months(datetime!(2026-08-31 00:00 UTC), 6),
            datetime!(2027-02-28 00:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2027-08-31 00:00 UTC), 6),
            datetime!(2028-02-29 00:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2026-11-30 00:00 UTC), 2),
            datetime!(2027-01-30 00:00 UTC)
        );
    }

    #[test]
    fn timer_round_trips_as_json() {
        let mut timer = SlaConfig::default()
            .start(SlaClass::RemovalOrder, T0)
            .unwrap();
        timer.suspend(T0 + Duration::minutes(3)).unwrap();
        let json = serde_json::to_string(&timer).unwrap();
        assert_eq!(serde_json::from_str::<SlaTimer>(&json).unwrap(), timer);
    }
}

#[cfg(test)]
mod mutation_tests;
