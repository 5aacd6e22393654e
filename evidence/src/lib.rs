//! The evidence store: the media moderators verify (TCO Art. 5) and the copies preserved after a
//! removal (Art. 6), kept so that nobody can read, alter or keep them longer than the law allows.
//!
//! - [`keys`]: the AES-256 keyring from `TAKEDOWN_EVIDENCE_KEY` or `TAKEDOWN_EVIDENCE_KEY_FILE`;
//!   each key has a derived id, so old objects stay readable after a rotation.
//! - [`envelope`]: the encrypted object format (AES-256-GCM, key id and content type in the
//!   authenticated header, the object's name bound in as associated data).
//! - [`store`]: content-addressed objects (SHA-256 of the original) on a local directory or
//!   any S3-compatible store through `object_store`; every read is decrypted and re-hashed.
//! - [`preview`]: the small, blurred, greyscale preview the case page shows instead of the
//!   original.
//! - [`retention`]: when evidence must be deleted (six months after removal, holds, the
//!   configurable period for content found not to be terrorist content).
//!
//! The crate knows nothing of cases or Redis: the review engine decides what to capture and
//! when to purge, and records every capture, read and purge in its audit trail.

pub mod envelope;
pub mod keys;
pub mod preview;
pub mod retention;
pub mod store;

pub use keys::{KeyError, Keyring};
pub use store::{EvidenceError, EvidenceStore, Location, Prepared, StoredObject};
