//! vPDQ of a video file, as Meta's reference computes it.
//!
//! The reference decodes every frame, keeps frame `n` (decoding order, from 0) when
//! `n % max(1, ⌊seconds_per_hash × frame_rate⌋) == 0`, converts it to RGB24 with libswscale's
//! area filter and BT.601 coefficients (at native size, or at a requested size), and hashes the
//! frame's float luma with PDQ at that size; the frame's timestamp is `n / frame_rate` in `f32`.
//! Here `ffmpeg` does the decoding, sampling (`select`) and conversion in a bounded child
//! process and writes the kept frames to a pipe; hashing happens in this process.
//!
//! The conversion asks for `accurate_rnd`: the reference's published hashes were made with a
//! libswscale whose YUV→RGB rounding is the accurate one, while Debian 12's FFmpeg 5.1 takes a
//! faster x86 path by default (Meta's own binding built against it agrees with the published
//! hashes on only half the frames, and by up to 22 bits; with `accurate_rnd` ours agree on
//! nearly all frames, within 2 bits; see `video/tests/reference.rs`).

use crate::error::VideoError;
use crate::limits::VideoLimits;
use crate::probe::{self, FORMAT_WHITELIST, Packet, VideoInfo};
use crate::process::{self, Bounds};
use crate::sparse;
use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::time::Instant;
use takedown_core::VpdqFrame;
use takedown_matcher::pdq::{PdqHasher, PixelsRef, PreResize};

/// How to hash a video.
#[derive(Debug, Clone, PartialEq)]
pub struct VpdqOptions {
    /// Seconds between hashed frames; 0 hashes every frame (HMA and pytx use 1).
    pub seconds_per_hash: f64,
    /// Scale frames to this width and height before hashing instead of native size.
    pub resize: Option<(u32, u32)>,
    /// Decoder threads in the child process (1: one core per video).
    pub threads: u32,
    /// Decode every frame, as the reference does, even where leaving out unsampled
    /// non-reference pictures gives the same hashes for less work (H.264; see [`Decoding`]).
    pub decode_every_frame: bool,
    /// Caps for hostile files.
    pub limits: VideoLimits,
}

impl Default for VpdqOptions {
    fn default() -> Self {
        VpdqOptions {
            seconds_per_hash: 1.0,
            resize: None,
            threads: 1,
            decode_every_frame: false,
            limits: VideoLimits::default(),
        }
    }
}

/// A video's vPDQ with what was learnt about the file.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoHash {
    /// The probed stream.
    pub info: VideoInfo,
    /// One entry per hashed frame, in order.
    pub frames: Vec<VpdqFrame>,
    /// How much of the stream was decoded to get them.
    pub decoding: Decoding,
}

/// Every `frame_mod`-th frame is hashed (the reference's `⌊seconds × rate⌋`, at least 1).
pub fn frame_mod(seconds_per_hash: f64, frame_rate: f64) -> u64 {
    let m = (seconds_per_hash * frame_rate) as i64;
    if m <= 0 { 1 } else { m as u64 }
}

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

/// Most bytes read of `ffprobe`'s answer without packets, and with them (a packet is about 50
/// bytes: 216,000 video frames and an audio track stay well under it).
const PROBE_BYTES: u64 = 1 << 20;
const LISTING_BYTES: u64 = 48 << 20;

/// `ffprobe`'s facts about the file; with `packets`, also the video stream's packets.
fn probe(
    url: &OsString,
    bounds: &Bounds,
    packets: bool,
) -> Result<(VideoInfo, Vec<Packet>), VideoError> {
    let mut entries = String::from(
        "stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,\
         duration:stream_disposition=attached_pic:format=format_name,duration",
    );
    if packets {
        entries.push_str(":packet=stream_index,pts,flags");
    }
    let mut args = input_args(url);
    args.splice(
        args.len() - 2..args.len() - 2,
        ["-show_entries", &entries, "-of", "json=c=1"].map(OsString::from),
    );
    args.retain(|a| a != "-nostdin");
    let cap = if packets { LISTING_BYTES } else { PROBE_BYTES };
    let mut json = Vec::new();
    let finished = process::run("ffprobe", &args, bounds, |out| {
        out.take(cap).read_to_end(&mut json)?;
        Ok(())
    })?;
    if json.len() as u64 >= cap {
        return Err(VideoError::DecodeFailed(format!(
            "ffprobe's description of the file is over {cap} bytes"
        )));
    }
    if !finished.status.success() {
        // Not media, a container outside the whitelist, or one too damaged to read.
        return Err(VideoError::DecodeFailed(finished.message()));
    }
    probe::parse_with_packets(&String::from_utf8_lossy(&json))
}

