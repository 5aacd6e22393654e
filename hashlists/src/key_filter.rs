//! A fixed-size Bloom filter of the entry keys a writer has staged.
//!
//! A bulk import (a large list loaded into an empty one) would otherwise ask Redis, for every
//! record, whether an earlier record of the same file already staged that key: a lookup that
//! costs Redis about as much as the write itself and almost always answers "no". The filter
//! answers "certainly not staged" for nearly every key without a round trip, so only the few
//! maybe-staged keys (real duplicates and false positives) are looked up. Its size is fixed,
//! so memory stays bounded however long the file is; past its design size it only gets less
//! selective, never wrong.

use std::hash::{BuildHasher, RandomState};

/// Bits in the filter: 2^26 (8 MiB), about 1 % false positives at 10 million keys.
const BITS: u64 = 1 << 26;
/// Bit positions set per key.
const PROBES: usize = 4;

/// Keys that may have been staged; a key never inserted is reported absent except for false
/// positives.
pub(crate) struct KeyFilter {
    words: Vec<u64>,
    hasher: RandomState,
}

impl KeyFilter {
    /// An empty filter.
    pub(crate) fn new() -> Self {
        KeyFilter {
            words: vec![0; (BITS / 64) as usize],
            hasher: RandomState::new(),
        }
    }

    /// The bit positions of `key` (double hashing from one 64-bit hash).
    fn positions(&self, key: &str) -> [u64; PROBES] {
        let h = self.hasher.hash_one(key);
        let step = (h >> 32) | 1;
        std::array::from_fn(|i| h.wrapping_add((i as u64).wrapping_mul(step)) % BITS)
    }

    /// Records `key` as staged.
    pub(crate) fn insert(&mut self, key: &str) {
        for bit in self.positions(key) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// Whether `key` may have been staged (`false`: it certainly was not).
    pub(crate) fn may_contain(&self, key: &str) -> bool {
        self.positions(key)
            .into_iter()
            .all(|bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::KeyFilter;

    #[test]
    fn inserted_keys_are_always_reported() {
        let mut filter = KeyFilter::new();
        let keys: Vec<String> = (0..10_000).map(|i| format!("pdq:{i:064x}")).collect();
        for k in &keys {
            filter.insert(k);
        }
        assert!(keys.iter().all(|k| filter.may_contain(k)));
    }

    #[test]
    fn absent_keys_are_rarely_reported() {
        let mut filter = KeyFilter::new();
        for i in 0..100_000 {
            filter.insert(&format!("md5:{i:032x}"));
        }
        let false_positives = (100_000..200_000)
            .filter(|i| filter.may_contain(&format!("md5:{i:032x}")))
            .count();
        // At 100k keys in 2^26 bits with 4 probes, about 1e-8 are expected.
        assert!(false_positives < 10, "{false_positives} false positives");
    }
}
