//! The arithmetic every report shares: medians, hours, ratios, and how numbers are written
//! (the Commission wants integers for counts, hours for medians, floats in [0, 1]).

use time::OffsetDateTime;

/// Hours from `from` to `to` (negative spans count as zero).
pub fn hours(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    ((to - from).whole_milliseconds().max(0) as f64) / 3_600_000.0
}

/// The median (mean of the two middle values for an even count), `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// `num / den`, `None` when `den` is zero.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// A float with at most four decimals and no trailing zeros (`0.5`, `2`, `0.3333`); an
/// empty cell for `None`.
pub fn num(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) => {
            let s = format!("{:.4}", v);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" { "0".into() } else { s.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn medians_hours_and_formats() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 10.0]), Some(3.0));
        let a = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(hours(a, datetime!(2026-01-01 00:45 UTC)), 0.75);
        assert_eq!(hours(datetime!(2026-01-01 01:00 UTC), a), 0.0);
        assert_eq!(ratio(1, 3), Some(1.0 / 3.0));
        assert_eq!(ratio(1, 0), None);
        assert_eq!(num(Some(0.75)), "0.75");
        assert_eq!(num(Some(2.0)), "2");
        assert_eq!(num(Some(1.0 / 3.0)), "0.3333");
        assert_eq!(num(Some(0.0)), "0");
        assert_eq!(num(Some(10.0)), "10");
        assert_eq!(num(None), "");
    }
}
