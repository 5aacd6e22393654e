//! Per-list PDQ conventions: a hash is compared only with lists of the convention it was made
//! with, and the signal computer makes the second hash only where the conventions differ.

use takedown_core::SignalType;
use takedown_core::{PdqConvention, PdqHash};
use takedown_matcher::decode::{DecodeLimits, decode};
use takedown_matcher::index::{Change, EntryRef, IndexBuilder, ListInfo, Match, Outcome, Signal};
use takedown_matcher::pdq::{PreResize, pdq_hash};
use takedown_matcher::{SignalComputer, Signals};

use PdqConvention::{FullSize, Reference};

fn hash(seed: u64) -> PdqHash {
    let mut words = [0u64; 4];
    for (i, w) in words.iter_mut().enumerate() {
        *w = (seed + i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    PdqHash { words }
}

fn flipped(h: PdqHash, bits: u32) -> PdqHash {
    let mut out = h;
    for b in 0..bits {
        out.words[(b / 64) as usize] ^= 1 << (b % 64);
    }
    out
}

fn lists_of(outcome: &Outcome) -> Vec<u16> {
    let mut lists: Vec<u16> = outcome.matches().iter().map(|m| m.entry.list).collect();
    lists.sort();
    lists
}

#[test]
fn each_list_is_compared_with_the_hash_of_its_own_convention() {
    let h = hash(1);
    let mut b = IndexBuilder::new();
    b.list(0, ListInfo::block()) // reference by default
        .list(1, ListInfo::block().with_pdq_convention(FullSize))
        .list(2, ListInfo::block().with_pdq_convention(Reference));
    for list in 0..3 {
        b.add(EntryRef::new(list, 0), Signal::Pdq(h));
    }
    let v = b.build().unwrap();
    let near = flipped(h, 5);
    assert_eq!(
        lists_of(&v.match_pdq_of(&near, 80, Some(Reference))),
        [0, 2]
    );
    assert_eq!(lists_of(&v.match_pdq_of(&near, 80, Some(FullSize))), [1]);
    assert_eq!(lists_of(&v.match_pdq_of(&near, 80, None)), [0, 1, 2]);
    assert_eq!(lists_of(&v.match_pdq(&near, 80)), [0, 1, 2]);
    // Thresholds and quality still apply within a convention.
    assert!(lists_of(&v.match_pdq_of(&flipped(h, 32), 80, Some(FullSize))).is_empty());
    assert_eq!(
        v.match_pdq_of(&near, 49, Some(FullSize)),
        Outcome::LowQuality { quality: 49 }
    );
    // Entries added since the build (the delta) follow the same rule.
    let v = v
        .apply([Change::Add(EntryRef::new(1, 9), Signal::Pdq(hash(2)))])
        .unwrap();
    assert!(lists_of(&v.match_pdq_of(&hash(2), 80, Some(Reference))).is_empty());
    assert_eq!(lists_of(&v.match_pdq_of(&hash(2), 80, Some(FullSize))), [1]);
}

#[test]
fn an_allow_list_suppresses_only_queries_of_its_convention() {
    let h = hash(3);
    let mut b = IndexBuilder::new();
    b.list(0, ListInfo::block().with_pdq_convention(FullSize))
        .list(1, ListInfo::allow().with_pdq_convention(Reference))
        .list(2, ListInfo::block().with_pdq_convention(Reference));
    b.add(EntryRef::new(0, 0), Signal::Pdq(h));
    b.add(EntryRef::new(1, 0), Signal::Pdq(h));
    b.add(EntryRef::new(2, 0), Signal::Pdq(h));
    let v = b.build().unwrap();
    assert_eq!(
        v.match_pdq_of(&h, 90, Some(Reference)),
        Outcome::Allowed(Match {
            distance: 0,
            entry: EntryRef::new(1, 0)
        })
    );
    assert_eq!(lists_of(&v.match_pdq_of(&h, 90, Some(FullSize))), [0]);
}

fn computed(width: u32, height: u32, primary: PreResize, both: bool) -> (Signals, Vec<u8>) {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut c = SignalComputer::new(DecodeLimits::default(), PreResize::Reference);
    let s = c
        .compute_conventions(&png, &[SignalType::Pdq], primary, both)
        .unwrap();
    (s, png)
}

fn expected(png: &[u8], convention: PreResize) -> takedown_matcher::PdqOutput {
    let image = decode(png, &DecodeLimits::default()).unwrap();
    let (w, h) = (image.width as usize, image.height as usize);
    pdq_hash(image.pixels_ref(), w, h, convention)
}

#[test]
fn the_second_hash_is_made_only_where_the_conventions_differ() {
    // Over 512 px on one side: both hashes, each tagged.
    let (s, png) = computed(700, 300, FullSize, true);
    assert_eq!(s.pdq, Some(expected(&png, FullSize)));
    assert_eq!(s.pdq_convention, Some(FullSize));
    assert_eq!(s.pdq_other, Some(expected(&png, Reference)));
    assert_ne!(s.pdq.unwrap().hash, s.pdq_other.unwrap().hash);
    let (s, png) = computed(300, 700, Reference, true);
    assert_eq!(s.pdq, Some(expected(&png, Reference)));
    assert_eq!(s.pdq_other, Some(expected(&png, FullSize)));
    // One convention asked: one hash, still tagged.
    let (s, _) = computed(700, 300, Reference, false);
    assert_eq!((s.pdq_convention, s.pdq_other), (Some(Reference), None));
    // 512 px or less: one hash, valid for both, untagged.
    let (s, png) = computed(512, 512, FullSize, true);
    assert_eq!(s.pdq, Some(expected(&png, Reference)));
    assert_eq!((s.pdq_convention, s.pdq_other), (None, None));
}
