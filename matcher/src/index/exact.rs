//! The exact index: equality lookup for digests (MD5, SHA-256, SHA-512) and any other signal
//! matched by equality.
//!
//! Digests are uniformly distributed, so their leading bits are a near-perfect hash: keys are
//! stored sorted in one flat array with a directory on their top bits, and a lookup is one
//! directory read plus a search of a bucket of one or two keys. That is as fast as a hash map,
//! smaller (no empty slots, no per-entry allocation), built by a sort, and saved or loaded as
//! plain arrays.

use super::{EntryRef, IndexError, Refs, vec_bytes};
use rayon::prelude::*;

/// An immutable equality index over `N`-byte keys (N ≥ 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactIndex<const N: usize> {
    /// Distinct keys, sorted.
    pub(crate) keys: Vec<[u8; N]>,
    /// Number of leading key bits the directory uses.
    pub(crate) bits: u32,
    /// `dir[p]..dir[p + 1]` are the keys whose top `bits` bits equal `p`.
    pub(crate) dir: Vec<u32>,
    /// The entries of each distinct key.
    pub(crate) refs: Refs,
}

impl<const N: usize> Default for ExactIndex<N> {
    fn default() -> Self {
        Self::build(Vec::new()).expect("an empty index builds")
    }
}

impl<const N: usize> ExactIndex<N> {
    const CHECK: () = assert!(N >= 4, "exact keys need at least 4 bytes");

    /// Builds the index; identical `(key, entry)` pairs are kept once.
    pub fn build(mut items: Vec<([u8; N], EntryRef)>) -> Result<Self, IndexError> {
        let () = Self::CHECK;
        items.par_sort_unstable();
        items.dedup();
        let mut keys = Vec::new();
        let refs = Refs::group(&items, |k: [u8; N]| keys.push(k))?;
        drop(items);
        // About two keys per bucket: a directory of half a word per key.
        let bits = (usize::BITS - keys.len().leading_zeros())
            .saturating_sub(2)
            .clamp(1, 24);
        let mut dir = vec![0u32; (1 << bits) + 1];
        for k in &keys {
            dir[prefix(k, bits) + 1] += 1;
        }
        for p in 0..1 << bits {
            dir[p + 1] += dir[p];
        }
        Ok(ExactIndex {
            keys,
            bits,
            dir,
            refs,
        })
    }

    /// The position of `key` among the distinct keys, if present.
    #[inline]
    pub fn find(&self, key: &[u8; N]) -> Option<usize> {
        let p = prefix(key, self.bits);
        let (a, b) = (self.dir[p] as usize, self.dir[p + 1] as usize);
        self.keys[a..b].binary_search(key).ok().map(|i| a + i)
    }

    /// The entries whose key is `key`.
    pub fn get(&self, key: &[u8; N]) -> impl Iterator<Item = EntryRef> + '_ {
        self.find(key).into_iter().flat_map(|v| self.refs.of(v))
    }

    /// The entries of the `v`-th distinct key.
    pub fn entries_of(&self, v: usize) -> impl Iterator<Item = EntryRef> + '_ {
        self.refs.of(v)
    }

    /// Every `(key, entry)` pair, in key order.
    pub fn iter(&self) -> impl Iterator<Item = ([u8; N], EntryRef)> + '_ {
        (0..self.keys.len()).flat_map(move |v| self.refs.of(v).map(move |r| (self.keys[v], r)))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.refs.len() == 0
    }

    /// Heap bytes allocated (capacities, not lengths).
    pub fn heap_bytes(&self) -> usize {
        vec_bytes(&self.keys) + vec_bytes(&self.dir) + self.refs.heap_bytes()
    }
}

/// The top `bits` bits of a key.
#[inline(always)]
fn prefix<const N: usize>(key: &[u8; N], bits: u32) -> usize {
    (u32::from_be_bytes([key[0], key[1], key[2], key[3]]) >> (32 - bits)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_present_keys_and_only_them() {
        let items: Vec<([u8; 16], EntryRef)> = (0u32..1000)
            .map(|i| {
                let mut k = [0u8; 16];
                k[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
                k[15] = i as u8;
                (k, EntryRef::new((i % 3) as u16, i))
            })
            .collect();
        let index = ExactIndex::build(items.clone()).unwrap();
        assert_eq!(index.len(), 1000);
        for (k, r) in &items {
            assert_eq!(index.get(k).collect::<Vec<_>>(), vec![*r]);
            let mut other = *k;
            other[15] ^= 0x80;
            assert_eq!(index.get(&other).count(), 0);
        }
    }

    #[test]
    fn a_key_on_two_lists_reports_both() {
        let k = [7u8; 32];
        let index =
            ExactIndex::build(vec![(k, EntryRef::new(2, 1)), (k, EntryRef::new(1, 5))]).unwrap();
        assert_eq!(
            index.get(&k).collect::<Vec<_>>(),
            vec![EntryRef::new(1, 5), EntryRef::new(2, 1)]
        );
        assert!(ExactIndex::<32>::default().get(&k).next().is_none());
    }
}
