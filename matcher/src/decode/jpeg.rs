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

/// Decodes a complete JPEG (the caller has checked its end marker and scan count).
pub(crate) fn decode(
    bytes: &[u8],
    limits: &DecodeLimits,
    check_dimensions: impl Fn(u32, u32) -> Result<(), DecodeError>,
) -> Result<Decoded, DecodeError> {
    let malformed = |e: turbojpeg::Error| DecodeError::Malformed(e.to_string());
    let mut decompressor = Decompressor::new().map_err(malformed)?;
    let header = decompressor.read_header(bytes).map_err(malformed)?;
    let width = u32::try_from(header.width).unwrap_or(u32::MAX);
    let height = u32::try_from(header.height).unwrap_or(u32::MAX);
    check_dimensions(width, height)?;
    let (format, channels) = match header.colorspace {
        Colorspace::Gray => (PixelFormat::GRAY, 1),
        Colorspace::RGB | Colorspace::YCbCr => (PixelFormat::RGB, 3),
        Colorspace::CMYK | Colorspace::YCCK => return Ok(Decoded::NotRgb),
    };
    let needed = u64::from(width) * u64::from(height) * BYTES_PER_PIXEL_BOUND;
    if needed > limits.max_alloc_bytes {
        return Err(DecodeError::AllocationLimit(format!(
            "{width}x{height} needs {needed} bytes, limit {}",
            limits.max_alloc_bytes
        )));
    }
    let (w, h) = (header.width, header.height);
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
        width,
        height,
        pixels,
    })
}
