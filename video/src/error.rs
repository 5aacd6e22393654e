//! Why a video could not be hashed, each reason with its stable error code.

use takedown_core::ErrorCode;

/// A failure to hash a video.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The file could not be read.
    #[error("cannot read the video: {0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than the byte cap.
    #[error("video is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// FFmpeg or ffprobe is missing or could not be started.
    #[error("cannot run {program}: {message}")]
    DecoderUnavailable {
        /// The program.
        program: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The container is not one FFmpeg may open here, or is not media at all.
    #[error("not a supported video container: {0}")]
    UnsupportedFormat(String),
    /// The file has no video stream (audio only, for example).
    #[error("the file has no video stream")]
    NoVideoStream,
    /// The frame rate is zero or missing.
    #[error("the video's frame rate is {0:?}: frames have no timestamps")]
    InvalidFrameRate(String),
    /// Width or height is beyond the caps.
    #[error(
        "video is {width}×{height}, beyond the limit of {max_width}×{max_height} or {max_pixels} pixels"
    )]
    DimensionsTooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The width cap.
        max_width: u64,
        /// The height cap.
        max_height: u64,
        /// The pixels-per-frame cap.
        max_pixels: u64,
    },
    /// The video is longer than the duration cap.
    #[error("video lasts {seconds:.1} s, more than the limit of {limit:.1} s")]
    DurationTooLong {
        /// The duration found (from the container, or decoded so far).
        seconds: f64,
        /// The cap.
        limit: f64,
    },
    /// More frames were decoded than allowed.
    #[error("video has more than {limit} frames")]
    TooManyFrames {
        /// The cap.
        limit: u64,
    },
    /// Decoding overran its wall-clock or CPU budget and was killed.
    #[error("decoding stopped after exceeding its {budget} budget")]
    Timeout {
        /// `wall-clock` or `CPU-time`.
        budget: &'static str,
    },
    /// The stream is malformed, or ended before the frames its container announced.
    #[error("video cannot be decoded: {0}")]
    DecodeFailed(String),
}

impl VideoError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            VideoError::Io(_) => ErrorCode::Io,
            VideoError::TooLarge { .. } => ErrorCode::TooLarge,
            VideoError::DecoderUnavailable { .. } => ErrorCode::DecoderUnavailable,
            VideoError::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            VideoError::NoVideoStream => ErrorCode::NoVideoStream,
            VideoError::InvalidFrameRate(_) => ErrorCode::InvalidFrameRate,
            VideoError::DimensionsTooLarge { .. } => ErrorCode::DimensionsTooLarge,
            VideoError::DurationTooLong { .. } => ErrorCode::DurationTooLong,
            VideoError::TooManyFrames { .. } => ErrorCode::TooManyFrames,
            VideoError::Timeout { .. } => ErrorCode::DecodeTimeout,
            VideoError::DecodeFailed(_) => ErrorCode::DecodeFailed,
        }
    }
}
