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

use crate::decoder::{Decoding, FrameSink, conversion, decoder_args, file_url, input_args};
use crate::error::VideoError;
use crate::limits::VideoLimits;
use crate::probe::{self, Packet, VideoInfo};
use crate::process::{self, Bounds};
use crate::sparse;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::time::Instant;
use takedown_core::VpdqFrame;

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

/// Hashes the video at `path`: one [`VpdqFrame`] per sampled frame.
pub fn hash_file(path: &Path, options: &VpdqOptions) -> Result<VideoHash, VideoError> {
    let limits = &options.limits;
    // The packet list serves only the thinned decode, which needs sampling sparser than every
    // frame; the codec is known only from the probe itself.
    let may_thin = !options.decode_every_frame && options.seconds_per_hash > 0.0;
    let (url, info, packets, bounds) = open(path, limits, may_thin)?;
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
    let sparse = if !may_thin || every == 1 || info.codec != "h264" {
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
}
