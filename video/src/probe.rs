//! What a video file is, as `ffprobe` reads it: its first video stream's size, frame rate and
//! frame count, and the container's duration.
//!
//! The frame rate follows the reference: the stream's average frame rate, or its base rate
//! (`r_frame_rate`) when the average is unknown; zero is an error, since timestamps and frame
//! sampling both divide by it.

use crate::error::VideoError;
use serde::Deserialize;

/// Container demuxers FFmpeg may use on untrusted input. Playlists (HLS, DASH), `concat` and
/// image sequences are left out: they open further files or URLs by name.
pub const FORMAT_WHITELIST: &str = "mov,matroska,avi,flv,mpegts,mpeg,ogg,asf,h264,hevc,m4v,ivf";

/// Facts about a video, before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// The stream's index in the container.
    pub stream_index: usize,
    /// The stream's codec, as FFmpeg names it (`h264`, `hevc`, `vp9`, …).
    pub codec: String,
    /// Frame width in pixels.
    pub width: u64,
    /// Frame height in pixels.
    pub height: u64,
    /// Frames per second (average, or base rate when the average is unknown).
    pub frame_rate: f64,
    /// Duration in seconds, when the container states it.
    pub duration: Option<f64>,
    /// Number of frames, when the container states it.
    pub frames: Option<u64>,
    /// The demuxer's name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format_name: String,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
    #[serde(default)]
    packets: Vec<ListedPacket>,
}

#[derive(Deserialize)]
struct ListedPacket {
    stream_index: usize,
    pts: Option<i64>,
    #[serde(default)]
    flags: String,
}

/// A packet of the video stream as the demuxer reads it (decoding order).
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Presentation timestamp, when the container gives one.
    pub pts: Option<i64>,
    /// The demuxer's flags (`K` keyframe, `D` to be discarded, `C` corrupt).
    pub flags: String,
}

#[derive(Deserialize)]
struct Stream {
    index: usize,
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u64>,
    height: Option<u64>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    nb_frames: Option<String>,
    duration: Option<String>,
    disposition: Option<Disposition>,
}

#[derive(Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<String>,
}

/// `num/den` as a number; `None` when either part is zero or missing.
fn rational(text: Option<&str>) -> Option<f64> {
    let (num, den) = text?.split_once('/')?;
    let (num, den): (f64, f64) = (num.trim().parse().ok()?, den.trim().parse().ok()?);
    (num != 0.0 && den != 0.0 && (num / den).is_finite()).then_some(num / den)
}

