//! Safe image decoding for hostile input.
//!
//! Every image Takedown sees comes from strangers, and some are built to hurt the decoder:
//! decompression bombs (tiny files that claim 100,000 × 100,000 pixels), truncated or corrupt
//! streams, animations with thousands of frames. Decoding here is bounded before any large
//! allocation happens: input bytes, width, height, width × height, the decoder's own allocations
//! and, for animations, frames and total frame pixels. Failures are errors with stable codes,
//! never panics or out-of-memory aborts.

use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;
use takedown_core::ErrorCode;

mod jpeg;

/// Bounds on the work and memory one decode may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted encoded input, in bytes.
    pub max_input_bytes: usize,
    /// Largest accepted width, in pixels.
    pub max_width: u32,
    /// Largest accepted height, in pixels.
    pub max_height: u32,
    /// Largest accepted width × height of one frame.
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate for one image.
    pub max_alloc_bytes: u64,
    /// Most frames decoded from an animated GIF or WebP; more is an error.
    pub max_frames: usize,
    /// Most pixels decoded across all frames of an animation; more is an error.
    pub max_total_frame_pixels: u64,
    /// Most scans in one JPEG stream (a progressive JPEG of many tiny scans costs a pass over
    /// the whole image for each); more is an error. libjpeg-turbo's own guard uses 500.
    pub max_jpeg_scans: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_input_bytes: 50 * 1024 * 1024,
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 50_000_000,
            max_alloc_bytes: 512 * 1024 * 1024,
            max_frames: 500,
            max_total_frame_pixels: 500_000_000,
            max_jpeg_scans: 500,
        }
    }
}

/// Why an image could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The encoded input is over `max_input_bytes`.
    #[error("input is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The image's declared size is over a limit (a decompression bomb, or just too big).
    #[error("image is {width}x{height}, over the limits ({limit})")]
    DimensionsTooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Which limit was exceeded.
        limit: String,
    },
    /// The decoder needed more memory than `max_alloc_bytes`.
    #[error("decoding needs more memory than the limit: {0}")]
    AllocationLimit(String),
    /// The format is not recognised or not supported.
    #[error("unsupported or unrecognised image format: {0}")]
    UnsupportedFormat(String),
    /// The data is malformed or truncated.
    #[error("malformed or truncated image: {0}")]
    Malformed(String),
    /// An animation has more frames, or more pixels across frames, than allowed.
    #[error("animation exceeds the limit of {limit} {what}")]
    TooManyFrames {
        /// The configured limit.
        limit: u64,
        /// "frames" or "pixels across frames".
        what: &'static str,
    },
    /// A JPEG stream has more scans than `max_jpeg_scans`.
    #[error("JPEG has more than {limit} scans")]
    TooManyScans {
        /// The configured limit.
        limit: usize,
    },
}

impl DecodeError {
    /// The stable error code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge { .. } => ErrorCode::TooLarge,
            DecodeError::DimensionsTooLarge { .. } | DecodeError::AllocationLimit(_) => {
                ErrorCode::DimensionsTooLarge
            }
            DecodeError::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            DecodeError::Malformed(_) | DecodeError::TooManyScans { .. } => ErrorCode::DecodeFailed,
            DecodeError::TooManyFrames { .. } => ErrorCode::TooManyFrames,
        }
    }
}

/// Decoded 8-bit pixels of one frame, in the channel layout hashing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pixels {
    /// One grey byte per pixel (grey and grey+alpha images; alpha is dropped).
    Grey(Vec<u8>),
    /// R, G, B bytes per pixel (colour images; alpha is dropped, CMYK and palettes converted).
    Rgb(Vec<u8>),
}

/// The first frame of a decoded image.
///
/// Its `Debug` form shows the shape, never the pixels: media must not reach logs.
#[derive(Clone)]
pub struct DecodedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The detected format.
    pub format: ImageFormat,
    /// Number of frames (1 for still images).
    pub frames: usize,
    /// The pixels of the first frame.
    pub pixels: Pixels,
}

impl std::fmt::Debug for DecodedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("frames", &self.frames)
            .field("grey", &matches!(self.pixels, Pixels::Grey(_)))
            .finish_non_exhaustive()
    }
}

impl DecodedImage {
    /// The pixels as a [`crate::pdq::PixelsRef`] for PDQ hashing.
    /// The 8-bit pixels as an [`image::DynamicImage`], for hashers that take one (a copy: only
    /// the opt-in perceptual hashes need it).
    pub fn to_image(&self) -> DynamicImage {
        match &self.pixels {
            Pixels::Grey(p) => image::GrayImage::from_raw(self.width, self.height, p.clone())
                .map(DynamicImage::ImageLuma8),
            Pixels::Rgb(p) => image::RgbImage::from_raw(self.width, self.height, p.clone())
                .map(DynamicImage::ImageRgb8),
        }
        .expect("decoded pixels fill their dimensions")
    }

