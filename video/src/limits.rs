//! Caps on what one video may cost to hash.
//!
//! Every cap is checked before decoding where the container states it (bytes, dimensions,
//! duration) and enforced during decoding where a file could lie (frames decoded, timestamps,
//! CPU time, memory, wall-clock time), so a hostile file ends in an error code, never a hang.

use std::time::Duration;

/// Limits for hashing one video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Longest video, in seconds (stated by the container, and reached while decoding).
    pub max_duration_secs: f64,
    /// Widest frame.
    pub max_width: u64,
    /// Tallest frame.
    pub max_height: u64,
    /// Most pixels in one frame.
    pub max_pixels: u64,
    /// Most frames decoded (not only those hashed).
    pub max_frames: u64,
    /// Wall-clock budget for probing and decoding together.
    pub wall_time: Duration,
    /// CPU seconds the decoder process may use (`RLIMIT_CPU`).
    pub cpu_seconds: u64,
    /// Address space of the decoder process, in bytes (`RLIMIT_AS`).
    pub memory_bytes: u64,
}

impl Default for VideoLimits {
    /// 512 MiB, 30 minutes, 4096×4096 and 4K UHD pixels, 30 minutes at 120 fps, 5 minutes of
    /// wall-clock and CPU time, 3 GiB of address space.
    fn default() -> Self {
        VideoLimits {
            max_bytes: 512 << 20,
            max_duration_secs: 1800.0,
            max_width: 4096,
            max_height: 4096,
            max_pixels: 3840 * 2160,
            max_frames: 1800 * 120,
            wall_time: Duration::from_secs(300),
            cpu_seconds: 300,
            memory_bytes: 3 << 30,
        }
    }
}
