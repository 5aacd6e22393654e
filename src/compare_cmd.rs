//! `takedown compare A B`: how close two media files, or their hashes, are.
//!
//! For checking a match by hand: two images give their PDQ distance, two videos the vPDQ
//! percentages python-threatexchange and HMA decide on. Each side is a media file (recognised by
//! content) or a hash file: a PDQ hex line, a pytx vPDQ signal string (`[…]`), or the vPDQ
//! reference CLI's `frame,quality,hash,seconds` file.

use anyhow::{Context, bail};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use takedown_core::vpdq::{parse_reference_file, parse_signal_string};
use takedown_core::{PdqHash, SignalType, VpdqFrame};
use takedown_matcher::vpdq::{VpdqThresholds, compare};
use takedown_matcher::{DecodeLimits, PreResize, SignalComputer};
use takedown_video::VpdqOptions;

/// Arguments of `takedown compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The query: an image, a video, or a hash file.
    pub a: PathBuf,
    /// What it is compared with (a list's item): same kinds.
    pub b: PathBuf,
    /// vPDQ: seconds between hashed frames of a video file (0: every frame).
    #[arg(long, default_value_t = 1.0)]
    pub seconds_per_hash: f64,
    /// Frames (and images) below this PDQ quality are ignored.
    #[arg(long, default_value_t = 50)]
    pub quality: u8,
    /// Largest PDQ distance that counts as a match (inclusive).
    #[arg(long, default_value_t = 31)]
    pub distance: u32,
    /// vPDQ: share of A's frames that must match, in percent.
    #[arg(long, default_value_t = 80.0)]
    pub query_match: f64,
    /// vPDQ: share of B's frames that must match, in percent.
    #[arg(long, default_value_t = 0.0)]
    pub compared_match: f64,
}

/// One side of a comparison.
#[derive(Debug)]
enum Side {
    Image { hash: PdqHash, quality: Option<u8> },
    Video(Vec<VpdqFrame>),
}

fn load(path: &Path, seconds_per_hash: f64) -> anyhow::Result<Side> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("open {}", path.display()))?
        .take(512)
        .read_to_end(&mut head)?;
    if takedown_video::sniff::is_video(&head) {
        let options = VpdqOptions {
            seconds_per_hash,
            ..VpdqOptions::default()
        };
        let video = takedown_video::hash_file(path, &options)
            .map_err(|e| anyhow::anyhow!("{}: {e} ({})", path.display(), e.code()))?;
        return Ok(Side::Video(video.frames));
    }
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let trimmed = text.trim();
        if trimmed.starts_with('[') {
            let frames = parse_signal_string(trimmed)
                .with_context(|| format!("{}: vPDQ signal string", path.display()))?;
            return Ok(Side::Video(frames));
        }
        if let Ok(hash) = PdqHash::parse(trimmed) {
            return Ok(Side::Image {
                hash,
                quality: None,
            });
        }
        if trimmed.contains(',') {
            let frames = parse_reference_file(trimmed)
                .with_context(|| format!("{}: vPDQ reference file", path.display()))?;
            return Ok(Side::Video(frames));
        }
    }
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let signals = computer
        .compute(&bytes, &[SignalType::Pdq])
        .map_err(|e| anyhow::anyhow!("{}: {e} ({})", path.display(), e.code()))?;
    let pdq = signals.pdq.context("PDQ was computed")?;
    Ok(Side::Image {
        hash: pdq.hash,
        quality: Some(pdq.quality),
    })
}

/// The JSON verdict of two sides under `thresholds`.
fn verdict(a: &Side, b: &Side, thresholds: &VpdqThresholds) -> anyhow::Result<serde_json::Value> {
    Ok(match (a, b) {
        (
            Side::Image {
                hash: ha,
                quality: qa,
            },
            Side::Image {
                hash: hb,
                quality: qb,
            },
        ) => {
            let distance = ha.distance(hb);
            let usable = [qa, qb]
                .iter()
                .all(|q| q.is_none_or(|q| q >= thresholds.quality));
            json!({
                "kind": "pdq",
                "distance": distance,
                "a_quality": qa,
                "b_quality": qb,
                "match": usable && distance <= thresholds.distance,
            })
        }
        (Side::Video(fa), Side::Video(fb)) => {
            let r = compare(fa, fb, thresholds);
            json!({
                "kind": "vpdq",
                "query_match_percent": r.query_match_percent,
                "compared_match_percent": r.compared_match_percent,
                "a_frames": fa.len(),
                "b_frames": fb.len(),
                "match": r.is_match,
            })
        }
        _ => bail!("one side is an image and the other a video: they cannot be compared"),
    })
}

/// Runs `takedown compare`: prints one JSON object; exit code 0 for a match, 2 for none.
pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let thresholds = VpdqThresholds {
        quality: args.quality,
        distance: args.distance,
        query_match_percent: args.query_match,
        compared_match_percent: args.compared_match,
    };
    let a = load(&args.a, args.seconds_per_hash)?;
    let b = load(&args.b, args.seconds_per_hash)?;
    let out = verdict(&a, &b, &thresholds)?;
    println!("{out}");
    Ok(if out["match"] == json!(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(hashes: &[PdqHash]) -> Vec<VpdqFrame> {
        hashes
            .iter()
            .enumerate()
            .map(|(i, h)| VpdqFrame {
                frame_number: i as u64,
                hash: *h,
                quality: 100,
                timestamp: i as f64,
            })
            .collect()
    }

    #[test]
    fn images_report_distance_and_quality_gate() {
        let mut h = PdqHash::ZERO;
        h.set_bit(3);
        let a = Side::Image {
            hash: PdqHash::ZERO,
            quality: Some(100),
        };
        let b = Side::Image {
            hash: h,
            quality: Some(40),
        };
        let v = verdict(&a, &b, &VpdqThresholds::default()).unwrap();
        assert_eq!(v["distance"], json!(1));
        assert_eq!(v["match"], json!(false), "quality 40 is under the floor");
    }

    #[test]
    fn videos_report_both_percentages() {
        let mut h = PdqHash::ZERO;
        for k in 0..100 {
            h.set_bit(k);
        }
        let a = Side::Video(frames(&[PdqHash::ZERO, h]));
        let b = Side::Video(frames(&[PdqHash::ZERO]));
        let v = verdict(&a, &b, &VpdqThresholds::default()).unwrap();
        assert_eq!(v["query_match_percent"], json!(50.0));
        assert_eq!(v["compared_match_percent"], json!(100.0));
        assert_eq!(v["match"], json!(false));
        assert!(
            verdict(
                &a,
                &Side::Image {
                    hash: h,
                    quality: None
                },
                &VpdqThresholds::default()
            )
            .is_err()
        );
    }
}