    /// The pixels as a [`crate::pdq::PixelsRef`] for PDQ hashing.
    pub fn pixels_ref(&self) -> crate::pdq::PixelsRef<'_> {
        match &self.pixels {
            Pixels::Grey(p) => crate::pdq::PixelsRef::Grey(p),
            Pixels::Rgb(p) => crate::pdq::PixelsRef::Rgb(p),
        }
    }
}

fn image_limits(limits: &DecodeLimits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_width);
    l.max_image_height = Some(limits.max_height);
    l.max_alloc = Some(limits.max_alloc_bytes);
    l
}

fn map_image_error(err: image::ImageError) -> DecodeError {
    use image::ImageError as E;
    match err {
        E::Limits(e) => match e.kind() {
            image::error::LimitErrorKind::DimensionError => DecodeError::DimensionsTooLarge {
                width: 0,
                height: 0,
                limit: e.to_string(),
            },
            _ => DecodeError::AllocationLimit(e.to_string()),
        },
        E::Unsupported(e) => DecodeError::UnsupportedFormat(e.to_string()),
        E::Decoding(e) => DecodeError::Malformed(e.to_string()),
        E::IoError(e) => DecodeError::Malformed(e.to_string()),
        E::Parameter(e) => DecodeError::Malformed(e.to_string()),
        E::Encoding(e) => DecodeError::Malformed(e.to_string()),
    }
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    let too_large = |limit: String| DecodeError::DimensionsTooLarge {
        width,
        height,
        limit,
    };
    if width > limits.max_width || height > limits.max_height {
        return Err(too_large(format!(
            "max {}x{}",
            limits.max_width, limits.max_height
        )));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large(format!("max {} pixels", limits.max_pixels)));
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::Malformed(format!(
            "image has no pixels ({width}x{height})"
        )));
    }
    Ok(())
}

/// Decodes the first frame of an image from its bytes, within `limits`.
///
/// The format is detected from the content, not from a name. JPEG streams must be complete (end
/// with an end-of-image marker): decoders fill a truncated JPEG with grey, which would hash a
/// different picture. JPEGs are decoded by libjpeg-turbo ([`jpeg`]) so that hashes agree
/// bit for bit with the tools shared lists are made with. Animated GIF and WebP are decoded to the end so a corrupt or oversized later
/// frame is caught, within the frame limits.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    decode_with(bytes, limits, None).map(|reduced| reduced.image)
}

/// An image decoded by [`decode_reduced`]: possibly smaller than the image itself.
#[derive(Debug, Clone)]
pub struct ReducedImage {
    /// The image's own width and height.
    pub full: (u32, u32),
    /// The decoded pixels, `full` divided by 1, 2, 4 or 8 (rounded up).
    pub image: DecodedImage,
}

/// Decodes the first frame like [`decode`], within the same limits, but a JPEG only as far as
/// a grey copy whose longer side is at least `min_side` pixels (libjpeg-turbo's DCT scaling:
/// down to 1/8 of each side for a fraction of the work). Other formats decode at full size.
/// For small derived images such as previews, never for hashing: the pixels differ from a
/// full decode's.
pub fn decode_reduced(
    bytes: &[u8],
    limits: &DecodeLimits,
    min_side: u32,
) -> Result<ReducedImage, DecodeError> {
    decode_with(bytes, limits, Some(min_side.max(1)))
}

fn decode_with(
    bytes: &[u8],
    limits: &DecodeLimits,
    reduce_to: Option<u32>,
) -> Result<ReducedImage, DecodeError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: limits.max_input_bytes,
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let format = reader.format().ok_or_else(|| {
        DecodeError::UnsupportedFormat("content matches no known image format".to_string())
    })?;
    if format == ImageFormat::Jpeg {
        match jpeg_scans(bytes) {
            None => {
                return Err(DecodeError::Malformed(
                    "JPEG stream is truncated (no end-of-image marker)".to_string(),
                ));
            }
            Some(scans) if scans > limits.max_jpeg_scans => {
                return Err(DecodeError::TooManyScans {
                    limit: limits.max_jpeg_scans,
                });
            }
            Some(_) => {}
        }
        let checked = |w, h| check_dimensions(w, h, limits);
        if let jpeg::Decoded::Pixels {
            full,
            width,
            height,
            pixels,
        } = jpeg::decode(bytes, limits, checked, reduce_to)?
        {
            let image = DecodedImage {
                width,
                height,
                format,
                frames: 1,
                pixels,
            };
            return Ok(ReducedImage { full, image });
        }
    }
    reader.limits(image_limits(limits));
    let (image, frames) = match format {
        ImageFormat::Gif => decode_animation(
            image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(map_image_error)?,
            limits,
        )?,
        ImageFormat::WebP => {
            let mut decoder = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
                .map_err(map_image_error)?;
            if decoder.has_animation() {
                decoder
                    .set_limits(image_limits(limits))
                    .map_err(map_image_error)?;
                decode_animation(decoder, limits)?
            } else {
                (decode_still(decoder, limits)?, 1)
            }
        }
        _ => (
            decode_still(reader.into_decoder().map_err(map_image_error)?, limits)?,
            1,
        ),
    };
    let (width, height) = (image.width(), image.height());
    // `into_*` moves the buffer when it already is 8-bit grey or RGB (a JPEG's usual case)
    // instead of copying it pixel by pixel.
    let pixels = match &image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => Pixels::Grey(image.into_luma8().into_raw()),
        _ => Pixels::Rgb(image.into_rgb8().into_raw()),
    };
    Ok(ReducedImage {
        full: (width, height),
        image: DecodedImage {
            width,
            height,
            format,
            frames,
            pixels,
        },
    })
}

