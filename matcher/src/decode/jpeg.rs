//! JPEG decoding with libjpeg-turbo, for hash parity with the tools lists are made with.
//!
//! Shared PDQ lists are made with python-threatexchange (Pillow), HMA, OpenCV or Meta's C++
//! reference (CImg): all decode JPEG with libjpeg(-turbo), whose integer IDCT and "fancy"
//! chroma upsampling fix every output byte. A different decoder rounds differently (up to ±4 a
//! pixel), which moves PDQ bits and can make a list miss the very file it was made from. So
//! JPEGs go through the system libjpeg-turbo (the `turbojpeg` crate, a safe wrapper), with
//! its defaults: accurate integer IDCT, smooth upsampling.
//!
//! Hostile input is bounded before libjpeg-turbo sees it: [`crate::decode`] checks that the
//! stream is complete and counts its scans (a progressive JPEG with thousands of tiny scans
//! costs a full-image pass each; libjpeg-turbo 2.1 has no scan limit of its own), and the
//! declared size is checked against the limits before any pixel buffer is allocated.
//! CMYK and YCCK JPEGs (rare: print workflows) are left to the `image` crate's decoder, since
//! libjpeg-turbo cannot convert them to RGB itself.

use super::{DecodeError, DecodeLimits, Pixels};
use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat};

/// The most bytes libjpeg-turbo may need per pixel: the 3-byte RGB output plus, for a
/// progressive or multi-scan image, its whole coefficient buffer (2 bytes a coefficient for
/// each of up to 3 components).
const BYTES_PER_PIXEL_BOUND: u64 = 3 + 6;

/// What a JPEG decodes to: its size and pixels, or word that another decoder must do it.
pub(crate) enum Decoded {
    /// Decoded by libjpeg-turbo.
    Pixels {
        /// The width and height the JPEG declares (before any reduction).
        full: (u32, u32),
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Grey for greyscale JPEGs, RGB otherwise.
        pixels: Pixels,
    },
    /// A CMYK or YCCK JPEG: libjpeg-turbo gives no RGB for these.
    NotRgb,
}

/// The largest of libjpeg-turbo's DCT scaling divisors (8, 4, 2, 1) that keeps the longer
/// side of a `width`×`height` image at `min_side` pixels or more.
fn reduction(width: u32, height: u32, min_side: u32) -> u32 {
    let longer = width.max(height);
    [8, 4, 2]
        .into_iter()
        .find(|d| longer.div_ceil(*d) >= min_side)
        .unwrap_or(1)
}

/// Decodes a complete JPEG (the caller has checked its end marker and scan count).
///
/// With `reduce_to`, the image is decoded in grey at the smallest DCT scale (1/8, 1/4, 1/2)
/// whose longer side is still at least that many pixels: a fraction of the work, for callers
/// that only need a small copy (previews). Without it, at full size in its own colours.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &DecodeLimits,
    check_dimensions: impl Fn(u32, u32) -> Result<(), DecodeError>,
    reduce_to: Option<u32>,
) -> Result<Decoded, DecodeError> {
    let malformed = |e: turbojpeg::Error| DecodeError::Malformed(e.to_string());
    let mut decompressor = Decompressor::new().map_err(malformed)?;
    let header = decompressor.read_header(bytes).map_err(malformed)?;
    let width = u32::try_from(header.width).unwrap_or(u32::MAX);
    let height = u32::try_from(header.height).unwrap_or(u32::MAX);
    check_dimensions(width, height)?;
    let (format, channels) = match header.colorspace {
        Colorspace::CMYK | Colorspace::YCCK => return Ok(Decoded::NotRgb),
        _ if reduce_to.is_some() => (PixelFormat::GRAY, 1),
        Colorspace::Gray => (PixelFormat::GRAY, 1),
        Colorspace::RGB | Colorspace::YCbCr => (PixelFormat::RGB, 3),
    };
    let needed = u64::from(width) * u64::from(height) * BYTES_PER_PIXEL_BOUND;
    if needed > limits.max_alloc_bytes {
        return Err(DecodeError::AllocationLimit(format!(
            "{width}x{height} needs {needed} bytes, limit {}",
            limits.max_alloc_bytes
        )));
    }
    // libjpeg-turbo scales to the largest factor that fits the size asked for; asking for
    // exactly ceil(side / divisor) gets that divisor (its TJSCALED rounding).
    let full = (width, height);
    let divisor = reduce_to.map_or(1, |side| reduction(width, height, side));
    let (width, height) = (width.div_ceil(divisor), height.div_ceil(divisor));
    let (w, h) = (width as usize, height as usize);
    let mut pixels = vec![0u8; w * h * channels];
    decompressor
        .decompress(
            bytes,
            Image {
                pixels: pixels.as_mut_slice(),
                width: w,
                pitch: w * channels,
                height: h,
                format,
            },
        )
        .map_err(malformed)?;
    let pixels = if channels == 1 {
        Pixels::Grey(pixels)
    } else {
        Pixels::Rgb(pixels)
    };
    Ok(Decoded::Pixels {
        full,
        width,
        height,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::reduction;

    #[test]
    fn the_reduction_keeps_the_longer_side_at_the_size_asked_for() {
        // 640 / 8 = 80 ≥ 24; 640 / 8 = 80 < 100 but 640 / 4 = 160 ≥ 100.
        assert_eq!(reduction(640, 480, 24), 8);
        assert_eq!(reduction(480, 640, 100), 4);
        assert_eq!(reduction(640, 480, 200), 2);
        assert_eq!(reduction(640, 480, 320), 2);
        assert_eq!(reduction(640, 480, 321), 1);
        // Exactly on the boundary, and rounding up: ceil(190 / 8) = 24.
        assert_eq!(reduction(192, 10, 24), 8);
        assert_eq!(reduction(190, 10, 24), 8);
        assert_eq!(reduction(180, 10, 24), 4);
        assert_eq!(reduction(20, 20, 24), 1);
    }
}
