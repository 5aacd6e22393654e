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

use takedown_matcher::decode::{DecodeError, DecodeLimits, Pixels, decode_reduced};

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
    let reduced = decode_reduced(bytes, limits, DETAIL_SIDE)?;
    let (w, h) = (reduced.full.0.max(1), reduced.full.1.max(1));
    let decoded = reduced.image;
    let source = Grey {
        width: decoded.width as usize,
        height: decoded.height as usize,
        pixels: match decoded.pixels {
            Pixels::Grey(p) => p,
            Pixels::Rgb(p) => p.chunks_exact(3).map(|c| luma(c[0], c[1], c[2])).collect(),
        },
    };
    let scale =
        |side: u32, a: u32, b: u32| ((a as u64 * side as u64) / a.max(b) as u64).max(1) as usize;
    let tiny = source.area_average(scale(DETAIL_SIDE, w, h), scale(DETAIL_SIDE, h, w));
    let (pw, ph) = if w.max(h) <= PREVIEW_SIDE {
        (w as usize, h as usize)
    } else {
        (scale(PREVIEW_SIDE, w, h), scale(PREVIEW_SIDE, h, w))
    };
    blur_up(&tiny, pw, ph).jpeg()
}

/// Scales a tiny greyscale copy up to `width × height` smoothly and blurs it again.
fn blur_up(tiny: &Grey, width: usize, height: usize) -> Grey {
    tiny.bilinear(width, height)
        .box_blur(BLUR_RADIUS)
        .box_blur(BLUR_RADIUS)
}

/// Radius of each of the two box blurs over the scaled-up preview (together close to a
/// Gaussian of σ ≈ 4 px).
const BLUR_RADIUS: usize = 4;

/// Rec. 601 luma of an RGB pixel, as JPEG's own colour conversion computes it.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((19_595 * u32::from(r) + 38_470 * u32::from(g) + 7_471 * u32::from(b) + 32_768) >> 16) as u8
}

