//! vPDQ video hashes: one PDQ hash per sampled frame, and the two text forms they travel in.
//!
//! Video lists (GIFCT, HMA) carry vPDQ as python-threatexchange writes it: a JSON array of
//! `"<pdq hex>,<quality>,<seconds>"` strings, the seconds printed as Python's `f"{t:.3}"` does
//! (three *significant* digits, so `12.0`, `0.0333`, `1.2e+02`). Meta's reference CLI writes one
//! frame a line instead, `frame,quality,hex,seconds` with three decimals. Both are parsed and
//! written here so every crate agrees on one form, byte for byte with the tools that made the
//! lists.

use crate::signal::{ParseSignalError, PdqHash};
use std::fmt::Write as _;

/// One hashed frame of a video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqFrame {
    /// The frame's number in decoding order, from 0 (in a pytx signal string: its position).
    pub frame_number: u64,
    /// PDQ hash of the frame at the video's native size.
    pub hash: PdqHash,
    /// PDQ quality 0..=100; matching ignores frames below 50.
    pub quality: u8,
    /// Seconds from the start: frame number / frame rate, computed in `f32` as the reference does.
    pub timestamp: f64,
}

impl VpdqFrame {
    /// The frame's timestamp as the reference computes it: `f32` frame number over `f32` rate.
    pub fn timestamp_of(frame_number: u64, frame_rate: f64) -> f64 {
        f64::from(frame_number as f32 / frame_rate as f32)
    }
}

/// Why a vPDQ text could not be parsed; line and item numbers are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VpdqParseError {
    /// The signal string is not a JSON array of strings.
    #[error("vpdq signal is not a JSON array of strings: {0}")]
    NotJsonArray(String),
    /// An item or line does not have its fields.
    #[error("vpdq {place} {number}: expected {expected}, found {found:?}")]
    Fields {
        /// `item` (signal string) or `line` (reference file).
        place: &'static str,
        /// Which item or line.
        number: usize,
        /// The expected shape.
        expected: &'static str,
        /// The text found.
        found: String,
    },
    /// A hash is malformed.
    #[error("vpdq {place} {number}: {source}")]
    Hash {
        /// `item` or `line`.
        place: &'static str,
        /// Which item or line.
        number: usize,
        /// The hash's problem.
        source: ParseSignalError,
    },
    /// A number (frame, quality, timestamp) is malformed or out of range.
    #[error("vpdq {place} {number}: invalid {field} {found:?}")]
    Number {
        /// `item` or `line`.
        place: &'static str,
        /// Which item or line.
        number: usize,
        /// `frame`, `quality` or `timestamp`.
        field: &'static str,
        /// The text found.
        found: String,
    },
}

/// Formats seconds as Python's `format(t, ".3")`: three significant digits, general notation
/// with at least one digit after the point, scientific from 100 on (`1e+02`) and below 0.0001.
pub fn python_seconds(t: f64) -> String {
    const P: i32 = 3;
    if t == 0.0 {
        return if t.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    if !t.is_finite() {
        return if t.is_nan() {
            "nan".into()
        } else if t > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    // Rust rounds `{:.2e}` correctly from the exact binary value, as Python does.
    let sci = format!("{:.*e}", (P - 1) as usize, t);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..P - 1).contains(&exp) {
        // Fixed notation: place the point, drop trailing zeros, keep one decimal.
        let (int_part, frac_part) = if exp >= 0 {
            let split = (exp + 1) as usize;
            (digits[..split].to_string(), digits[split..].to_string())
        } else {
            let zeros = "0".repeat((-exp - 1) as usize);
            ("0".to_string(), format!("{zeros}{digits}"))
        };
        let frac = frac_part.trim_end_matches('0');
        let frac = if frac.is_empty() { "0" } else { frac };
        let _ = write!(out, "{int_part}.{frac}");
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = rest.trim_end_matches('0');
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.abs());
    }
    out
}

/// Writes frames as python-threatexchange's vPDQ signal string (`json.dumps` of the list).
pub fn to_signal_string(frames: &[VpdqFrame]) -> String {
    let items: Vec<String> = frames
        .iter()
        .map(|f| format!("{},{},{}", f.hash, f.quality, python_seconds(f.timestamp)))
        .collect();
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item);
        out.push('"');
    }
    out.push(']');
    out
}

fn parse_quality(place: &'static str, number: usize, text: &str) -> Result<u8, VpdqParseError> {
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|q| *q <= 100)
        .ok_or_else(|| VpdqParseError::Number {
            place,
            number,
            field: "quality",
            found: text.to_string(),
        })
}

fn parse_seconds(place: &'static str, number: usize, text: &str) -> Result<f64, VpdqParseError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| VpdqParseError::Number {
            place,
            number,
            field: "timestamp",
            found: text.to_string(),
        })
}

fn parse_hash(place: &'static str, number: usize, text: &str) -> Result<PdqHash, VpdqParseError> {
    PdqHash::parse(text.trim()).map_err(|source| VpdqParseError::Hash {
        place,
        number,
        source,
    })
}

