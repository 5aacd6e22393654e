//! The format of an encrypted evidence object.
//!
//! ```text
//! "TDEV" | version (1) | key id (8) | nonce (12) | content-type length (1) | content type
//!        | AES-256-GCM ciphertext with its 16-byte tag
//! ```
//!
//! Everything before the ciphertext is authenticated as associated data together with the
//! object's name, so a header edited by hand, or a valid object copied under another name
//! (another case's hash), fails to open. The nonce is random per object (96 bits; far below
//! the 2³² messages per key where random nonces become a concern).

use crate::keys::{KeyId, Keyring};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

const MAGIC: &[u8; 4] = b"TDEV";
const VERSION: u8 = 1;
const FIXED: usize = 4 + 1 + 8 + 12 + 1;

/// Why an object could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not an evidence object of a known version.
    #[error("not an evidence object (bad header)")]
    Header,
    /// The object was encrypted with a key this keyring lacks.
    #[error("object needs evidence key {0}, which is not configured")]
    UnknownKey(String),
    /// Decryption failed: wrong key, altered bytes or the object was moved.
    #[error("object failed authentication (altered, truncated or not this object)")]
    Tampered,
    /// The content type is too long or not printable ASCII.
    #[error("content type must be 1-255 printable ASCII bytes")]
    ContentType,
}

/// An opened object.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The key that had encrypted it.
    pub key_id: KeyId,
    /// The stored content type.
    pub content_type: String,
    /// The plaintext.
    pub bytes: Vec<u8>,
}

fn aad(header: &[u8], name: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(header.len() + name.len());
    a.extend_from_slice(header);
    a.extend_from_slice(name.as_bytes());
    a
}

/// Encrypts `bytes` as the object `name` under the keyring's current key.
pub fn seal(
    keys: &Keyring,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    if content_type.is_empty()
        || content_type.len() > 255
        || !content_type
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) || b == b' ')
    {
        return Err(EnvelopeError::ContentType);
    }
    let (id, key) = keys.current();
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce);
    let mut out = Vec::with_capacity(FIXED + content_type.len() + bytes.len() + 16);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&id);
    out.extend_from_slice(&nonce);
    out.push(content_type.len() as u8);
    out.extend_from_slice(content_type.as_bytes());
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: bytes,
                aad: &aad(&out, name),
            },
        )
        .map_err(|_| EnvelopeError::Tampered)?;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Decrypts the object `name`, checking that it is authentic and that it is `name`.
pub fn open(keys: &Keyring, name: &str, object: &[u8]) -> Result<Opened, EnvelopeError> {
    if object.len() < FIXED || &object[..4] != MAGIC || object[4] != VERSION {
        return Err(EnvelopeError::Header);
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&object[5..13]);
    let nonce = &object[13..25];
    let ct_len = object[25] as usize;
    let header_len = FIXED + ct_len;
    if object.len() < header_len + 16 {
        return Err(EnvelopeError::Header);
    }
    let content_type = std::str::from_utf8(&object[FIXED..header_len])
        .map_err(|_| EnvelopeError::Header)?
        .to_string();
    let key = keys
        .get(&key_id)
        .ok_or_else(|| EnvelopeError::UnknownKey(hex::encode(key_id)))?;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    let bytes = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &object[header_len..],
                aad: &aad(&object[..header_len], name),
            },
        )
        .map_err(|_| EnvelopeError::Tampered)?;
    Ok(Opened {
        key_id,
        content_type,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ciphertext_hides_the_plaintext() {
        let keys = Keyring::random();
        let plain = b"the quick brown fox jumps over the lazy dog".repeat(4);
        let sealed = seal(&keys, "originals/ab", "image/png", &plain).unwrap();
        assert!(
            !sealed
                .windows(16)
                .any(|w| plain.windows(16).any(|p| p == w))
        );
        let opened = open(&keys, "originals/ab", &sealed).unwrap();
        assert_eq!(opened.bytes, plain);
        assert_eq!(opened.content_type, "image/png");
        assert_eq!(opened.key_id, keys.current().0);
    }

    #[test]
    fn every_altered_byte_is_refused() {
        let keys = Keyring::random();
        let sealed = seal(&keys, "o", "image/jpeg", b"abcdef").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open(&keys, "o", &bad).is_err(),
                "byte {i} flipped was accepted"
            );
        }
        assert_eq!(
            open(&keys, "o", &sealed[..sealed.len() - 1]),
            Err(EnvelopeError::Tampered)
        );
    }

    #[test]
    fn an_object_moved_to_another_name_is_refused() {
        let keys = Keyring::random();
        let sealed = seal(&keys, "originals/aa", "image/png", b"x").unwrap();
        assert_eq!(
            open(&keys, "originals/bb", &sealed),
            Err(EnvelopeError::Tampered)
        );
    }

    #[test]
    fn other_keys_cannot_open_and_rotation_keeps_old_objects_readable() {
        let old = Keyring::random();
        let sealed = seal(&old, "o", "image/png", b"secret").unwrap();
        let other = Keyring::random();
        assert!(matches!(
            open(&other, "o", &sealed),
            Err(EnvelopeError::UnknownKey(_))
        ));
        let (_, old_key) = old.current();
        let (_, new_key) = other.current();
        let rotated = Keyring::parse(&format!(
            "{} {}",
            hex::encode(new_key),
            hex::encode(old_key)
        ))
        .unwrap();
        assert_eq!(open(&rotated, "o", &sealed).unwrap().bytes, b"secret");
        let fresh = seal(&rotated, "p", "image/png", b"new").unwrap();
        assert!(open(&old, "p", &fresh).is_err());
    }

    #[test]
    fn content_types_are_checked() {
        let keys = Keyring::random();
        assert_eq!(seal(&keys, "o", "", b"x"), Err(EnvelopeError::ContentType));
        assert_eq!(
            seal(&keys, "o", "text/html\n", b"x"),
            Err(EnvelopeError::ContentType)
        );
        assert_eq!(open(&keys, "o", b"TDEV"), Err(EnvelopeError::Header));
    }
}
