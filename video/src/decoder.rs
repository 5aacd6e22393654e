//! The decoder's command line and what comes back on its pipe.
//!
//! Every FFmpeg run on an untrusted file is built here: the input options (no protocol but
//! `file`, a whitelist of demuxers), the decoding options (threads, no autorotation, one video
//! stream, a filter, raw frames on standard output) and the conversion vPDQ's frames go through;
//! and the frames are read back here, exactly one per expected frame number and each checked
//! against the limits as it comes. [`crate::hash`] (every frame decoded) and the thinned
//! H.264 decode (`sparse`) share them.

use crate::error::VideoError;
use crate::limits::VideoLimits;
use crate::probe::FORMAT_WHITELIST;
use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::path::Path;
use takedown_core::VpdqFrame;
use takedown_matcher::pdq::{PdqHasher, PixelsRef, PreResize};

/// `file:` plus an absolute path, so a name such as `http:x` or `-i` is never read as a URL or
/// an option.
pub(crate) fn file_url(path: &Path) -> Result<OsString, VideoError> {
    let absolute = std::path::absolute(path)?;
    let mut url = OsString::from("file:");
    url.push(absolute.as_os_str());
    Ok(url)
}

/// The input options for an untrusted file: no protocol but `file`, the containers of
/// [`FORMAT_WHITELIST`], ending in `-i URL`.
pub(crate) fn input_args(url: &OsString) -> Vec<OsString> {
    input_args_for(url, FORMAT_WHITELIST, None)
}

/// The same with `formats` the demuxers allowed and, with `forced`, the one used without
/// probing.
pub(crate) fn input_args_for(url: &OsString, formats: &str, forced: Option<&str>) -> Vec<OsString> {
    [
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        formats,
    ]
    .into_iter()
    .chain(forced.into_iter().flat_map(|f| ["-f", f]))
    .map(OsString::from)
    .chain([OsString::from("-i"), url.clone()])
    .collect()
}

/// The decoder's arguments: the stream `stream` of `input` (input options ending in `-i URL`)
/// through the filter `filter` (`-vf GRAPH` or `-filter_script:v FILE`), one decoder thread per
/// `threads`, raw `pix_fmt` frames on standard output.
pub(crate) fn decoder_args(
    mut input: Vec<OsString>,
    stream: usize,
    threads: u32,
    filter: [OsString; 2],
    pix_fmt: &str,
) -> Vec<OsString> {
    input.splice(
        input.len() - 2..input.len() - 2,
        [
            "-threads".into(),
            threads.max(1).to_string(),
            "-noautorotate".into(),
        ]
        .map(OsString::from),
    );
    input.extend(
        [
            "-map".to_string(),
            format!("0:{stream}"),
            "-an".into(),
            "-sn".into(),
            "-dn".into(),
            "-filter_threads".into(),
            "1".into(),
        ]
        .map(OsString::from),
    );
    input.extend(filter);
    input.extend(
        [
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "pipe:1",
        ]
        .map(OsString::from),
    );
    input
}

/// The conversion every hashed frame goes through: the reference's (see [`crate::hash`]).
pub(crate) fn conversion(width: u64, height: u64) -> String {
    format!("scale={width}:{height}:flags=area+accurate_rnd:in_color_matrix=bt601,format=rgb24")
}

/// Which frames the decoder decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    /// Every frame, as the reference does.
    Every,
    /// Only the sampled frames and the pictures they are predicted from (H.264, the
    /// module `sparse`): `decoded` of the stream's `of` frames.
    Sparse {
        /// Frames decoded.
        decoded: u64,
        /// Frames in the stream.
        of: u64,
    },
}

/// Turns the decoder's raw RGB frames into [`VpdqFrame`]s, checking each against the limits.
pub(crate) struct FrameSink<'a> {
    pub width: u64,
    pub height: u64,
    pub frame_rate: f64,
    pub limits: &'a VideoLimits,
}

