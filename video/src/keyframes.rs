//! Small greyscale keyframes of a video, for the review case's strip of blurred previews.
//!
//! A moderator checking a video match needs to see roughly what is where in the video without
//! seeing any of it in detail, and to see which stretches matched the list. So the evidence
//! store keeps, besides the (encrypted) original, one tiny greyscale frame every few seconds,
//! decoded here by the same bounded FFmpeg child as vPDQ (the same whitelists, probes, caps and
//! time limits) and blurred further by `takedown-evidence`. Frames are picked by frame number as
//! vPDQ picks them (`n % ⌊interval × rate⌋ == 0`), so with an interval of one second each tile
//! sits exactly on a hashed frame and its timestamp is that frame's.

use crate::decoder::{decoder_args, input_args, read_frame};
use crate::error::VideoError;
use crate::hash::{frame_mod, open};
use crate::limits::VideoLimits;
use crate::process;
use std::path::Path;
use takedown_core::VpdqFrame;

/// How to pick and size the keyframes.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyframeOptions {
    /// Seconds between keyframes at least (whole seconds work best: they fall on hashed
    /// frames); a longer video gets a longer interval, so it has at most `max_frames`.
    pub min_interval_secs: f64,
    /// Most keyframes kept.
    pub max_frames: usize,
    /// Longer side of each keyframe, in pixels (the detail the preview can ever show).
    pub side: u32,
    /// Caps for hostile files.
    pub limits: VideoLimits,
}

impl Default for KeyframeOptions {
    /// One frame a second at least, at most 48 frames, 24 px on the longer side.
    fn default() -> Self {
        KeyframeOptions {
            min_interval_secs: 1.0,
            max_frames: 48,
            side: 24,
            limits: VideoLimits::default(),
        }
    }
}

/// One keyframe: 8-bit luma, `width × height`, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyframe {
    /// Its time in the video, in seconds (vPDQ's timestamp of the same frame).
    pub seconds: f64,
    /// The luma bytes.
    pub luma: Vec<u8>,
}

/// The keyframes of a video, all the same size.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyframes {
    /// Width of each frame.
    pub width: u32,
    /// Height of each frame.
    pub height: u32,
    /// Seconds between consecutive frames.
    pub interval_secs: f64,
    /// The frames, in order.
    pub frames: Vec<Keyframe>,
}

/// The interval that keeps a video of `duration` seconds (when known) to `max_frames`: the
/// smallest whole multiple of `min` that does.
pub fn interval_for(duration: Option<f64>, min: f64, max_frames: usize) -> f64 {
    let min = if min.is_finite() && min > 0.0 {
        min
    } else {
        1.0
    };
    match duration {
        Some(d) if d.is_finite() && d > 0.0 => {
            let steps = (d / (min * max_frames.max(1) as f64)).ceil().max(1.0);
            min * steps
        }
        _ => min,
    }
}

/// The size that fits a `width × height` frame into `side` pixels on its longer side.
pub fn fit(width: u64, height: u64, side: u32) -> (u32, u32) {
    let (w, h) = (width.max(1), height.max(1));
    let long = w.max(h);
    let side = u64::from(side.max(1));
    let scale = |a: u64| ((a * side) / long).max(1) as u32;
    (scale(w), scale(h))
}

/// Decodes the keyframes of the video at `path`.
pub fn keyframes_file(path: &Path, options: &KeyframeOptions) -> Result<Keyframes, VideoError> {
    let limits = &options.limits;
    let (url, info, _, bounds) = open(path, limits, false)?;
    let interval = interval_for(info.duration, options.min_interval_secs, options.max_frames);
    let every = frame_mod(interval, info.frame_rate);
    let (width, height) = fit(info.width, info.height, options.side);
    let filter =
        format!("select='not(mod(n\\,{every}))',scale={width}:{height}:flags=area,format=gray");
    let args = decoder_args(
        input_args(&url),
        info.stream_index,
        1,
        ["-vf".into(), filter.into()],
        "gray",
    );
    let mut frames = Vec::new();
    let finished = process::run("ffmpeg", &args, &bounds, |out| {
        let mut buffer = vec![0u8; width as usize * height as usize];
        for k in 0u64.. {
            if !read_frame(out, &mut buffer)? {
                return Ok(());
            }
            let frame_number = k * every;
            if frame_number >= limits.max_frames {
                return Err(VideoError::TooManyFrames {
                    limit: limits.max_frames,
                });
            }
            // A video longer than it said (no duration stated) keeps its first frames only;
            // the rest is still read so the decoder ends normally.
            if frames.len() < options.max_frames.max(1) {
                frames.push(Keyframe {
                    seconds: VpdqFrame::timestamp_of(frame_number, info.frame_rate),
                    luma: buffer.clone(),
                });
            }
        }
        Ok(())
    })?;
    if !finished.status.success() {
        return Err(VideoError::DecodeFailed(finished.message()));
    }
    if frames.is_empty() {
        return Err(VideoError::DecodeFailed("no frame could be decoded".into()));
    }
    Ok(Keyframes {
        width,
        height,
        interval_secs: every as f64 / info.frame_rate,
        frames,
    })
}

/// [`keyframes_file`] of a video held in memory (written to a private temporary file first).
pub fn keyframes_bytes(bytes: &[u8], options: &KeyframeOptions) -> Result<Keyframes, VideoError> {
    let size = bytes.len() as u64;
    if size > options.limits.max_bytes {
        return Err(VideoError::TooLarge {
            size,
            limit: options.limits.max_bytes,
        });
    }
    let mut file = tempfile::Builder::new()
        .prefix("takedown-keyframes-")
        .tempfile()?;
    std::io::Write::write_all(&mut file, bytes)?;
    keyframes_file(file.path(), options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_in_whole_steps_to_keep_the_frame_cap() {
        assert_eq!(interval_for(Some(30.0), 1.0, 48), 1.0);
        assert_eq!(interval_for(Some(48.0), 1.0, 48), 1.0);
        assert_eq!(interval_for(Some(48.5), 1.0, 48), 2.0);
        assert_eq!(interval_for(Some(600.0), 1.0, 48), 13.0);
        assert_eq!(interval_for(None, 2.0, 48), 2.0);
        assert_eq!(interval_for(Some(10.0), 0.0, 48), 1.0);
        assert_eq!(interval_for(Some(f64::NAN), 1.0, 48), 1.0);
    }

    #[test]
    fn frames_fit_the_side_keeping_their_shape() {
        assert_eq!(fit(640, 480, 24), (24, 18));
        assert_eq!(fit(480, 640, 24), (18, 24));
        assert_eq!(fit(8192, 16, 24), (24, 1));
        assert_eq!(fit(10, 10, 24), (24, 24));
    }
}
