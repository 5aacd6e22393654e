//! The `image_hasher` family of perceptual hashes (dHash, pHash).
//!
//! PDQ is the interoperable hash; some lists also carry 64-bit dHash or pHash values. They are
//! opt-in because they cost a second resize of every image.

use image::DynamicImage;
use image_hasher::{HashAlg, Hasher, HasherConfig};

/// Computes 64-bit dHash and pHash values, as 16 lowercase hex characters.
pub struct PerceptualHashers {
    dhash: Hasher,
    phash: Hasher,
}

impl Default for PerceptualHashers {
    fn default() -> Self {
        Self::new()
    }
}

impl PerceptualHashers {
    /// Hashers for 8×8 (64-bit) dHash (gradient) and pHash (median of the DCT).
    pub fn new() -> Self {
        PerceptualHashers {
            dhash: HasherConfig::new()
                .hash_alg(HashAlg::Gradient)
                .hash_size(8, 8)
                .to_hasher(),
            phash: HasherConfig::new()
                .hash_alg(HashAlg::Median)
                .preproc_dct()
                .hash_size(8, 8)
                .to_hasher(),
        }
    }

    /// The dHash of an image, as 16 hex characters.
    pub fn dhash(&self, image: &DynamicImage) -> String {
        hex::encode(self.dhash.hash_image(image).as_bytes())
    }

    /// The pHash of an image, as 16 hex characters.
    pub fn phash(&self, image: &DynamicImage) -> String {
        hex::encode(self.phash.hash_image(image).as_bytes())
    }
}
