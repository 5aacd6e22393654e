//! Hostile videos, generated here with FFmpeg: each ends in its own error code, never a hang,
//! a crash or a partial result passed off as whole.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use takedown_core::ErrorCode;
use takedown_video::{VideoLimits, VpdqOptions, hash_file};

fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg made {name}");
    out
}

/// A 2 s 64×48 test pattern at 30 fps, moov first so a cut keeps the index.
fn small(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=30:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    args.extend_from_slice(extra);
    ffmpeg(dir, name, &args)
}

fn code(path: &Path, options: &VpdqOptions) -> ErrorCode {
    match hash_file(path, options) {
        Ok(v) => panic!("{} hashed to {} frames", path.display(), v.frames.len()),
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            e.code()
        }
    }
}

#[test]
fn a_good_small_video_hashes_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = small(dir.path(), "ok.mp4", &[]);
    let video = hash_file(&path, &VpdqOptions::default()).unwrap();
    let numbers: Vec<u64> = video.frames.iter().map(|f| f.frame_number).collect();
    assert_eq!(numbers, [0, 30]);
    assert_eq!(video.frames[1].timestamp, 1.0);
    assert_eq!((video.info.width, video.info.height), (64, 48));
}

#[test]
fn corrupt_and_foreign_files_fail_to_decode() {
    let dir = tempfile::tempdir().unwrap();
    let mut junk = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    junk.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, junk).unwrap();
    assert_eq!(
        code(&corrupt, &VpdqOptions::default()),
        ErrorCode::DecodeFailed
    );
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "not a video at all\n").unwrap();
    assert_eq!(
        code(&text, &VpdqOptions::default()),
        ErrorCode::DecodeFailed
    );
}

#[test]
fn truncated_videos_fail_to_decode() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("faststart.mp4", &["-movflags", "+faststart"][..]),
        ("moov-last.mp4", &[][..]),
    ] {
        let path = small(dir.path(), name, extra);
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join(format!("cut-{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let options = VpdqOptions {
            seconds_per_hash: 0.0,
            ..VpdqOptions::default()
        };
        assert_eq!(code(&cut, &options), ErrorCode::DecodeFailed, "{name}");
    }
}

#[test]
fn huge_dimensions_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg(
        dir.path(),
        "wide.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=size=8192x16:rate=1:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    assert_eq!(
        code(&path, &VpdqOptions::default()),
        ErrorCode::DimensionsTooLarge
    );
}

#[test]
fn an_hour_long_video_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg(
        dir.path(),
        "long.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=size=16x16:rate=1:duration=3700",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    assert_eq!(
        code(&path, &VpdqOptions::default()),
        ErrorCode::DurationTooLong
    );
}

#[test]
fn audio_only_has_no_video_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg(
        dir.path(),
        "sound.m4a",
        &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"],
    );
    assert_eq!(
        code(&path, &VpdqOptions::default()),
        ErrorCode::NoVideoStream
    );
}

#[test]
fn frame_count_bytes_and_time_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let path = small(dir.path(), "ok.mp4", &[]);
    let with = |limits: VideoLimits| VpdqOptions {
        seconds_per_hash: 0.0,
        limits,
        ..VpdqOptions::default()
    };
    assert_eq!(
        code(
            &path,
            &with(VideoLimits {
                max_frames: 10,
                ..VideoLimits::default()
            })
        ),
        ErrorCode::TooManyFrames
    );
    assert_eq!(
        code(
            &path,
            &with(VideoLimits {
                max_bytes: 100,
                ..VideoLimits::default()
            })
        ),
        ErrorCode::TooLarge
    );
    assert_eq!(
        code(
            &path,
            &with(VideoLimits {
                wall_time: Duration::from_nanos(1),
                ..VideoLimits::default()
            })
        ),
        ErrorCode::DecodeTimeout
    );
}

#[test]
fn a_playlist_cannot_make_ffmpeg_open_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = small(dir.path(), "ok.mp4", &[]);
    let playlist = dir.path().join("list.mp4");
    std::fs::write(
        &playlist,
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{}\n#EXT-X-ENDLIST\n",
            target.display()
        ),
    )
    .unwrap();
    assert_eq!(
        code(&playlist, &VpdqOptions::default()),
        ErrorCode::DecodeFailed
    );
    let concat = dir.path().join("concat.mp4");
    std::fs::write(
        &concat,
        format!("ffconcat version 1.0\nfile '{}'\n", target.display()),
    )
    .unwrap();
    assert_eq!(
        code(&concat, &VpdqOptions::default()),
        ErrorCode::DecodeFailed
    );
}

#[test]
fn keyframes_are_tiny_grey_frames_on_the_hashed_seconds_under_the_same_limits() {
    use takedown_video::keyframes::{KeyframeOptions, keyframes_file};
    let dir = tempfile::tempdir().unwrap();
    let path = small(dir.path(), "ok.mp4", &[]);
    let kf = keyframes_file(&path, &KeyframeOptions::default()).unwrap();
    // 64×48 fits 24×18; one frame a second on frames 0 and 30, as vPDQ hashes them.
    assert_eq!((kf.width, kf.height), (24, 18));
    assert_eq!(kf.interval_secs, 1.0);
    let seconds: Vec<f64> = kf.frames.iter().map(|f| f.seconds).collect();
    assert_eq!(seconds, [0.0, 1.0]);
    assert!(kf.frames.iter().all(|f| f.luma.len() == 24 * 18));
    // testsrc is colourful: its luma is not one flat value.
    let first = &kf.frames[0].luma;
    assert!(first.iter().max() > first.iter().min());
    // The frame cap keeps the first frames only.
    let one = KeyframeOptions {
        max_frames: 1,
        min_interval_secs: 0.5,
        ..KeyframeOptions::default()
    };
    let capped = keyframes_file(&path, &one).unwrap();
    assert_eq!(capped.frames.len(), 1);
    assert_eq!(capped.interval_secs, 2.0);
    // Hostile input gets the same codes as hashing.
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, b"\0\0\0\x20ftypisom\0\0\x02\0 then junk").unwrap();
    assert_eq!(
        keyframes_file(&corrupt, &KeyframeOptions::default())
            .unwrap_err()
            .code(),
        ErrorCode::DecodeFailed
    );
    let wide = ffmpeg(
        dir.path(),
        "wide.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=size=8192x16:rate=1:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    assert_eq!(
        keyframes_file(&wide, &KeyframeOptions::default())
            .unwrap_err()
            .code(),
        ErrorCode::DimensionsTooLarge
    );
}
