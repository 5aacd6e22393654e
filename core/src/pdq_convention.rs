//! Which PDQ convention a hash was made with.
//!
//! Meta's C++ reference tool resizes an image larger than 512 pixels on a side to exactly
//! 512×512 (nearest neighbour) before hashing; python-threatexchange, HMA and the Java port hash
//! the full-size image. On such images the two give hashes up to tens of bits apart, so a hash
//! is only comparable with hashes of the same convention. Lists record theirs, signals of large
//! images say which one they were computed with, and the matcher compares like with like.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The PDQ pre-resize convention of a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PdqConvention {
    /// Resize to exactly 512×512 by nearest neighbour first, as Meta's C++ tool does (5–8×
    /// cheaper on photos; the default of our own lists and of `takedown hash`).
    #[default]
    Reference,
    /// Hash the full-size image, as python-threatexchange/HMA do (the convention of lists
    /// imported from them, from ThreatExchange and from Tech Against Terrorism).
    FullSize,
}

impl PdqConvention {
    /// The side above which the conventions differ: an image at most this many pixels on
    /// each side hashes the same under both.
    pub const REFERENCE_SIDE: u32 = 512;

    /// The name used in configuration, list metadata and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PdqConvention::Reference => "reference",
            PdqConvention::FullSize => "full_size",
        }
    }

    /// Whether the two conventions give different hashes for an image of this size.
    pub fn conventions_differ(width: u32, height: u32) -> bool {
        width > Self::REFERENCE_SIDE || height > Self::REFERENCE_SIDE
    }
}

impl fmt::Display for PdqConvention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PdqConvention {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reference" => Ok(PdqConvention::Reference),
            "full_size" | "full-size" => Ok(PdqConvention::FullSize),
            _ => Err(format!(
                "PDQ convention {s:?} must be reference (512x512 pre-resize) or full_size"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sizes_decide_whether_they_differ() {
        for c in [PdqConvention::Reference, PdqConvention::FullSize] {
            assert_eq!(c.as_str().parse::<PdqConvention>(), Ok(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        assert_eq!("full-size".parse(), Ok(PdqConvention::FullSize));
        assert!("512".parse::<PdqConvention>().is_err());
        assert!(!PdqConvention::conventions_differ(512, 512));
        assert!(PdqConvention::conventions_differ(513, 10));
        assert!(PdqConvention::conventions_differ(10, 513));
    }
}