/// Parses a pytx vPDQ signal string; frame numbers are the items' positions. An empty string
/// is an empty video, as in pytx.
pub fn parse_signal_string(text: &str) -> Result<Vec<VpdqFrame>, VpdqParseError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<String> =
        serde_json::from_str(text).map_err(|e| VpdqParseError::NotJsonArray(e.to_string()))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let number = i + 1;
            let parts: Vec<&str> = item.split(',').collect();
            let [hash, quality, seconds] = parts[..] else {
                return Err(VpdqParseError::Fields {
                    place: "item",
                    number,
                    expected: "\"hex,quality,seconds\"",
                    found: item.clone(),
                });
            };
            Ok(VpdqFrame {
                frame_number: i as u64,
                hash: parse_hash("item", number, hash)?,
                quality: parse_quality("item", number, quality)?,
                timestamp: parse_seconds("item", number, seconds)?,
            })
        })
        .collect()
}

/// Writes frames in the reference CLI's file format: `frame,quality,hex,seconds` a line, the
/// seconds with three decimals.
pub fn to_reference_file(frames: &[VpdqFrame]) -> String {
    let mut out = String::new();
    for f in frames {
        let _ = writeln!(
            out,
            "{},{},{},{:.3}",
            f.frame_number, f.quality, f.hash, f.timestamp
        );
    }
    out
}

/// Parses the reference CLI's file format (blank lines are skipped).
pub fn parse_reference_file(text: &str) -> Result<Vec<VpdqFrame>, VpdqParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let number = i + 1;
            let parts: Vec<&str> = line.trim().split(',').collect();
            let [frame, quality, hash, seconds] = parts[..] else {
                return Err(VpdqParseError::Fields {
                    place: "line",
                    number,
                    expected: "frame,quality,hex,seconds",
                    found: line.to_string(),
                });
            };
            let frame_number = frame.parse().map_err(|_| VpdqParseError::Number {
                place: "line",
                number,
                field: "frame",
                found: frame.to_string(),
            })?;
            Ok(VpdqFrame {
                frame_number,
                quality: parse_quality("line", number, quality)?,
                hash: parse_hash("line", number, hash)?,
                timestamp: parse_seconds("line", number, seconds)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c";

    #[test]
    fn seconds_print_as_python_format_point_3() {
        // Expected values printed by CPython 3.11: [f"{x:.3}" for x in ...].
        for (x, expected) in [
            (0.0, "0.0"),
            (1.0, "1.0"),
            (12.0, "12.0"),
            (99.9, "99.9"),
            (99.96, "1e+02"),
            (100.0, "1e+02"),
            (150.0, "1.5e+02"),
            (1234.5, "1.23e+03"),
            (0.0333667, "0.0334"),
            (59.94, "59.9"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (2.5, "2.5"),
            (f64::from(1f32 / 30f32), "0.0333"),
            (f64::from(29f32 / 30f32), "0.967"),
        ] {
            assert_eq!(python_seconds(x), expected, "{x}");
        }
    }

    fn frame(n: u64, q: u8, t: f64) -> VpdqFrame {
        VpdqFrame {
            frame_number: n,
            hash: PdqHash::parse(H).unwrap(),
            quality: q,
            timestamp: t,
        }
    }

    #[test]
    fn signal_string_is_pytx_json() {
        let frames = [frame(0, 100, 0.0), frame(1, 49, 1.0)];
        let s = to_signal_string(&frames);
        assert_eq!(s, format!("[\"{H},100,0.0\", \"{H},49,1.0\"]"));
        assert_eq!(parse_signal_string(&s).unwrap(), frames);
        assert_eq!(parse_signal_string("").unwrap(), vec![]);
    }

    #[test]
    fn signal_string_errors_name_the_item() {
        let err = parse_signal_string(&format!("[\"{H},100,0.0\", \"{H},101,1.0\"]")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "vpdq item 2: invalid quality \"101\"".to_string()
        );
        assert!(matches!(
            parse_signal_string("[\"abc,1\"]"),
            Err(VpdqParseError::Fields { number: 1, .. })
        ));
        assert!(matches!(
            parse_signal_string("{}"),
            Err(VpdqParseError::NotJsonArray(_))
        ));
        assert!(matches!(
            parse_signal_string(&format!("[\"{H},1,-1\"]")),
            Err(VpdqParseError::Number {
                field: "timestamp",
                ..
            })
        ));
    }

    #[test]
    fn reference_file_round_trips() {
        let text = format!("0,100,{H},0.000\n\n30,7,{H},1.001\n");
        let frames = parse_reference_file(&text).unwrap();
        assert_eq!(frames, vec![frame(0, 100, 0.0), frame(30, 7, 1.001)]);
        assert_eq!(
            to_reference_file(&frames),
            format!("0,100,{H},0.000\n30,7,{H},1.001\n")
        );
        let err = parse_reference_file(&format!("0,100,{H},0.000\nx,1,{H},0\n")).unwrap_err();
        assert!(matches!(
            err,
            VpdqParseError::Number {
                number: 2,
                field: "frame",
                ..
            }
        ));
    }
}
