//! The order of source checkpoints.
//!
//! A sync commits each page with the source's checkpoint after it and never lets the stored
//! one move backwards (a replayed or stale page must not undo newer changes). Sources write
//! checkpoints their own way: a number (a file's modification time), a Tech Against Terrorism
//! `<timestamp>,<id>` pair (`1704085200,124`), a file name. Compared as text, `…,124` would
//! come before `…,99`; so a checkpoint is compared part by part (split at commas), numerically
//! where both parts are numbers, as text otherwise, and a checkpoint that is a prefix of
//! another comes first. The commit script in `store/writer.rs` applies the same rule inside
//! Redis.

use std::cmp::Ordering;

/// How checkpoint `a` orders against checkpoint `b`.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (a.split(','), b.split(','));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (number(x), number(y)) {
                    (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Whether `offered` is older than `stored` (committing it would move the checkpoint back).
pub fn is_backwards(offered: &str, stored: &str) -> bool {
    compare(offered, stored) == Ordering::Less
}

/// A checkpoint part as a number, as Lua's `tonumber` reads decimal text.
fn number(part: &str) -> Option<f64> {
    let t = part.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn parts_compare_numerically_where_both_are_numbers() {
        assert_eq!(compare("1704085200,124", "1704085200,99"), Greater);
        assert_eq!(compare("1704085200,99", "1704085200,124"), Less);
        assert_eq!(compare("1704085199.5,500", "1704085200,1"), Less);
        assert_eq!(compare("99", "124"), Less);
        assert_eq!(compare("124", "124"), Equal);
        assert_eq!(compare("1.0", "1"), Equal, "the same number");
        assert_eq!(
            compare("17,1", "17"),
            Greater,
            "a longer checkpoint comes after its prefix"
        );
        assert_eq!(compare("17", "17,1"), Less);
        // Text where a part is not a number (file names of a dir: source).
        assert_eq!(compare("delta-10.json", "delta-9.json"), Less);
        assert_eq!(compare("b", "a"), Greater);
        assert_eq!(
            compare("10", "9x"),
            Less,
            "text order when one is not a number"
        );
        assert_eq!(compare("", "1"), Less);
        assert!(is_backwards("1704085200,99", "1704085200,124"));
        assert!(!is_backwards("1704085200,124", "1704085200,124"));
        assert!(!is_backwards("1704085201,1", "1704085200,124"));
        assert_eq!(number("0x10"), None, "hex is not a decimal number");
        assert_eq!(number("inf"), None);
        assert_eq!(number(" 12 "), Some(12.0));
    }
}
