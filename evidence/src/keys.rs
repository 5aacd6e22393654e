//! The keyring that encrypts evidence at rest.
//!
//! Keys are 32 random bytes written as 64 hex digits, given in `TAKEDOWN_EVIDENCE_KEY` or in
//! the file `TAKEDOWN_EVIDENCE_KEY_FILE` names (a mounted Kubernetes secret): never on the
//! command line. Several keys may be given, separated by whitespace or commas: the first
//! encrypts new objects, the others only decrypt objects written before a rotation. Each key's
//! id is derived from the key itself (the first 8 bytes of a domain-separated SHA-256), so
//! objects name the key they need without anyone having to invent names. A missing key is an
//! error: there is no plaintext mode.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The variable holding the key(s) directly.
pub const KEY_ENV: &str = "TAKEDOWN_EVIDENCE_KEY";
/// The variable naming a file holding the key(s).
pub const KEY_FILE_ENV: &str = "TAKEDOWN_EVIDENCE_KEY_FILE";

/// The id of a key, stored in every object it encrypted.
pub type KeyId = [u8; 8];

/// Why the keyring could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Neither variable is set.
    #[error(
        "no evidence key: set {KEY_ENV} (64 hex digits) or {KEY_FILE_ENV} (a file holding them); \
         evidence is never stored unencrypted"
    )]
    Missing,
    /// Both variables are set, so which one counts would be a guess.
    #[error("set only one of {KEY_ENV} and {KEY_FILE_ENV}")]
    Ambiguous,
    /// The key file cannot be read.
    #[error("reading {KEY_FILE_ENV} {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A key is not 64 hex digits (its position is 1-based; the key is never echoed).
    #[error("evidence key {position} is not 64 hex digits (32 bytes)")]
    Malformed {
        /// Which key of the list.
        position: usize,
    },
    /// The same key is listed twice.
    #[error("evidence key {position} repeats an earlier key")]
    Duplicate {
        /// Which key of the list.
        position: usize,
    },
}

/// The keys: the first encrypts, all decrypt.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(KeyId, Zeroizing<[u8; 32]>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|(id, _)| hex::encode(id)).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

/// The id of `key`.
pub fn key_id(key: &[u8; 32]) -> KeyId {
    let mut h = Sha256::new();
    h.update(b"takedown-evidence-key-id\0");
    h.update(key);
    let d = h.finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

impl Keyring {
    /// Parses one or more 64-hex-digit keys separated by whitespace or commas.
    pub fn parse(text: &str) -> Result<Keyring, KeyError> {
        let mut keys: Vec<(KeyId, Zeroizing<[u8; 32]>)> = Vec::new();
        let parts = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|p| !p.is_empty());
        for (i, part) in parts.enumerate() {
            let mut key = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(part, &mut key[..])
                .map_err(|_| KeyError::Malformed { position: i + 1 })?;
            let id = key_id(&key);
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(KeyError::Duplicate { position: i + 1 });
            }
            keys.push((id, key));
        }
        if keys.is_empty() {
            return Err(KeyError::Missing);
        }
        Ok(Keyring { keys })
    }

    /// Loads the keyring from [`KEY_ENV`] or the file [`KEY_FILE_ENV`] names.
    pub fn from_env() -> Result<Keyring, KeyError> {
        Self::from_vars(
            std::env::var(KEY_ENV).ok(),
            std::env::var(KEY_FILE_ENV).ok(),
        )
    }

    /// [`Keyring::from_env`] over given values (for tests and callers with their own source).
    pub fn from_vars(key: Option<String>, file: Option<String>) -> Result<Keyring, KeyError> {
        match (
            key.filter(|k| !k.trim().is_empty()),
            file.filter(|f| !f.is_empty()),
        ) {
            (Some(_), Some(_)) => Err(KeyError::Ambiguous),
            (Some(k), None) => Keyring::parse(&k),
            (None, Some(path)) => {
                let text =
                    Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| KeyError::File {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?);
                Keyring::parse(&text)
            }
            (None, None) => Err(KeyError::Missing),
        }
    }

    /// A keyring of one fresh random key (tests, benchmarks, the demo).
    pub fn random() -> Keyring {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut key[..]);
        Keyring {
            keys: vec![(key_id(&key), key)],
        }
    }

    /// The key new objects are encrypted with, and its id.
    pub fn current(&self) -> (KeyId, &[u8; 32]) {
        let (id, key) = &self.keys[0];
        (*id, &**key)
    }

    /// The key with id `id`, if this keyring has it.
    pub fn get(&self, id: &KeyId) -> Option<&[u8; 32]> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, key)| &**key)
    }

    /// The ids of all keys, current first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|(id, _)| *id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn first_key_is_current_and_all_decrypt() {
        let ring = Keyring::parse(&format!("{B},\n{A}\n")).unwrap();
        let b: [u8; 32] = hex::decode(B).unwrap().try_into().unwrap();
        let a: [u8; 32] = hex::decode(A).unwrap().try_into().unwrap();
        assert_eq!(ring.current().1, &b);
        assert_eq!(ring.get(&key_id(&a)), Some(&a));
        assert_eq!(ring.ids().len(), 2);
        assert_ne!(key_id(&a), key_id(&b));
    }

    #[test]
    fn bad_keys_are_named_by_position_never_echoed() {
        let short = &A[..62];
        let e = Keyring::parse(&format!("{A} {short}")).unwrap_err();
        assert_eq!(e, KeyError::Malformed { position: 2 });
        assert!(!e.to_string().contains(short));
        assert_eq!(
            Keyring::parse(&format!("{A} {A}")).unwrap_err(),
            KeyError::Duplicate { position: 2 }
        );
        let upper = A.replace('a', "g");
        assert!(Keyring::parse(&upper).is_err());
    }

    #[test]
    fn missing_or_ambiguous_configuration_is_an_error() {
        assert_eq!(
            Keyring::from_vars(None, None).unwrap_err(),
            KeyError::Missing
        );
        assert_eq!(
            Keyring::from_vars(Some("  ".into()), None).unwrap_err(),
            KeyError::Missing
        );
        assert_eq!(
            Keyring::from_vars(Some(A.into()), Some("/k".into())).unwrap_err(),
            KeyError::Ambiguous
        );
        assert!(matches!(
            Keyring::from_vars(None, Some("/nonexistent/key".into())).unwrap_err(),
            KeyError::File { .. }
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{A}\n")).unwrap();
        let ring = Keyring::from_vars(None, Some(path.display().to_string())).unwrap();
        assert_eq!(ring.ids().len(), 1);
    }

    #[test]
    fn debug_shows_ids_not_keys() {
        let ring = Keyring::parse(A).unwrap();
        let text = format!("{ring:?}");
        assert!(!text.contains(A));
        assert!(text.contains(&hex::encode(ring.current().0)));
    }
}
