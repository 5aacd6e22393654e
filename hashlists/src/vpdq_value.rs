//! vPDQ entry values: python-threatexchange's signal string, validated and written canonically.
//!
//! A list entry's vPDQ value is the whole video (`["<hex>,<quality>,<seconds>", …]`). It is
//! stored in the form pytx itself writes (lowercase hex, `", "` separators, seconds as Python's
//! `.3` format), so the same video imported twice, or exported and imported again, is one entry.

use takedown_core::vpdq::{parse_signal_string, to_signal_string};

/// Longest vPDQ value accepted, in bytes (about 9,000 frames: 2.5 h at one hash a second).
pub const MAX_VPDQ_LEN: usize = 1 << 20;

/// Parses a vPDQ signal string and returns its canonical form; a video with no frame is refused.
pub(crate) fn canonical(value: &str) -> Result<String, String> {
    if value.len() > MAX_VPDQ_LEN {
        return Err(format!(
            "vpdq value is {} bytes, over the limit of {MAX_VPDQ_LEN}",
            value.len()
        ));
    }
    let frames = parse_signal_string(value).map_err(|e| e.to_string())?;
    if frames.is_empty() {
        return Err("vpdq value has no frame".into());
    }
    Ok(to_signal_string(&frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "E271017837246AACCDDEA259648FB7D62F435C89D9E99B2497763E216C8D055C";

    #[test]
    fn canonical_form_is_pytxs() {
        let value = format!(r#"["{H},100,0.000","{H},90,1.0"]"#);
        assert_eq!(
            canonical(&value).unwrap(),
            format!(
                r#"["{h},100,0.0", "{h},90,1.0"]"#,
                h = H.to_ascii_lowercase()
            )
        );
        assert_eq!(canonical("[]").unwrap_err(), "vpdq value has no frame");
        assert!(
            canonical(&format!(r#"["{H},100"]"#))
                .unwrap_err()
                .contains("item 1")
        );
    }
}
