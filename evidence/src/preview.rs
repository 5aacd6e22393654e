//! The preview the case page shows: small, blurred and greyscale, made once on the server.
//!
//! Moderators see terrorist content all day; the page must never send them the original before
//! they ask for it, and must not depend on the browser's CSS to hide it. So the preview is
//! made from a tiny (24 px) greyscale copy of the image, scaled back up with a smooth filter
//! and blurred again: shapes and layout survive, faces, text and symbols do not. It is a JPEG
//! of at most [`PREVIEW_SIDE`] pixels on its longer side.
//!
//! A video's preview is a strip: its keyframes (one every few seconds, decoded by
//! `takedown-video` at the same 24 px of detail) each blurred the same way into a tile of at
//! most [`TILE_SIDE`] pixels, side by side in one JPEG. The page shows the tiles one by one
//! ([`strip_tile`]), so it can mark the ones inside the matched stretches.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage};
use takedown_matcher::decode::{DecodeError, DecodeLimits, decode};

/// Longest side of a preview, in pixels.
pub const PREVIEW_SIDE: u32 = 192;
/// Longest side of the copy that is scaled up again (the detail the preview can show).
const DETAIL_SIDE: u32 = 24;
/// Longest side of one tile of a video's strip, in pixels.
pub const TILE_SIDE: u32 = 128;
/// Largest video held as evidence, in bytes: `takedown-video`'s default byte cap, which is
/// also the fetcher's video cap.
pub const MAX_VIDEO_BYTES: usize = 512 << 20;
/// The content type of every preview.
pub const PREVIEW_TYPE: &str = "image/jpeg";

/// Why no preview could be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The bytes are not an image we decode (or break a decoding limit).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Encoding the JPEG failed.
    #[error("encoding the preview: {0}")]
    Encode(String),
}

/// The content type of `bytes` when they are an image the UI can show, from their magic bytes.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match image::guess_format(bytes).ok()? {
        image::ImageFormat::Png => Some("image/png"),
        image::ImageFormat::Jpeg => Some("image/jpeg"),
        image::ImageFormat::Gif => Some("image/gif"),
        image::ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

/// The content type of `bytes` when they are a video container (sniffed as ingest does):
/// `video/mp4` for ISO media, `video/webm` for Matroska/WebM, `video/x-unknown` for the
/// other containers `takedown-video` decodes (stored and previewed, not played inline).
pub fn video_type(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(512)];
    if !takedown_video::sniff::is_video(head) {
        return None;
    }
    Some(if head.len() >= 8 && &head[4..8] == b"ftyp" {
        "video/mp4"
    } else if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        "video/webm"
    } else {
        "video/x-unknown"
    })
}

/// Makes the preview JPEG of an image.
pub fn make_preview(bytes: &[u8], limits: &DecodeLimits) -> Result<Vec<u8>, PreviewError> {
    let decoded = decode(bytes, limits)?;
    let (w, h) = (decoded.width.max(1), decoded.height.max(1));
    let grey: GrayImage = decoded.to_image().into_luma8();
    let scale =
        |side: u32, a: u32, b: u32| ((a as u64 * side as u64) / a.max(b) as u64).max(1) as u32;
    let tiny = imageops::resize(
        &grey,
        scale(DETAIL_SIDE, w, h),
        scale(DETAIL_SIDE, h, w),
        FilterType::Triangle,
    );
    let (pw, ph) = if w.max(h) <= PREVIEW_SIDE {
        (w, h)
    } else {
        (scale(PREVIEW_SIDE, w, h), scale(PREVIEW_SIDE, h, w))
    };
    jpeg(blur_up(&tiny, pw, ph))
}

/// Scales a tiny greyscale copy up to `width × height` smoothly and blurs it again.
fn blur_up(tiny: &GrayImage, width: u32, height: u32) -> GrayImage {
    let big = imageops::resize(tiny, width, height, FilterType::Triangle);
    imageops::fast_blur(&big, 4.0)
}

fn jpeg(image: GrayImage) -> Result<Vec<u8>, PreviewError> {
    let mut out = Vec::with_capacity(8 * 1024);
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70);
    DynamicImage::ImageLuma8(image)
        .write_with_encoder(encoder)
        .map_err(|e| PreviewError::Encode(e.to_string()))?;
    Ok(out)
}

/// The size of each tile of a strip made from keyframes of `width × height`.
fn tile_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (width.max(1) as u64, height.max(1) as u64);
    let long = w.max(h);
    let side = TILE_SIDE as u64;
    (
        ((w * side) / long).max(1) as u32,
        ((h * side) / long).max(1) as u32,
    )
}

/// Makes the strip JPEG of a video's keyframes: each frame blurred into a tile, left to right.
pub fn make_strip(
    keyframes: &takedown_video::keyframes::Keyframes,
) -> Result<Vec<u8>, PreviewError> {
    let (tw, th) = tile_size(keyframes.width, keyframes.height);
    let count = keyframes.frames.len().max(1) as u32;
    let mut strip = GrayImage::new(tw * count, th);
    for (i, frame) in keyframes.frames.iter().enumerate() {
        let tiny = GrayImage::from_raw(keyframes.width, keyframes.height, frame.luma.clone())
            .ok_or_else(|| PreviewError::Encode("a keyframe of the wrong size".into()))?;
        imageops::replace(&mut strip, &blur_up(&tiny, tw, th), i as i64 * tw as i64, 0);
    }
    jpeg(strip)
}

