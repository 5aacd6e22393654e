//! Hostile images: decompression bombs, truncated files, frame floods and random or mutated
//! bytes. Each must end in a clear error with a stable code, never a panic or an abort.

use image::codecs::gif::GifEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, Frame, ImageEncoder, RgbaImage};
use proptest::prelude::*;
use std::path::Path;
use takedown_core::{ErrorCode, SignalType};
use takedown_local_services::fixtures::png_claiming;
use takedown_matcher::decode::{DecodeLimits, decode};
use takedown_matcher::{PreResize, SignalComputer};

fn sample(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/pdq/images")
        .join(name);
    std::fs::read(path).expect("sample image")
}

fn gif_with_frames(n: usize, side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        let frames = (0..n).map(|i| {
            let img = RgbaImage::from_fn(side, side, |x, y| {
                image::Rgba([(x * 40) as u8, (y * 40) as u8, (i * 20) as u8, 255])
            });
            Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(10, 1))
        });
        enc.encode_frames(frames).expect("encode gif");
    }
    out
}

#[test]
fn claimed_huge_dimensions_are_refused_without_allocating() {
    for (w, h) in [(100_000, 100_000), (20_000, 10), (16_000, 16_000)] {
        let err = decode(&png_claiming(w, h), &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::DimensionsTooLarge, "{w}x{h}: {err}");
    }
}

#[test]
fn a_real_bomb_is_refused_by_the_pixel_limit() {
    // 4000×4000 of zeros compresses to a few kilobytes; the limit here is one million pixels.
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            &vec![0u8; 4000 * 4000],
            4000,
            4000,
            image::ExtendedColorType::L8,
        )
        .unwrap();
    assert!(png.len() < 100_000, "bomb is small: {} bytes", png.len());
    let limits = DecodeLimits {
        max_pixels: 1_000_000,
        ..DecodeLimits::default()
    };
    let err = decode(&png, &limits).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DimensionsTooLarge);
    assert!(
        decode(&png, &DecodeLimits::default()).is_ok(),
        "fine under default limits"
    );
}

#[test]
fn allocation_limit_is_enforced() {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            &vec![7u8; 2000 * 2000 * 3],
            2000,
            2000,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let limits = DecodeLimits {
        max_alloc_bytes: 1_000_000,
        ..DecodeLimits::default()
    };
    let err = decode(&png, &limits).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DimensionsTooLarge, "{err}");
}

#[test]
fn truncated_files_are_rejected_at_every_cut() {
    let webp = {
        let mut out = Vec::new();
        let img = RgbaImage::from_fn(64, 48, |x, y| {
            image::Rgba([x as u8 * 3, y as u8 * 5, 90, 255])
        });
        WebPEncoder::new_lossless(&mut out)
            .write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    };
    let files = [
        ("jpeg", sample("bridge-mods/aaa-orig.jpg")),
        ("png", sample("misc-images/c.png")),
        ("gif", gif_with_frames(3, 32)),
        ("webp", webp),
    ];
    for (kind, bytes) in files {
        assert!(
            decode(&bytes, &DecodeLimits::default()).is_ok(),
            "{kind} whole decodes"
        );
        for fraction in [0.1, 0.5, 0.9, 0.99] {
            let cut = (bytes.len() as f64 * fraction) as usize;
            let err = decode(&bytes[..cut], &DecodeLimits::default())
                .expect_err(&format!("{kind} cut at {cut}/{} must fail", bytes.len()));
            assert!(
                matches!(
                    err.code(),
                    ErrorCode::DecodeFailed | ErrorCode::UnsupportedFormat
                ),
                "{kind} cut at {fraction}: {err}"
            );
        }
    }
}

#[test]
fn animation_frame_caps() {
    let gif = gif_with_frames(6, 16);
    let ok = decode(&gif, &DecodeLimits::default()).unwrap();
    assert_eq!(ok.frames, 6);
    assert_eq!((ok.width, ok.height), (16, 16));
    let few_frames = DecodeLimits {
        max_frames: 5,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode(&gif, &few_frames).unwrap_err().code(),
        ErrorCode::TooManyFrames
    );
    let few_pixels = DecodeLimits {
        max_total_frame_pixels: 16 * 16 * 3,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode(&gif, &few_pixels).unwrap_err().code(),
        ErrorCode::TooManyFrames
    );
}

