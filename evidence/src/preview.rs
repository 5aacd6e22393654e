//! The preview the case page shows: small, blurred and greyscale, made once on the server.
//!
//! Moderators see terrorist content all day; the page must never send them the original before
//! they ask for it, and must not depend on the browser's CSS to hide it. So the preview is
//! made from a tiny (24 px) greyscale copy of the image, scaled back up with a smooth filter
//! and blurred again: shapes and layout survive, faces, text and symbols do not. It is a JPEG
//! of at most [`PREVIEW_SIDE`] pixels on its longer side.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage};
use takedown_matcher::decode::{DecodeError, DecodeLimits, decode};

/// Longest side of a preview, in pixels.
pub const PREVIEW_SIDE: u32 = 192;
/// Longest side of the copy that is scaled up again (the detail the preview can show).
const DETAIL_SIDE: u32 = 24;
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
    let big = imageops::resize(&tiny, pw, ph, FilterType::Triangle);
    let blurred = imageops::fast_blur(&big, 4.0);
    let mut out = Vec::with_capacity(8 * 1024);
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70);
    DynamicImage::ImageLuma8(blurred)
        .write_with_encoder(encoder)
        .map_err(|e| PreviewError::Encode(e.to_string()))?;
    Ok(out)
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
    fn non_images_are_refused_with_a_decode_error() {
        assert!(image_type(b"<html>hi</html>").is_none());
        assert!(matches!(
            make_preview(b"<html>hi</html>", &DecodeLimits::default()),
            Err(PreviewError::Decode(_))
        ));
    }
}