/// Tile `index` of a strip of `count` tiles, as its own JPEG (the strip is already blurred:
/// this only cuts it).
pub fn strip_tile(strip: &[u8], index: usize, count: usize) -> Result<Vec<u8>, PreviewError> {
    let image = image::load_from_memory_with_format(strip, image::ImageFormat::Jpeg)
        .map_err(|e| PreviewError::Encode(format!("reading the strip: {e}")))?
        .into_luma8();
    let count = count.max(1) as u32;
    let width = image.width() / count;
    if index as u32 >= count || width == 0 {
        return Err(PreviewError::Encode(format!(
            "no tile {index} in a strip of {count}"
        )));
    }
    let tile = imageops::crop_imm(&image, index as u32 * width, 0, width, image.height());
    jpeg(tile.to_image())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A 640×480 image with sharp coloured detail: a checkerboard of 8 px squares.
    fn detailed() -> Vec<u8> {
        let img = RgbImage::from_fn(640, 480, |x, y| {
            if (x / 8 + y / 8) % 2 == 0 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn preview_is_small_grey_and_without_the_detail() {
        let preview = make_preview(&detailed(), &DecodeLimits::default()).unwrap();
        assert_eq!(image_type(&preview), Some("image/jpeg"));
        let img = image::load_from_memory(&preview).unwrap();
        assert_eq!((img.width(), img.height()), (192, 144));
        assert!(matches!(img, DynamicImage::ImageLuma8(_)), "greyscale JPEG");
        // The checkerboard alternates every 8 px of 640 (every 2.4 px of the preview): the
        // preview must have flattened it to (nearly) one grey.
        let luma = img.into_luma8();
        let (min, max) = luma
            .pixels()
            .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
        assert!(max - min < 24, "detail survived: grey range {min}..{max}");
    }

    #[test]
    fn small_images_are_not_scaled_past_their_size() {
        let img = RgbImage::from_pixel(40, 10, Rgb([9, 9, 9]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let p = image::load_from_memory(
            &make_preview(out.get_ref(), &DecodeLimits::default()).unwrap(),
        )
        .unwrap();
        assert_eq!((p.width(), p.height()), (40, 10));
    }

    #[test]
    fn a_strip_has_one_blurred_tile_per_keyframe_and_tiles_cut_back_out() {
        use takedown_video::keyframes::{Keyframe, Keyframes};
        // Frame 0 dark, frame 1 a bright checkerboard of single pixels.
        let frames = vec![
            Keyframe {
                seconds: 0.0,
                luma: vec![20; 24 * 18],
            },
            Keyframe {
                seconds: 1.0,
                luma: (0..24 * 18)
                    .map(|i| if (i + i / 24) % 2 == 0 { 255 } else { 180 })
                    .collect(),
            },
        ];
        let kf = Keyframes {
            width: 24,
            height: 18,
            interval_secs: 1.0,
            frames,
        };
        let strip = make_strip(&kf).unwrap();
        let img = image::load_from_memory(&strip).unwrap();
        assert_eq!((img.width(), img.height()), (256, 96));
        assert!(matches!(img, DynamicImage::ImageLuma8(_)), "greyscale JPEG");
        let mean = |jpeg: &[u8]| {
            let l = image::load_from_memory(jpeg).unwrap().into_luma8();
            assert_eq!((l.width(), l.height()), (128, 96));
            let (lo, hi) = l
                .pixels()
                .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
            let sum: u64 = l.pixels().map(|p| p[0] as u64).sum();
            (sum / (128 * 96), hi - lo)
        };
        let (dark, _) = mean(&strip_tile(&strip, 0, 2).unwrap());
        let (bright, range) = mean(&strip_tile(&strip, 1, 2).unwrap());
        assert!(dark < 40, "tile 0 mean {dark}");
        assert!(bright > 190, "tile 1 mean {bright}");
        // The one-pixel checkerboard is blurred away (edges of the tile aside, nearly flat).
        assert!(range < 48, "detail survived: range {range}");
        assert!(strip_tile(&strip, 2, 2).is_err());
    }

    #[test]
    fn videos_are_told_from_images_by_their_bytes() {
        assert_eq!(
            video_type(b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Some("video/mp4")
        );
        assert_eq!(
            video_type(&[0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]),
            Some("video/webm")
        );
        assert_eq!(video_type(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
        assert_eq!(video_type(b"\x89PNG\r\n\x1a\n"), None);
    }

    #[test]
    fn non_images_are_refused_with_a_decode_error() {
        assert!(image_type(b"<html>hi</html>").is_none());
        assert!(matches!(
            make_preview(b"<html>hi</html>", &DecodeLimits::default()),
            Err(PreviewError::Decode(_))
        ));
    }
}
