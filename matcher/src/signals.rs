//! One entry point that turns a file's bytes into the requested signals.
//!
//! Exact digests need only the bytes; perceptual hashes need a decode, which happens at most once
//! per file and only when a perceptual signal is asked for.

use crate::decode::{DecodeError, DecodeLimits, decode};
use crate::pdq::{PdqHasher, PdqOutput, PreResize};
use crate::perceptual::PerceptualHashers;
use md5::{Digest, Md5};
use sha2::{Sha256, Sha512};
use takedown_core::{Md5Digest, Sha256Digest, Sha512Digest, SignalType};

/// The signals computed for one file; each is present when it was requested.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// PDQ hash and quality, made with the first convention asked for.
    pub pdq: Option<PdqOutput>,
    /// The convention of `pdq` when the image is over 512 pixels on a side, where the
    /// conventions differ (`None` for a smaller image: its hash is that of both).
    pub pdq_convention: Option<PreResize>,
    /// The PDQ hash of the other convention, when both were asked for and they differ.
    pub pdq_other: Option<PdqOutput>,
    /// MD5 of the bytes.
    pub md5: Option<Md5Digest>,
    /// SHA-256 of the bytes.
    pub sha256: Option<Sha256Digest>,
    /// SHA-512 of the bytes.
    pub sha512: Option<Sha512Digest>,
    /// 64-bit dHash as hex.
    pub dhash: Option<String>,
    /// 64-bit pHash as hex.
    pub phash: Option<String>,
    /// Decoded width and height, when the image was decoded.
    pub dimensions: Option<(u32, u32)>,
}

/// Computes signals with reusable buffers; one per worker thread.
pub struct SignalComputer {
    limits: DecodeLimits,
    pre_resize: PreResize,
    pdq: PdqHasher,
    perceptual: Option<PerceptualHashers>,
}

impl SignalComputer {
    /// A computer using `limits` for decoding and `pre_resize` for PDQ.
    pub fn new(limits: DecodeLimits, pre_resize: PreResize) -> Self {
        SignalComputer {
            limits,
            pre_resize,
            pdq: PdqHasher::new(),
            perceptual: None,
        }
    }

    /// Computes the `wanted` signals of a file's bytes, PDQ with this computer's convention.
    ///
    /// Digests are computed even for bytes that are not an image when no perceptual signal is
    /// wanted; when one is, a decode failure fails the whole file.
    pub fn compute(&mut self, bytes: &[u8], wanted: &[SignalType]) -> Result<Signals, DecodeError> {
        self.compute_conventions(bytes, wanted, self.pre_resize, false)
    }

    /// As [`compute`](Self::compute), with PDQ made with `primary`; with `both`, also with the
    /// other convention ([`Signals::pdq_other`]) where the image is large enough for them to
    /// differ (over 512 pixels on a side), so lists of either convention can be matched.
    pub fn compute_conventions(
        &mut self,
        bytes: &[u8],
        wanted: &[SignalType],
        primary: PreResize,
        both: bool,
    ) -> Result<Signals, DecodeError> {
        let mut out = Signals::default();
        if wanted.contains(&SignalType::Md5) {
            out.md5 = Some(Md5Digest(Md5::digest(bytes).into()));
        }
        if wanted.contains(&SignalType::Sha256) {
            out.sha256 = Some(Sha256Digest(Sha256::digest(bytes).into()));
        }
        if wanted.contains(&SignalType::Sha512) {
            out.sha512 = Some(Sha512Digest(Sha512::digest(bytes).into()));
        }
        if !wanted.iter().any(|t| t.is_perceptual()) {
            return Ok(out);
        }
        let image = decode(bytes, &self.limits)?;
        out.dimensions = Some((image.width, image.height));
        if wanted.contains(&SignalType::Pdq) {
            let (w, h) = (image.width as usize, image.height as usize);
            out.pdq = Some(self.pdq.hash_pixels(image.pixels_ref(), w, h, primary));
            if PreResize::conventions_differ(image.width, image.height) {
                out.pdq_convention = Some(primary);
                if both {
                    let other = match primary {
                        PreResize::Reference => PreResize::FullSize,
                        PreResize::FullSize => PreResize::Reference,
                    };
                    out.pdq_other = Some(self.pdq.hash_pixels(image.pixels_ref(), w, h, other));
                }
            }
        }
        if wanted.contains(&SignalType::Dhash) || wanted.contains(&SignalType::Phash) {
            let hashers = self.perceptual.get_or_insert_with(PerceptualHashers::new);
            let image = image.to_image();
            if wanted.contains(&SignalType::Dhash) {
                out.dhash = Some(hashers.dhash(&image));
            }
            if wanted.contains(&SignalType::Phash) {
                out.phash = Some(hashers.phash(&image));
            }
        }
        Ok(out)
    }
}