fn check_limits(info: &VideoInfo, limits: &VideoLimits) -> Result<(), VideoError> {
    if info.width > limits.max_width
        || info.height > limits.max_height
        || info.width.saturating_mul(info.height) > limits.max_pixels
    {
        return Err(VideoError::DimensionsTooLarge {
            width: info.width,
            height: info.height,
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        });
    }
    if let Some(seconds) = info.duration
        && seconds > limits.max_duration_secs
    {
        return Err(VideoError::DurationTooLong {
            seconds,
            limit: limits.max_duration_secs,
        });
    }
    if let Some(frames) = info.frames
        && frames > limits.max_frames
    {
        return Err(VideoError::TooManyFrames {
            limit: limits.max_frames,
        });
    }
    Ok(())
}

/// Checks the file's size, probes it and checks the container's statements against `limits`:
/// what every decoding run does first. Returns the input URL, the stream, its packets when
/// `packets` asks for them (else none) and the bounds the decoder then runs under (the
/// wall-clock deadline counts from here).
pub(crate) fn open(
    path: &Path,
    limits: &VideoLimits,
    packets: bool,
) -> Result<(OsString, VideoInfo, Vec<Packet>, Bounds), VideoError> {
    let bounds = Bounds {
        cpu_seconds: limits.cpu_seconds,
        memory_bytes: limits.memory_bytes,
        deadline: Instant::now() + limits.wall_time,
    };
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_bytes {
        return Err(VideoError::TooLarge {
            size,
            limit: limits.max_bytes,
        });
    }
    let url = file_url(path)?;
    let (info, packets) = probe(&url, &bounds, packets)?;
    check_limits(&info, limits)?;
    if packets.len() as u64 > limits.max_frames {
        return Err(VideoError::TooManyFrames {
            limit: limits.max_frames,
        });
    }
    Ok((url, info, packets, bounds))
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

/// The conversion every hashed frame goes through: the reference's (see the module comment).
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
}

impl FrameSink<'_> {
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

/// Hashes the video at `path`: one [`VpdqFrame`] per sampled frame.
pub fn hash_file(path: &Path, options: &VpdqOptions) -> Result<VideoHash, VideoError> {
    let limits = &options.limits;
    let (url, info, packets, bounds) = open(path, limits, true)?;
    let (width, height) = options
        .resize
        .map(|(w, h)| (u64::from(w), u64::from(h)))
        .unwrap_or((info.width, info.height));
    let sink = FrameSink {
        width,
        height,
        frame_rate: info.frame_rate,
        limits,
    };
    let every = frame_mod(options.seconds_per_hash, info.frame_rate);
    let sparse = if options.decode_every_frame || every == 1 || info.codec != "h264" {
        None
    } else {
        sparse::hash(
            &url,
            &info,
            &packets,
            every,
            &sink,
            options.threads,
            &bounds,
        )?
    };
    let (frames, decoding) = match sparse {
        Some(done) => done,
        None => {
            let filter = format!(
                "select='not(mod(n\\,{every}))',{}",
                conversion(width, height)
            );
            let args = decoder_args(
                input_args(&url),
                info.stream_index,
                options.threads,
                ["-vf".into(), filter.into()],
                "rgb24",
            );
            let mut frames = Vec::new();
            let finished = process::run("ffmpeg", &args, &bounds, |out| {
                sink.hash(out, (0u64..).map(|k| k * every), &mut frames)
            })?;
            if !finished.status.success() {
                return Err(VideoError::DecodeFailed(finished.message()));
            }
            (frames, Decoding::Every)
        }
    };
    if frames.is_empty() {
        return Err(VideoError::DecodeFailed("no frame could be decoded".into()));
    }
    if let Some(announced) = info.frames {
        // Fewer than 90 % of the frames the container announces: the file was cut short.
        let expected = announced.div_ceil(every);
        if (frames.len() as u64) * 10 < expected * 9 {
            return Err(VideoError::DecodeFailed(format!(
                "truncated: {} of {expected} sampled frames decoded",
                frames.len()
            )));
        }
    }
    Ok(VideoHash {
        info,
        frames,
        decoding,
    })
}

/// Hashes a video held in memory (a fetched post's media): it is written to a private temporary
/// file first, since MP4s with their index at the end cannot be read from a pipe.
pub fn hash_bytes(bytes: &[u8], options: &VpdqOptions) -> Result<VideoHash, VideoError> {
    let size = bytes.len() as u64;
    if size > options.limits.max_bytes {
        return Err(VideoError::TooLarge {
            size,
            limit: options.limits.max_bytes,
        });
    }
    let mut file = tempfile::Builder::new()
        .prefix("takedown-video-")
        .tempfile()?;
    std::io::Write::write_all(&mut file, bytes)?;
    hash_file(file.path(), options)
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

    #[test]
    fn frame_mod_is_the_references() {
        assert_eq!(frame_mod(1.0, 30.0), 30);
        assert_eq!(frame_mod(1.0, 29.97), 29);
        assert_eq!(frame_mod(0.0, 30.0), 1);
        assert_eq!(frame_mod(0.01, 30.0), 1);
        assert_eq!(frame_mod(2.5, 24.0), 60);
    }

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