impl FrameSink<'_> {
    /// Hashes the frames on `out`, the `k`-th being frame number `numbers[k]`, until the
    /// stream or the numbers end.
    pub(crate) fn hash(
        &self,
        out: &mut impl Read,
        numbers: impl Iterator<Item = u64>,
        frames: &mut Vec<VpdqFrame>,
    ) -> Result<(), VideoError> {
        let mut buffer = vec![0u8; (self.width * self.height * 3) as usize];
        let mut hasher = PdqHasher::new();
        for frame_number in numbers {
            if !read_frame(out, &mut buffer)? {
                break;
            }
            if frame_number >= self.limits.max_frames {
                return Err(VideoError::TooManyFrames {
                    limit: self.limits.max_frames,
                });
            }
            let timestamp = VpdqFrame::timestamp_of(frame_number, self.frame_rate);
            if timestamp > self.limits.max_duration_secs {
                return Err(VideoError::DurationTooLong {
                    seconds: timestamp,
                    limit: self.limits.max_duration_secs,
                });
            }
            let pdq = hasher.hash_pixels(
                PixelsRef::Rgb(&buffer),
                self.width as usize,
                self.height as usize,
                PreResize::FullSize,
            );
            frames.push(VpdqFrame {
                frame_number,
                hash: pdq.hash,
                quality: pdq.quality,
                timestamp,
            });
        }
        Ok(())
    }

    /// Hashes one frame per number of `numbers`; `None` when `out` holds fewer frames or more.
    pub(crate) fn hash_exactly(
        &self,
        out: &mut impl Read,
        numbers: &[u64],
    ) -> Result<Option<Vec<VpdqFrame>>, VideoError> {
        let mut frames = Vec::with_capacity(numbers.len());
        self.hash(out, numbers.iter().copied(), &mut frames)?;
        let more = read_frame(out, &mut [0u8; 1])?;
        Ok((frames.len() == numbers.len() && !more).then_some(frames))
    }
}

/// Fills `buffer` with the next frame; `false` at a clean end of stream.
pub(crate) fn read_frame(out: &mut impl Read, buffer: &mut [u8]) -> Result<bool, VideoError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match out.read(&mut buffer[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(VideoError::DecodeFailed(
                    "the decoder stopped in the middle of a frame".into(),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `frames` flat grey RGB frames of 64×48 (the last one cut to `cut` bytes, if given).
    fn raw(frames: usize, cut: Option<usize>) -> Vec<u8> {
        let mut bytes = vec![128u8; frames * 64 * 48 * 3];
        if let Some(cut) = cut {
            bytes.truncate((frames - 1) * 64 * 48 * 3 + cut);
        }
        bytes
    }

    #[test]
    fn exactly_one_frame_per_number_is_hashed() {
        let limits = VideoLimits::default();
        let sink = FrameSink {
            width: 64,
            height: 48,
            frame_rate: 30.0,
            limits: &limits,
        };
        let frames = sink
            .hash_exactly(&mut &raw(3, None)[..], &[0, 30, 60])
            .unwrap()
            .expect("three frames for three numbers");
        let numbers: Vec<(u64, f64)> = frames
            .iter()
            .map(|f| (f.frame_number, f.timestamp))
            .collect();
        assert_eq!(numbers, [(0, 0.0), (30, 1.0), (60, 2.0)]);
        assert_eq!(
            sink.hash_exactly(&mut &raw(4, None)[..], &[0, 30, 60])
                .unwrap(),
            None
        );
        assert_eq!(
            sink.hash_exactly(&mut &raw(2, None)[..], &[0, 30, 60])
                .unwrap(),
            None
        );
        assert_eq!(
            sink.hash_exactly(&mut &raw(3, Some(100))[..], &[0, 30, 60])
                .unwrap_err()
                .code(),
            takedown_core::ErrorCode::DecodeFailed,
            "a frame cut short"
        );
    }

    #[test]
    fn frames_past_the_limits_are_refused_as_they_come() {
        let limits = VideoLimits {
            max_frames: 60,
            max_duration_secs: 1.5,
            ..VideoLimits::default()
        };
        let sink = FrameSink {
            width: 64,
            height: 48,
            frame_rate: 30.0,
            limits: &limits,
        };
        let mut frames = Vec::new();
        let err = sink
            .hash(&mut &raw(3, None)[..], [0, 30, 60].into_iter(), &mut frames)
            .unwrap_err();
        assert_eq!(err.code(), takedown_core::ErrorCode::TooManyFrames);
        assert_eq!(frames.len(), 2);
        let limits = VideoLimits {
            max_duration_secs: 1.5,
            ..VideoLimits::default()
        };
        let sink = FrameSink {
            limits: &limits,
            ..sink
        };
        let mut frames = Vec::new();
        let err = sink
            .hash(&mut &raw(3, None)[..], [0, 30, 60].into_iter(), &mut frames)
            .unwrap_err();
        assert_eq!(err.code(), takedown_core::ErrorCode::DurationTooLong);
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn file_urls_are_absolute() {
        let url = file_url(Path::new("http:evil")).unwrap();
        let text = url.to_string_lossy();
        assert!(text.starts_with("file:/"), "{text}");
        assert!(text.ends_with("/http:evil"), "{text}");
    }
}
