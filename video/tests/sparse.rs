//! Leaving unsampled non-reference pictures out of an H.264 stream must not change a single
//! hash: on every sample video and on generated ones (B-pyramids, no B-frames, open GOPs,
//! repeated headers, 29.97 fps, MKV and MPEG-TS, 10-bit), the thinned decode gives exactly the
//! frames, qualities and timestamps of decoding every frame, and it really did decode fewer.
//! Files it cannot number (raw H.264 without timestamps) or other codecs decode everything.

use std::path::{Path, PathBuf};
use std::process::Command;
use takedown_video::{Decoding, VideoHash, VpdqOptions, hash_file};

fn hash(path: &Path, seconds_per_hash: f64, decode_every_frame: bool) -> VideoHash {
    let options = VpdqOptions {
        seconds_per_hash,
        decode_every_frame,
        ..VpdqOptions::default()
    };
    hash_file(path, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Hashes `path` both ways and checks they agree; returns the thinned run's decoding.
fn agree(path: &Path, seconds_per_hash: f64) -> Decoding {
    let every = hash(path, seconds_per_hash, true);
    assert_eq!(every.decoding, Decoding::Every);
    let thinned = hash(path, seconds_per_hash, false);
    assert!(!every.frames.is_empty());
    assert_eq!(
        thinned.frames,
        every.frames,
        "{} at {seconds_per_hash} s",
        path.display()
    );
    thinned.decoding
}

fn decoded_fewer(decoding: Decoding, what: &str) -> (u64, u64) {
    match decoding {
        Decoding::Sparse { decoded, of } if decoded < of => (decoded, of),
        other => panic!("{what}: expected a thinned decode, got {other:?}"),
    }
}

#[test]
fn every_sample_video_hashes_the_same_thinned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vpdq/videos");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 9);
    let (mut decoded, mut of) = (0, 0);
    for path in &names {
        for seconds in [1.0, 0.5] {
            let (d, o) = decoded_fewer(agree(path, seconds), &path.display().to_string());
            if seconds == 1.0 {
                decoded += d;
                of += o;
            }
        }
    }
    eprintln!("sample videos at 1 s: {decoded} of {of} frames decoded");
}

fn generate(dir: &Path, name: &str, codec_args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x240:rate=30:duration=5")
        .args(codec_args)
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg made {name}");
    out
}

const X264: [&str; 6] = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
];

#[test]
fn generated_h264_streams_hash_the_same_thinned() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 8] = [
        (
            "pyramid-normal.mp4",
            &["-x264-params", "bframes=3:b-pyramid=normal"],
        ),
        (
            "pyramid-strict.mp4",
            &["-x264-params", "bframes=3:b-pyramid=strict"],
        ),
        (
            "no-pyramid-8b.mp4",
            &["-x264-params", "bframes=8:b-pyramid=none:b-adapt=0"],
        ),
        (
            "open-gop.mp4",
            &["-x264-params", "open-gop=1:keyint=40:bframes=3"],
        ),
        (
            "repeat-headers.mkv",
            &["-x264-params", "repeat-headers=1:keyint=20"],
        ),
        ("stream.ts", &["-x264-params", "bframes=2"]),
        (
            "ntsc.mp4",
            &["-r", "30000/1001", "-x264-params", "bframes=3"],
        ),
        (
            "high10.mp4",
            &["-pix_fmt", "yuv420p10le", "-x264-params", "bframes=3"],
        ),
    ];
    for (name, extra) in cases {
        let mut args = X264.to_vec();
        args.extend_from_slice(extra);
        let path = generate(dir.path(), name, &args);
        for seconds in [1.0, 0.3] {
            decoded_fewer(agree(&path, seconds), name);
        }
    }
}

#[test]
fn without_b_frames_nothing_can_be_left_out_and_all_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = X264.to_vec();
    args.extend(["-x264-params", "bframes=0"]);
    let path = generate(dir.path(), "p-only.mp4", &args);
    assert_eq!(
        agree(&path, 1.0),
        Decoding::Sparse {
            decoded: 150,
            of: 150
        }
    );
}

#[test]
fn streams_without_timestamps_and_other_codecs_decode_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = X264.to_vec();
    args.extend(["-x264-params", "bframes=3", "-f", "h264"]);
    let raw = generate(dir.path(), "raw.h264", &args);
    assert_eq!(
        agree(&raw, 1.0),
        Decoding::Every,
        "raw H.264 has no timestamps"
    );
    let mpeg4 = generate(dir.path(), "mpeg4.avi", &["-c:v", "mpeg4", "-bf", "2"]);
    assert_eq!(agree(&mpeg4, 1.0), Decoding::Every, "not H.264");
    // Every frame sampled: nothing to leave out.
    let mp4 = generate(dir.path(), "every.mp4", &X264);
    assert_eq!(agree(&mp4, 0.0), Decoding::Every);
}