fn seconds(text: Option<&str>) -> Option<f64> {
    text?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

/// Reads `ffprobe -of json` output. The first video stream that is not a cover picture is the
/// video.
pub fn parse(json: &str) -> Result<VideoInfo, VideoError> {
    parse_with_packets(json).map(|(info, _)| info)
}

/// Reads `ffprobe -of json` output that also lists packets: the video and its packets.
pub fn parse_with_packets(json: &str) -> Result<(VideoInfo, Vec<Packet>), VideoError> {
    let probe: Probe = serde_json::from_str(json)
        .map_err(|e| VideoError::DecodeFailed(format!("unreadable ffprobe output: {e}")))?;
    let format = probe
        .format
        .ok_or_else(|| VideoError::UnsupportedFormat("ffprobe found no container format".into()))?;
    // A container that lists no stream at all is broken (e.g. an MP4 cut inside its `moov`
    // box); one with only audio streams is a real file without a video.
    if probe.streams.is_empty() {
        return Err(VideoError::DecodeFailed(
            "the container lists no streams (corrupt or truncated)".into(),
        ));
    }
    let stream = probe
        .streams
        .iter()
        .find(|s| {
            s.codec_type.as_deref() == Some("video")
                && s.disposition.as_ref().is_none_or(|d| d.attached_pic == 0)
        })
        .ok_or(VideoError::NoVideoStream)?;
    let (width, height) = match (stream.width, stream.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => {
            return Err(VideoError::DecodeFailed(
                "the video stream has no frame size".into(),
            ));
        }
    };
    let frame_rate = rational(stream.avg_frame_rate.as_deref())
        .or_else(|| rational(stream.r_frame_rate.as_deref()))
        .filter(|r| *r > 0.0)
        .ok_or_else(|| {
            VideoError::InvalidFrameRate(
                stream
                    .avg_frame_rate
                    .clone()
                    .or_else(|| stream.r_frame_rate.clone())
                    .unwrap_or_else(|| "missing".into()),
            )
        })?;
    let duration = seconds(format.duration.as_deref()).or(seconds(stream.duration.as_deref()));
    let video = stream.index;
    let packets = probe
        .packets
        .into_iter()
        .filter(|p| p.stream_index == video)
        .map(|p| Packet {
            pts: p.pts,
            flags: p.flags,
        })
        .collect();
    let info = VideoInfo {
        stream_index: stream.index,
        codec: stream.codec_name.clone().unwrap_or_default(),
        width,
        height,
        frame_rate,
        duration,
        frames: stream.nb_frames.as_deref().and_then(|n| n.parse().ok()),
        format_name: format.format_name.unwrap_or_default(),
    };
    Ok((info, packets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use takedown_core::ErrorCode;

    fn probe(streams: &str) -> String {
        format!(
            r#"{{"streams": [{streams}], "format": {{"format_name": "mov,mp4", "duration": "18.816000"}}}}"#
        )
    }

    #[test]
    fn reads_the_first_video_stream() {
        let json = probe(
            r#"{"index": 0, "codec_type": "audio", "avg_frame_rate": "0/0"},
               {"index": 1, "codec_type": "video", "codec_name": "h264", "width": 480, "height": 720,
                "avg_frame_rate": "30000/1001", "r_frame_rate": "30/1", "nb_frames": "564",
                "disposition": {"attached_pic": 0}}"#,
        );
        let info = parse(&json).unwrap();
        assert_eq!(info.stream_index, 1);
        assert_eq!(info.codec, "h264");
        assert_eq!((info.width, info.height), (480, 720));
        assert_eq!(info.frame_rate, 30000.0 / 1001.0);
        assert_eq!(info.duration, Some(18.816));
        assert_eq!(info.frames, Some(564));
    }

    #[test]
    fn packets_of_the_video_stream_are_kept_in_order() {
        let json = r#"{"packets": [
            {"codec_type": "video", "stream_index": 1, "pts": 0, "flags": "K_"},
            {"codec_type": "audio", "stream_index": 0, "pts": 0, "flags": "K_"},
            {"codec_type": "video", "stream_index": 1, "pts": 1024, "flags": "__"},
            {"codec_type": "video", "stream_index": 1, "flags": "__"}],
          "streams": [{"index": 0, "codec_type": "audio"},
            {"index": 1, "codec_type": "video", "codec_name": "h264", "width": 8, "height": 8,
             "avg_frame_rate": "30/1"}],
          "format": {"format_name": "mov,mp4"}}"#;
        let (info, packets) = parse_with_packets(json).unwrap();
        assert_eq!(info.stream_index, 1);
        let listed: Vec<(Option<i64>, &str)> =
            packets.iter().map(|p| (p.pts, p.flags.as_str())).collect();
        assert_eq!(listed, [(Some(0), "K_"), (Some(1024), "__"), (None, "__")]);
        assert!(parse_with_packets(&probe("")).is_err());
    }

    #[test]
    fn falls_back_to_the_base_rate_and_refuses_zero() {
        let json = probe(
            r#"{"index": 0, "codec_type": "video", "width": 8, "height": 8,
                "avg_frame_rate": "0/0", "r_frame_rate": "25/1"}"#,
        );
        assert_eq!(parse(&json).unwrap().frame_rate, 25.0);
        let json = probe(
            r#"{"index": 0, "codec_type": "video", "width": 8, "height": 8,
                "avg_frame_rate": "0/0", "r_frame_rate": "0/0"}"#,
        );
        assert_eq!(
            parse(&json).unwrap_err().code(),
            ErrorCode::InvalidFrameRate
        );
    }

    #[test]
    fn audio_and_cover_art_are_not_video() {
        let json = probe(
            r#"{"index": 0, "codec_type": "audio"},
               {"index": 1, "codec_type": "video", "width": 600, "height": 600,
                "avg_frame_rate": "0/0", "r_frame_rate": "90000/1",
                "disposition": {"attached_pic": 1}}"#,
        );
        assert_eq!(parse(&json).unwrap_err().code(), ErrorCode::NoVideoStream);
        assert_eq!(
            parse(r#"{"streams": []}"#).unwrap_err().code(),
            ErrorCode::UnsupportedFormat
        );
    }

    #[test]
    fn a_container_without_streams_is_corrupt_not_audio_only() {
        // ffprobe's answer for an MP4 cut inside its `moov` box: a format, no streams.
        assert_eq!(
            parse(&probe("")).unwrap_err().code(),
            ErrorCode::DecodeFailed
        );
    }
}
