//! Reporting periods (`YYYY-MM-DD/YYYY-MM-DD`, both days included, UTC), parsed once at the
//! edge so every report agrees on what "in the period" means.

use std::fmt;
use time::{Date, Month, OffsetDateTime, Time};

/// Why a period is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Nothing given.
    #[error("period: empty; expected FROM/TO as YYYY-MM-DD/YYYY-MM-DD")]
    Empty,
    /// Not two dates separated by `/`.
    #[error("period: {0:?} is not FROM/TO (YYYY-MM-DD/YYYY-MM-DD)")]
    Shape(String),
    /// One side is not a calendar date.
    #[error("period.{side}: {value:?} is not a date YYYY-MM-DD")]
    Date {
        /// `from` or `to`.
        side: &'static str,
        /// What was given.
        value: String,
    },
    /// The end is before the start.
    #[error("period: ends ({to}) before it starts ({from})")]
    Inverted {
        /// Start.
        from: Date,
        /// End.
        to: Date,
    },
    /// A year outside 2000–2099.
    #[error("period: year {0} out of range")]
    Year(i32),
}

/// A reporting period: `from` and `to` are both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
}

fn date(side: &'static str, s: &str) -> Result<Date, PeriodError> {
    let err = || PeriodError::Date {
        side,
        value: s.to_string(),
    };
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, PeriodError> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        part.parse().map_err(|_| err())
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = Month::try_from(m as u8).map_err(|_| err())?;
    Date::from_calendar_date(y as i32, month, d as u8).map_err(|_| err())
}

impl Period {
    /// Parses `YYYY-MM-DD/YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PeriodError::Empty);
        }
        let (a, b) = s
            .split_once('/')
            .ok_or_else(|| PeriodError::Shape(s.to_string()))?;
        let from = date("from", a)?;
        let to = date("to", b)?;
        if to < from {
            return Err(PeriodError::Inverted { from, to });
        }
        Ok(Period { from, to })
    }

    /// A calendar year.
    pub fn year(year: i32) -> Result<Period, PeriodError> {
        if !(2000..=2099).contains(&year) {
            return Err(PeriodError::Year(year));
        }
        let from = Date::from_calendar_date(year, Month::January, 1)
            .map_err(|_| PeriodError::Year(year))?;
        let to = Date::from_calendar_date(year, Month::December, 31)
            .map_err(|_| PeriodError::Year(year))?;
        Ok(Period { from, to })
    }

    /// The first instant of the period.
    pub fn start(&self) -> OffsetDateTime {
        self.from.with_time(Time::MIDNIGHT).assume_utc()
    }

    /// The first instant after the period.
    pub fn end(&self) -> OffsetDateTime {
        self.to.with_time(Time::MIDNIGHT).assume_utc() + time::Duration::days(1)
    }

    /// Whether `t` falls in the period.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        t >= self.start() && t < self.end()
    }

    /// The months (`YYYY-MM`) the period touches, in order.
    pub fn months(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (mut y, mut m) = (self.from.year(), self.from.month() as u8);
        let (ey, em) = (self.to.year(), self.to.month() as u8);
        while (y, m) <= (ey, em) {
            out.push(format!("{y:04}-{m:02}"));
            m += 1;
            if m == 13 {
                m = 1;
                y += 1;
            }
        }
        out
    }
}

/// Formats a date as `YYYY-MM-DD`.
pub fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", ymd(self.from), ymd(self.to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn parses_and_bounds_both_days_inclusive() {
        let p = Period::parse("2026-01-01/2026-06-30").unwrap();
        assert_eq!(p.to_string(), "2026-01-01/2026-06-30");
        assert!(p.contains(datetime!(2026-01-01 00:00 UTC)));
        assert!(p.contains(datetime!(2026-06-30 23:59:59 UTC)));
        assert!(!p.contains(datetime!(2026-07-01 00:00 UTC)));
        assert!(!p.contains(datetime!(2025-12-31 23:59:59 UTC)));
        assert_eq!(p.months().len(), 6);
        assert_eq!(
            Period::parse("2025-12-05/2026-01-02").unwrap().months(),
            ["2025-12", "2026-01"]
        );
        assert_eq!(
            Period::year(2026).unwrap(),
            Period::parse("2026-01-01/2026-12-31").unwrap()
        );
    }

    #[test]
    fn refuses_bad_periods_precisely() {
        assert_eq!(Period::parse(" "), Err(PeriodError::Empty));
        assert_eq!(
            Period::parse("2026-01-01"),
            Err(PeriodError::Shape("2026-01-01".into()))
        );
        assert_eq!(
            Period::parse("2026-02-30/2026-03-01"),
            Err(PeriodError::Date {
                side: "from",
                value: "2026-02-30".into()
            })
        );
        assert_eq!(
            Period::parse("2026-01-01/2026-1-31"),
            Err(PeriodError::Date {
                side: "to",
                value: "2026-1-31".into()
            })
        );
        assert_eq!(
            Period::parse("2026-01-01/+026-01-31"),
            Err(PeriodError::Date {
                side: "to",
                value: "+026-01-31".into()
            })
        );
        assert_eq!(
            Period::parse("2026-03-01/2026-02-28"),
            Err(PeriodError::Inverted {
                from: date!(2026 - 03 - 01),
                to: date!(2026 - 02 - 28)
            })
        );
        assert_eq!(Period::year(1999), Err(PeriodError::Year(1999)));
        // A one-day period is fine.
        assert!(Period::parse("2026-03-01/2026-03-01").is_ok());
    }
}