/// A greyscale image, row by row. The preview's few steps are done here in integers: they
/// run on every capture, on at most a few tens of thousands of pixels.
struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Grey {
    /// Scales to `width`×`height` by averaging the source pixels each target pixel covers
    /// (at least the nearest one when scaling up).
    fn area_average(&self, width: usize, height: usize) -> Grey {
        let span = |i: usize, to: usize, from: usize| {
            let start = i * from / to;
            (start, ((i + 1) * from / to).max(start + 1).min(from))
        };
        let mut pixels = Vec::with_capacity(width * height);
        for ty in 0..height {
            let (y0, y1) = span(ty, height, self.height);
            for tx in 0..width {
                let (x0, x1) = span(tx, width, self.width);
                let sum: u32 = (y0..y1)
                    .flat_map(|y| &self.pixels[y * self.width + x0..y * self.width + x1])
                    .map(|&v| u32::from(v))
                    .sum();
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                pixels.push(((sum + n / 2) / n) as u8);
            }
        }
        Grey {
            width,
            height,
            pixels,
        }
    }

    /// Scales to `width`×`height` by bilinear interpolation between pixel centres (8-bit
    /// fixed point), edges clamped.
    fn bilinear(&self, width: usize, height: usize) -> Grey {
        // Position of a target pixel's centre in source pixels, times 256.
        let position = |i: usize, to: usize, from: usize| -> (usize, usize, u32) {
            let p = ((2 * i + 1) * from * 256 / (2 * to)).saturating_sub(128);
            let lo = (p >> 8).min(from - 1);
            ((lo), (lo + 1).min(from - 1), (p & 255) as u32)
        };
        let columns: Vec<_> = (0..width).map(|x| position(x, width, self.width)).collect();
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            let (y0, y1, fy) = position(y, height, self.height);
            let (r0, r1) = (
                &self.pixels[y0 * self.width..],
                &self.pixels[y1 * self.width..],
            );
            for &(x0, x1, fx) in &columns {
                let top = u32::from(r0[x0]) * (256 - fx) + u32::from(r0[x1]) * fx;
                let bottom = u32::from(r1[x0]) * (256 - fx) + u32::from(r1[x1]) * fx;
                pixels.push(((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8);
            }
        }
        Grey {
            width,
            height,
            pixels,
        }
    }

    /// One box blur of `radius` along rows then columns, edges clamped.
    fn box_blur(&self, radius: usize) -> Grey {
        let rows = self.blur_rows(radius).transposed();
        rows.blur_rows(radius).transposed()
    }

    /// A box blur of `radius` along each row, edges clamped (a running sum over the row
    /// padded with copies of its end pixels).
    fn blur_rows(&self, radius: usize) -> Grey {
        let n = (2 * radius + 1) as u32;
        let mut padded = Vec::with_capacity(self.width + 2 * radius);
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for row in self.pixels.chunks_exact(self.width) {
            padded.clear();
            padded.extend(std::iter::repeat_n(row[0], radius));
            padded.extend_from_slice(row);
            padded.extend(std::iter::repeat_n(row[row.len() - 1], radius));
            let mut sum: u32 = padded[..2 * radius].iter().map(|&v| u32::from(v)).sum();
            for (leaving, entering) in padded.iter().zip(&padded[2 * radius..]) {
                sum += u32::from(*entering);
                pixels.push(((sum + n / 2) / n) as u8);
                sum -= u32::from(*leaving);
            }
        }
        Grey {
            width: self.width,
            height: self.height,
            pixels,
        }
    }

    /// Rows become columns.
    fn transposed(&self) -> Grey {
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for x in 0..self.width {
            pixels.extend((0..self.height).map(|y| self.pixels[y * self.width + x]));
        }
        Grey {
            width: self.height,
            height: self.width,
            pixels,
        }
    }

    /// The image as a greyscale JPEG (libjpeg-turbo).
    fn jpeg(&self) -> Result<Vec<u8>, PreviewError> {
        let encode = |e: turbojpeg::Error| PreviewError::Encode(e.to_string());
        let mut compressor = turbojpeg::Compressor::new().map_err(encode)?;
        compressor.set_quality(70);
        compressor.set_subsamp(turbojpeg::Subsamp::Gray);
        compressor
            .compress_to_vec(turbojpeg::Image {
                pixels: self.pixels.as_slice(),
                width: self.width,
                pitch: self.width,
                height: self.height,
                format: turbojpeg::PixelFormat::GRAY,
            })
            .map_err(encode)
    }
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
    let (tw, th) = (tw as usize, th as usize);
    let count = keyframes.frames.len().max(1);
    let mut strip = Grey {
        width: tw * count,
        height: th,
        pixels: vec![0; tw * count * th],
    };
    for (i, frame) in keyframes.frames.iter().enumerate() {
        let tiny = Grey {
            width: keyframes.width as usize,
            height: keyframes.height as usize,
            pixels: frame.luma.clone(),
        };
        if tiny.width * tiny.height != tiny.pixels.len() || tiny.pixels.is_empty() {
            return Err(PreviewError::Encode("a keyframe of the wrong size".into()));
        }
        let tile = blur_up(&tiny, tw, th);
        for (y, row) in tile.pixels.chunks_exact(tw).enumerate() {
            let at = y * strip.width + i * tw;
            strip.pixels[at..at + tw].copy_from_slice(row);
        }
    }
    strip.jpeg()
}

/// Tile `index` of a strip of `count` tiles, as its own JPEG (the strip is already blurred:
/// this only cuts it).
pub fn strip_tile(strip: &[u8], index: usize, count: usize) -> Result<Vec<u8>, PreviewError> {
    let image = image::load_from_memory_with_format(strip, image::ImageFormat::Jpeg)
        .map_err(|e| PreviewError::Encode(format!("reading the strip: {e}")))?
        .into_luma8();
    let count = count.max(1);
    let (sw, sh) = (image.width() as usize, image.height() as usize);
    let width = sw / count;
    if index >= count || width == 0 {
        return Err(PreviewError::Encode(format!(
            "no tile {index} in a strip of {count}"
        )));
    }
    let pixels = image.into_raw();
    let mut tile = Grey {
        width,
        height: sh,
        pixels: Vec::with_capacity(width * sh),
    };
    for row in pixels.chunks_exact(sw) {
        tile.pixels
            .extend_from_slice(&row[index * width..(index + 1) * width]);
    }
    tile.jpeg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgb, RgbImage};

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

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_jpeg_preview_keeps_the_layout_and_the_shape_of_the_image() {
        // Left half black, right half white, 1000×100: decoded at 1/8 (125×13), the preview is
        // 192×19 (1000 → 192, 100 → 19.2) and still dark on the left, light on the right.
        let img = RgbImage::from_fn(1000, 100, |x, _| {
            if x < 500 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let p =
            image::load_from_memory(&make_preview(&jpeg(&img), &DecodeLimits::default()).unwrap())
                .unwrap()
                .into_luma8();
        assert_eq!((p.width(), p.height()), (192, 19));
        assert!(p.get_pixel(10, 9)[0] < 40, "left {}", p.get_pixel(10, 9)[0]);
        assert!(
            p.get_pixel(181, 9)[0] > 215,
            "right {}",
            p.get_pixel(181, 9)[0]
        );
        let small = jpeg(&RgbImage::from_pixel(40, 10, Rgb([200, 200, 200])));
        let p = image::load_from_memory(&make_preview(&small, &DecodeLimits::default()).unwrap())
            .unwrap();
        assert_eq!((p.width(), p.height()), (40, 10));
    }

    #[test]
    fn a_truncated_jpeg_gets_no_preview() {
        let bytes = jpeg(&RgbImage::from_pixel(640, 480, Rgb([90, 20, 20])));
        assert!(matches!(
            make_preview(&bytes[..bytes.len() / 2], &DecodeLimits::default()),
            Err(PreviewError::Decode(_))
        ));
    }

    fn grey(width: usize, pixels: &[u8]) -> Grey {
        Grey {
            width,
            height: pixels.len() / width,
            pixels: pixels.to_vec(),
        }
    }

    #[test]
    fn the_integer_steps_compute_what_they_say() {
        // Area average: each target pixel is the rounded mean of the 2×2 it covers.
        let a = grey(4, &[0, 10, 100, 101, 20, 31, 200, 200]).area_average(2, 1);
        assert_eq!(a.pixels, [15, 150]);
        // Scaling up, a target pixel takes the nearest source pixel.
        assert_eq!(grey(2, &[7, 9]).area_average(4, 1).pixels, [7, 7, 9, 9]);
        // Bilinear between pixel centres: 0 and 255 spread over 4 pixels, edges clamped.
        assert_eq!(grey(2, &[0, 255]).bilinear(4, 1).pixels, [0, 64, 191, 255]);
        assert_eq!(grey(1, &[0, 255]).bilinear(1, 4).pixels, [0, 64, 191, 255]);
        // A box blur of radius 1 spreads an impulse over three pixels, in rows and columns.
        let b = grey(5, &[0, 0, 90, 0, 0]).box_blur(1);
        assert_eq!(b.pixels, [0, 30, 30, 30, 0]);
        let c = grey(1, &[0, 0, 90, 0, 0]).box_blur(1);
        assert_eq!(c.pixels, [0, 30, 30, 30, 0]);
        // In two dimensions: an impulse in the middle of 5×3 spreads over its 3×3 (90 / 9 =
        // 10 each; at the top and bottom rows the clamped edge counts the middle row once).
        let d = grey(5, &[0, 0, 0, 0, 0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0]).box_blur(1);
        assert_eq!(
            d.pixels,
            [0, 10, 10, 10, 0, 0, 10, 10, 10, 0, 0, 10, 10, 10, 0]
        );
        // Edges are clamped: a constant image stays constant.
        assert_eq!(grey(3, &[50; 6]).box_blur(4).pixels, [50; 6]);
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
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
