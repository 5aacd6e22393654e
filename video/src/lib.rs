//! Video signals: vPDQ as Meta's reference computes it, from files nobody should trust.
//!
//! Decoding video is the riskiest thing the pipeline does with hostile input, so it happens in a
//! child process (Debian's `ffmpeg` and `ffprobe`) that can be bounded and killed: no network or
//! nested-file protocols, a whitelist of container formats, CPU-time and memory rlimits
//! (`prlimit`), a wall-clock deadline, and caps on bytes, duration, dimensions and frames checked
//! before and during decoding. Frames come back as raw RGB on a pipe and are hashed here with the
//! crate `takedown-matcher`'s PDQ at native size.
//! - [`limits`]: the caps and their defaults;
//! - [`probe`]: what `ffprobe` says about a file (stream, size, frame rate, duration);
//! - `decoder`: the FFmpeg command lines and the frames read back from them;
//! - [`hash`]: decoding and hashing, the vPDQ of a file;
//! - `sparse`: for H.264, decoding only the sampled frames and the pictures they need;
//! - [`keyframes`]: tiny greyscale frames every few seconds, for the review case's blurred strip;
//! - [`sniff`]: whether bytes look like a video container, from their content;
//! - [`error`]: failures and their stable error codes.

mod decoder;
pub mod error;
pub mod hash;
pub mod keyframes;
pub mod limits;
pub mod probe;
mod process;
pub mod sniff;
mod sparse;

pub use decoder::Decoding;
pub use error::VideoError;
pub use hash::{VideoHash, VpdqOptions, hash_bytes, hash_file};
pub use limits::VideoLimits;
pub use probe::VideoInfo;
