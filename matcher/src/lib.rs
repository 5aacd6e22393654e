//! Signals and matching: what Takedown computes from media and how it finds it in hash lists.
//!
//! This crate is pure computation with no I/O, so every stage (the `takedown hash` command, the
//! ingest consumers, benchmarks) hashes identically and tests run fast and exactly:
//! - [`decode`]: bounded decoding of hostile images;
//! - [`pdq`]: PDQ, bit-for-bit with Meta's reference;
//! - [`perceptual`]: the opt-in `image_hasher` family (dHash, pHash);
//! - [`signals`]: one entry point computing any set of signals from a file's bytes;
//! - [`vpdq`]: video matching over per-frame PDQ hashes (pytx/HMA semantics), pairwise and indexed.

pub mod decode;
pub mod pdq;
pub mod perceptual;
pub mod signals;
pub mod vpdq;

pub use decode::{DecodeError, DecodeLimits, DecodedImage};
pub use pdq::{PdqHasher, PdqOutput, PreResize};
pub use signals::{SignalComputer, Signals};
pub mod index;
