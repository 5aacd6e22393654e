//! Signal values: the hashes computed from media and shared in hash lists.
//!
//! Each value type parses from and formats to the text form the industry exchanges (lowercase
//! hex), so hashes from GIFCT, Tech Against Terrorism or HMA compare equal to ours byte for byte.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a signal value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSignalError {
    /// The text has the wrong number of characters for this signal type.
    #[error("{kind} must be {expected} hex characters, found {found}")]
    Length {
        /// The signal type being parsed.
        kind: &'static str,
        /// The required number of hex characters.
        expected: usize,
        /// The number of characters found.
        found: usize,
    },
    /// The text contains a character outside `0-9a-fA-F`.
    #[error("{kind} has a non-hex character {character:?} at position {position}")]
    NotHex {
        /// The signal type being parsed.
        kind: &'static str,
        /// The offending character.
        character: char,
        /// Its zero-based character position.
        position: usize,
    },
    /// The signal type name is unknown.
    #[error(
        "unknown signal type {0:?} (known: pdq, md5, sha256, sha512, dhash, phash, text_regex, vpdq, url, url_md5, raw_text)"
    )]
    UnknownType(String),
}

fn decode_hex<const N: usize>(kind: &'static str, text: &str) -> Result<[u8; N], ParseSignalError> {
    if text.len() != 2 * N {
        return Err(ParseSignalError::Length {
            kind,
            expected: 2 * N,
            found: text.chars().count(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| {
        let (position, character) = text
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
            .unwrap_or((0, '?'));
        ParseSignalError::NotHex {
            kind,
            character,
            position,
        }
    })?;
    Ok(out)
}

/// A 256-bit PDQ perceptual hash.
///
/// Bit `k` (0..256) is set when DCT coefficient `k` (row-major over the 16×16 block) is above the
/// median. The text form is 64 hex characters of the hash read as a big-endian 256-bit number, so
/// bit 0 is the lowest bit of the last character, as in Meta's reference implementation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash {
    /// The hash as four big-endian 64-bit words: `words[0]` holds bits 255..192.
    pub words: [u64; 4],
}

impl PdqHash {
    /// Number of bits in a PDQ hash.
    pub const BITS: u32 = 256;

    /// The hash whose bits are all zero.
    pub const ZERO: PdqHash = PdqHash { words: [0; 4] };

    /// Builds a hash from its 32 bytes in text (big-endian) order.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut words = [0u64; 4];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        PdqHash { words }
    }

    /// The 32 bytes in text (big-endian) order.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.words) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// Parses 64 hex characters (either case).
    pub fn parse(text: &str) -> Result<Self, ParseSignalError> {
        decode_hex::<32>("pdq", text).map(Self::from_bytes)
    }

    /// Whether PDQ bit `k` (0..256) is set.
    pub fn bit(&self, k: usize) -> bool {
        assert!(k < 256, "PDQ bit index {k} out of range");
        self.words[3 - k / 64] >> (k % 64) & 1 == 1
    }

    /// Sets PDQ bit `k` (0..256).
    pub fn set_bit(&mut self, k: usize) {
        assert!(k < 256, "PDQ bit index {k} out of range");
        self.words[3 - k / 64] |= 1 << (k % 64);
    }

    /// Hamming distance: the number of differing bits (0..=256).
    #[inline]
    pub fn distance(&self, other: &PdqHash) -> u32 {
        (self.words[0] ^ other.words[0]).count_ones()
            + (self.words[1] ^ other.words[1]).count_ones()
            + (self.words[2] ^ other.words[2]).count_ones()
            + (self.words[3] ^ other.words[3]).count_ones()
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in self.words {
            write!(f, "{w:016x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({self})")
    }
}

macro_rules! digest_type {
    ($(#[$doc:meta])* $name:ident, $len:expr, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Parses the lowercase or uppercase hex form.
            pub fn parse(text: &str) -> Result<Self, ParseSignalError> {
                decode_hex::<$len>($kind, text).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseSignalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(
    /// An MD5 digest of a file's bytes, for exact matching.
    Md5Digest, 16, "md5"
);
digest_type!(
    /// A SHA-256 digest of a file's bytes, for exact matching.
    Sha256Digest, 32, "sha256"
);
digest_type!(
    /// A SHA-512 digest of a file's bytes, for exact matching (Tech Against Terrorism shares it).
    Sha512Digest, 64, "sha512"
);

impl FromStr for PdqHash {
    type Err = ParseSignalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PdqHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PdqHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The kinds of signal Takedown computes and matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalType {
    /// PDQ perceptual hash (256 bits), matched by Hamming distance.
    Pdq,
    /// MD5 of the file bytes, matched by equality.
    Md5,
    /// SHA-256 of the file bytes, matched by equality.
    Sha256,
    /// SHA-512 of the file bytes, matched by equality.
    Sha512,
    /// Difference hash (64 bits, `image_hasher` gradient), matched by Hamming distance.
    Dhash,
    /// DCT perceptual hash (64 bits, `image_hasher` mean with DCT), matched by Hamming distance.
    Phash,
    /// A text rule: a regular expression (Rust `regex` syntax) searched for in a post's text
    /// and URLs. Its value is the pattern itself, not hex.
    #[serde(rename = "text_regex")]
    TextRegex,
    /// vPDQ: PDQ hashes of a video's sampled frames, matched as a set (see [`crate::vpdq`]).
    /// Its value is python-threatexchange's signal string, not hex.
    Vpdq,
    /// A URL, matched by equality with a URL in a post's text (pytx's `url`).
    Url,
    /// MD5 of a normalised URL (pytx's `url_md5`, see [`crate::text_signal::url_md5`]).
    #[serde(rename = "url_md5")]
    UrlMd5,
    /// A text matched against a post's whole text, fuzzily (pytx's `raw_text`, see
    /// [`crate::text_signal::RawTextNeedle`]).
    #[serde(rename = "raw_text")]
    RawText,
}

impl SignalType {
    /// Every signal type, in a stable order.
    pub const ALL: [SignalType; 11] = [
        SignalType::Pdq,
        SignalType::Md5,
        SignalType::Sha256,
        SignalType::Sha512,
        SignalType::Dhash,
        SignalType::Phash,
        SignalType::TextRegex,
        SignalType::Vpdq,
        SignalType::Url,
        SignalType::UrlMd5,
        SignalType::RawText,
    ];

    /// Whether values of this type match by Hamming distance (otherwise by equality).
    pub fn is_perceptual(self) -> bool {
        matches!(
            self,
            SignalType::Pdq | SignalType::Dhash | SignalType::Phash
        )
    }

    /// Number of hex characters in a value of this type; `None` for text rules, URLs and
    /// texts, whose values are text, and vPDQ, whose values are lists of frames.
    pub fn hex_len(self) -> Option<usize> {
        match self {
            SignalType::Pdq => Some(64),
            SignalType::Md5 | SignalType::UrlMd5 => Some(32),
            SignalType::Sha256 => Some(64),
            SignalType::Sha512 => Some(128),
            SignalType::Dhash | SignalType::Phash => Some(16),
            SignalType::TextRegex | SignalType::Vpdq | SignalType::Url | SignalType::RawText => {
                None
            }
        }
    }

    /// The lowercase name used in text formats and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalType::Pdq => "pdq",
            SignalType::Md5 => "md5",
            SignalType::Sha256 => "sha256",
            SignalType::Sha512 => "sha512",
            SignalType::Dhash => "dhash",
            SignalType::Phash => "phash",
            SignalType::TextRegex => "text_regex",
            SignalType::Vpdq => "vpdq",
            SignalType::Url => "url",
            SignalType::UrlMd5 => "url_md5",
            SignalType::RawText => "raw_text",
        }
    }
}

impl fmt::Display for SignalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignalType {
    type Err = ParseSignalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignalType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseSignalError::UnknownType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BRIDGE: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";

    #[test]
    fn pdq_round_trips_and_lowercases() {
        let h = PdqHash::parse(&BRIDGE.to_uppercase()).unwrap();
        assert_eq!(h.to_string(), BRIDGE);
        assert_eq!(PdqHash::from_bytes(h.to_bytes()), h);
    }

    #[test]
    fn pdq_bit_zero_is_lowest_bit_of_last_hex_char() {
        let mut h = PdqHash::ZERO;
        h.set_bit(0);
        assert!(h.to_string().ends_with("0001"));
        let mut h = PdqHash::ZERO;
        h.set_bit(255);
        assert!(h.to_string().starts_with("8000"));
        assert!(h.bit(255) && !h.bit(0));
    }

    #[test]
    fn pdq_parse_errors_name_the_problem() {
        assert_eq!(
            PdqHash::parse("abc"),
            Err(ParseSignalError::Length {
                kind: "pdq",
                expected: 64,
                found: 3
            })
        );
        let mut bad = BRIDGE.to_string();
        bad.replace_range(10..11, "g");
        assert_eq!(
            PdqHash::parse(&bad),
            Err(ParseSignalError::NotHex {
                kind: "pdq",
                character: 'g',
                position: 10
            })
        );
    }

    #[test]
    fn digests_parse_and_serde() {
        let md5 = Md5Digest::parse("D41D8CD98F00B204E9800998ECF8427E").unwrap();
        assert_eq!(md5.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        let json = serde_json::to_string(&md5).unwrap();
        assert_eq!(serde_json::from_str::<Md5Digest>(&json).unwrap(), md5);
        assert!(Sha256Digest::parse("d41d8cd98f00b204e9800998ecf8427e").is_err());
    }

    #[test]
    fn signal_type_names() {
        for t in SignalType::ALL {
            assert_eq!(t.as_str().parse::<SignalType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert!("tmk".parse::<SignalType>().is_err());
    }

    proptest! {
        #[test]
        fn distance_is_popcount_of_xor(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let (ha, hb) = (PdqHash::from_bytes(a), PdqHash::from_bytes(b));
            let expected: u32 = a.iter().zip(b.iter()).map(|(x, y)| (x ^ y).count_ones()).sum();
            prop_assert_eq!(ha.distance(&hb), expected);
            prop_assert_eq!(ha.distance(&ha), 0);
            prop_assert_eq!(PdqHash::parse(&ha.to_string()).unwrap(), ha);
        }

        #[test]
        fn bit_numbering_matches_set_bit(k in 0usize..256) {
            let mut h = PdqHash::ZERO;
            h.set_bit(k);
            prop_assert!(h.bit(k));
            prop_assert_eq!(h.count_ones(), 1);
        }
    }
}
