//! Shared vocabulary of Takedown.
//!
//! Every stage speaks about the same things: hashes of media (signals), the kinds of signal, and
//! the stable error codes that dead-letter records, audit logs and API clients rely on. They live
//! here, free of I/O, so that the behaviour crates agree on one parse and one format for each.

pub mod clock;
pub mod error_code;
pub mod messages;
pub mod pdq_convention;
pub mod signal;
pub mod text_signal;
pub mod vpdq;

pub use error_code::ErrorCode;
pub use pdq_convention::PdqConvention;
pub use signal::{Md5Digest, ParseSignalError, PdqHash, Sha256Digest, Sha512Digest, SignalType};
pub use vpdq::VpdqFrame;