#[test]
fn digests_work_without_decoding_but_perceptual_signals_need_an_image() {
    let mut computer = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let signals = computer
        .compute(b"not an image", &[SignalType::Md5, SignalType::Sha256])
        .unwrap();
    // Expected values from Python's hashlib, an independent implementation.
    assert_eq!(
        signals.md5.unwrap().to_string(),
        "f4d3390ee84008b4b4192b3a93bfa089"
    );
    assert_eq!(
        signals.sha256.unwrap().to_string(),
        "5464533c9647b67eb320c40ccc5959537c09102ae75388f6a7675b433e745c9d"
    );
    let err = computer
        .compute(b"not an image", &[SignalType::Md5, SignalType::Pdq])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
}

fn decode_never_panics(bytes: &[u8]) {
    let limits = DecodeLimits {
        max_pixels: 4_000_000,
        max_alloc_bytes: 64 * 1024 * 1024,
        max_frames: 50,
        ..DecodeLimits::default()
    };
    if let Err(err) = decode(bytes, &limits) {
        let _ = err.code();
        assert!(!err.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        decode_never_panics(&bytes);
    }

    #[test]
    fn random_bytes_behind_real_magic_never_panic(
        magic in prop::sample::select(vec![
            b"\xFF\xD8\xFF\xE0".to_vec(),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            b"GIF89a".to_vec(),
            b"RIFF\x00\x10\x00\x00WEBPVP8L".to_vec(),
            b"BM".to_vec(),
            b"II*\x00".to_vec(),
        ]),
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = magic;
        bytes.extend(tail);
        decode_never_panics(&bytes);
    }

    #[test]
    fn mutated_real_files_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = match which {
            0 => sample("bridge-mods/square-128x128.jpg"),
            1 => sample("misc-images/modes/P.png"),
            _ => gif_with_frames(2, 8),
        };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len()) + 1;
        decode_never_panics(&bytes[..keep]);
    }
}

/// A reduced decode is the 1/8 DCT scale of the JPEG: each pixel the mean of its 8×8 block
/// (within JPEG's rounding), in grey, with the image's own size reported beside it, and within
/// the same limits as a full decode.
#[test]
fn a_reduced_jpeg_decode_averages_blocks_and_keeps_the_limits() {
    use takedown_matcher::decode::{Pixels, decode_reduced};
    // 8×8 blocks of grey levels 0, 32, 64, … in a 640×480 image.
    let img = image::GrayImage::from_fn(640, 480, |x, y| {
        image::Luma([(((x / 8) + (y / 8)) % 8 * 32) as u8])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
    let bytes = bytes.into_inner();
    let reduced = decode_reduced(&bytes, &DecodeLimits::default(), 24).unwrap();
    assert_eq!(reduced.full, (640, 480));
    assert_eq!((reduced.image.width, reduced.image.height), (80, 60));
    let Pixels::Grey(p) = &reduced.image.pixels else {
        panic!("grey expected")
    };
    for (i, v) in p.iter().enumerate() {
        let (bx, by) = (i % 80, i / 80);
        let want = ((bx + by) % 8 * 32) as i32;
        assert!(
            (*v as i32 - want).abs() <= 6,
            "block {bx},{by}: {v} vs {want}"
        );
    }
    // Asking for more detail than 1/8 gives: 1/2 for a 200 px side.
    let half = decode_reduced(&bytes, &DecodeLimits::default(), 200).unwrap();
    assert_eq!((half.image.width, half.image.height), (320, 240));
    // The limits hold as for a full decode.
    let small = DecodeLimits {
        max_width: 600,
        ..DecodeLimits::default()
    };
    assert!(decode_reduced(&bytes, &small, 24).is_err());
    assert!(decode_reduced(&bytes[..bytes.len() - 2], &DecodeLimits::default(), 24).is_err());
}
