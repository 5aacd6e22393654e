//! Video media in the ingest stage: a post's media whose bytes are a video container (by
//! content, never by URL or declared type) get vPDQ plus the file digests, instead of the image
//! signals.

use takedown_core::SignalType;
use takedown_core::messages::{ErrorInfo, SignalValue};
use takedown_core::vpdq::to_signal_string;
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};
use takedown_video::VpdqOptions;

/// How the ingest stage hashes videos.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoConfig {
    /// Sampling and caps of vPDQ (HMA's one hash a second by default).
    pub vpdq: VpdqOptions,
}

/// Whether a media item's bytes are a video.
pub fn is_video(bytes: &[u8]) -> bool {
    takedown_video::sniff::is_video(&bytes[..bytes.len().min(512)])
}

/// The signals of a video: vPDQ (pytx's signal string), MD5 and SHA-256 of the file.
/// Blocking: run it on the blocking pool.
pub fn video_signals(
    media_id: &str,
    bytes: &[u8],
    config: &VideoConfig,
) -> Result<Vec<SignalValue>, ErrorInfo> {
    let video = takedown_video::hash_bytes(bytes, &config.vpdq).map_err(|e| ErrorInfo {
        code: e.code(),
        message: format!("media {media_id}: {e}"),
    })?;
    // Digests only: no decoding happens for these two.
    let digests = SignalComputer::new(DecodeLimits::default(), PreResize::Reference)
        .compute(bytes, &[SignalType::Md5, SignalType::Sha256])
        .map_err(|e| ErrorInfo {
            code: e.code(),
            message: format!("media {media_id}: {e}"),
        })?;
    let mut out = vec![SignalValue {
        signal_type: SignalType::Vpdq,
        value: to_signal_string(&video.frames),
        pdq_convention: None,
        pdq_quality: None,
    }];
    out.extend(digests.md5.map(|d| SignalValue {
        signal_type: SignalType::Md5,
        value: d.to_string(),
        pdq_convention: None,
        pdq_quality: None,
    }));
    out.extend(digests.sha256.map(|d| SignalValue {
        signal_type: SignalType::Sha256,
        value: d.to_string(),
        pdq_convention: None,
        pdq_quality: None,
    }));
    Ok(out)
}
