//! Stable error codes.
//!
//! Codes are part of the public contract: they appear in `takedown hash` output, in dead-letter
//! headers and in API responses, so clients can act on them without parsing messages. A code, once
//! published, keeps its meaning; new failure kinds get new codes.

use serde::{Deserialize, Serialize};

/// A machine-readable failure kind, serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input could not be read (missing file, permission, I/O error).
    Io,
    /// The input is larger than the configured byte cap.
    TooLarge,
    /// The image's dimensions or decoded size exceed the configured limits (decompression bomb).
    DimensionsTooLarge,
    /// The image format is not recognised or not supported.
    UnsupportedFormat,
    /// The image data is malformed or truncated.
    DecodeFailed,
    /// An animation has more frames than allowed.
    TooManyFrames,
    /// A text field (hash, id) is malformed.
    InvalidValue,
    /// A Kafka message is not valid JSON of its schema (a field is missing or wrong).
    InvalidMessage,
    /// Media could not be fetched (refused address, HTTP error, timeout).
    FetchFailed,
    /// A media URL points at an address that is not allowed (loopback, private, metadata…).
    FetchForbidden,
    /// A media file has no video stream (audio only, or not a video at all).
    NoVideoStream,
    /// A video's frame rate is zero or missing, so frames have no timestamps.
    InvalidFrameRate,
    /// A video is longer than the configured duration cap.
    DurationTooLong,
    /// Decoding took longer than its wall-clock or CPU-time budget and was stopped.
    DecodeTimeout,
    /// The external decoder (FFmpeg) is missing or could not be started.
    DecoderUnavailable,
}

impl ErrorCode {
    /// The code as it is written in records and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "io",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::DimensionsTooLarge => "dimensions_too_large",
            ErrorCode::UnsupportedFormat => "unsupported_format",
            ErrorCode::DecodeFailed => "decode_failed",
            ErrorCode::TooManyFrames => "too_many_frames",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::FetchFailed => "fetch_failed",
            ErrorCode::FetchForbidden => "fetch_forbidden",
            ErrorCode::NoVideoStream => "no_video_stream",
            ErrorCode::InvalidFrameRate => "invalid_frame_rate",
            ErrorCode::DurationTooLong => "duration_too_long",
            ErrorCode::DecodeTimeout => "decode_timeout",
            ErrorCode::DecoderUnavailable => "decoder_unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_matches_as_str() {
        for code in [
            ErrorCode::Io,
            ErrorCode::TooLarge,
            ErrorCode::DimensionsTooLarge,
            ErrorCode::UnsupportedFormat,
            ErrorCode::DecodeFailed,
            ErrorCode::TooManyFrames,
            ErrorCode::InvalidValue,
            ErrorCode::InvalidMessage,
            ErrorCode::FetchFailed,
            ErrorCode::FetchForbidden,
            ErrorCode::NoVideoStream,
            ErrorCode::InvalidFrameRate,
            ErrorCode::DurationTooLong,
            ErrorCode::DecodeTimeout,
            ErrorCode::DecoderUnavailable,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