fn decode_still(
    mut decoder: impl ImageDecoder,
    limits: &DecodeLimits,
) -> Result<DynamicImage, DecodeError> {
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h, limits)?;
    // The decoded buffer plus the 8-bit copy hashing makes of it must fit the allocation cap.
    let needed = decoder
        .total_bytes()
        .saturating_add(u64::from(w) * u64::from(h) * 3);
    if needed > limits.max_alloc_bytes {
        return Err(DecodeError::AllocationLimit(format!(
            "{w}x{h} needs {needed} bytes, limit {}",
            limits.max_alloc_bytes
        )));
    }
    decoder
        .set_limits(image_limits(limits))
        .map_err(map_image_error)?;
    DynamicImage::from_decoder(decoder).map_err(map_image_error)
}

fn decode_animation<'a, D>(
    decoder: D,
    limits: &DecodeLimits,
) -> Result<(DynamicImage, usize), DecodeError>
where
    D: AnimationDecoder<'a> + ImageDecoder,
{
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h, limits)?;
    let mut first = None;
    let mut count = 0usize;
    let mut total_pixels = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(map_image_error)?;
        count += 1;
        if count > limits.max_frames {
            return Err(DecodeError::TooManyFrames {
                limit: limits.max_frames as u64,
                what: "frames",
            });
        }
        let buf = frame.buffer();
        total_pixels += u64::from(buf.width()) * u64::from(buf.height());
        if total_pixels > limits.max_total_frame_pixels {
            return Err(DecodeError::TooManyFrames {
                limit: limits.max_total_frame_pixels,
                what: "pixels across frames",
            });
        }
        if first.is_none() {
            first = Some(DynamicImage::ImageRgba8(frame.into_buffer()));
        }
    }
    let first =
        first.ok_or_else(|| DecodeError::Malformed("animation has no frames".to_string()))?;
    Ok((first, count))
}

/// How many scans a JPEG stream has, if it reaches its end-of-image marker (`None`: cut).
///
/// Walks the marker segments (each length-prefixed) and the entropy-coded scans (where `FF 00`
/// is a stuffed byte and `FF D0..D7` are restart markers) until `FF D9`. Running off the end
/// means the stream was cut. Bytes after the marker (camera trailers) are allowed.
fn jpeg_scans(bytes: &[u8]) -> Option<usize> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut pos = 2;
    let mut in_scan = false;
    let mut scans = 0;
    while pos + 1 < bytes.len() {
        if bytes[pos] != 0xFF {
            if !in_scan {
                return None;
            }
            pos += 1;
            continue;
        }
        let marker = bytes[pos + 1];
        match marker {
            0xD9 => return Some(scans),
            0x00 | 0xD0..=0xD7 if in_scan => pos += 2,
            0xFF => pos += 1, // fill byte
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let len = bytes.get(pos + 2..pos + 4)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return None;
                }
                pos += 2 + len;
                in_scan = marker == 0xDA;
                scans += usize::from(in_scan);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_completeness_walks_segments_and_scans() {
        // SOI, a 4-byte APP0 segment, SOS with a 2-byte header, scan data with a stuffed FF 00
        // and a restart marker, then EOI and a camera trailer.
        let scan = [0xFF, 0xDA, 0, 2, 1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3];
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 9, 9];
        jpeg.extend_from_slice(&scan);
        let mut complete = jpeg.clone();
        complete.extend_from_slice(&[0xFF, 0xD9, b'S', b'E', b'F', b'T']);
        assert_eq!(jpeg_scans(&complete), Some(1));
        assert_eq!(jpeg_scans(&jpeg), None, "cut inside the scan");
        assert_eq!(
            jpeg_scans(&complete[..5]),
            None,
            "cut inside a segment header"
        );
        assert_eq!(jpeg_scans(&[]), None);
        // A second scan is counted.
        let mut two = jpeg.clone();
        two.extend_from_slice(&scan);
        two.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(jpeg_scans(&two), Some(2));
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let limits = DecodeLimits {
            max_input_bytes: 10,
            ..DecodeLimits::default()
        };
        let err = decode(&[0u8; 11], &limits).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TooLarge);
    }

    #[test]
    fn garbage_is_an_unsupported_format() {
        let err = decode(b"definitely not an image", &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
    }
}
