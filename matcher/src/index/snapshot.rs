//! Snapshots: a version saved to a file a restarting matcher loads in one sequential read.
//!
//! Rebuilding a 10M-entry index takes seconds of CPU on every restart; a snapshot stores the
//! built arrays themselves (hashes, directories, postings, entry references) as little-endian
//! bytes, so loading is reading them back into their vectors and checking a checksum. There is
//! no parsing per entry and no `unsafe` (no mmap): `bytemuck` views each vector as bytes for
//! `read_exact`.
//!
//! Layout: magic `TKDNIDX\0`, format version, options, generation, lists, the PDQ index, the
//! three exact indexes, the delta, then a 64-bit checksum of everything before it.

use super::exact::ExactIndex;
use super::hamming::{Ids, PdqIndex, Table};
use super::version::{Base, Delta};
use super::{EntryRef, IndexVersion, ListInfo, ListKind, MatchOptions, Refs, Signal};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use takedown_core::{Md5Digest, PdqConvention, PdqHash, Sha256Digest, Sha512Digest};

const MAGIC: &[u8; 8] = b"TKDNIDX\0";
/// Format 2 added each list's PDQ convention; format 1 snapshots (all lists of the reference
/// convention) still load.
const FORMAT: u32 = 2;
const KEYS: usize = 1 << 16;

/// Why a snapshot could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("snapshot i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a Takedown index snapshot.
    #[error("not an index snapshot (bad magic bytes)")]
    BadMagic,
    /// The snapshot was written by an incompatible version of Takedown.
    #[error("snapshot format {0} is not supported (this build reads format {FORMAT})")]
    UnsupportedFormat(u32),
    /// The contents do not match their checksum (truncated or damaged file).
    #[error("snapshot checksum mismatch: the file is damaged")]
    Checksum,
    /// The contents are inconsistent.
    #[error("snapshot is corrupt: {0}")]
    Corrupt(String),
    /// Snapshots are little-endian and this machine is not.
    #[error("snapshots are little-endian and this machine is big-endian")]
    BigEndian,
}

/// A fast 64-bit checksum (four independent multiply-rotate lanes), not cryptographic: it
/// catches truncation and damage at memory speed.
struct Checksum([u64; 4]);

impl Checksum {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;

    fn new() -> Self {
        Checksum([1, 2, 3, 4])
    }

    fn update(&mut self, bytes: &[u8]) {
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            for (lane, word) in self.0.iter_mut().zip(block.chunks_exact(8)) {
                let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
                *lane = (lane.rotate_left(29) ^ w).wrapping_mul(Self::K);
            }
        }
        let mut tail = [0u8; 32];
        let rest = blocks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        for (lane, word) in self.0.iter_mut().zip(tail.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            *lane = (lane.rotate_left(29) ^ w ^ bytes.len() as u64).wrapping_mul(Self::K);
        }
    }

    fn value(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, l| {
            (acc ^ l).wrapping_mul(Self::K).rotate_left(31)
        })
    }
}

struct Out<W: Write> {
    w: W,
    sum: Checksum,
}

impl<W: Write> Out<W> {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.sum.update(b);
        self.w.write_all(b)
    }
    fn u8(&mut self, v: u8) -> std::io::Result<()> {
        self.bytes(&[v])
    }
    fn u32(&mut self, v: u32) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    fn u16s(&mut self, v: &[u16]) -> std::io::Result<()> {
        self.bytes(bytemuck::cast_slice(v))
    }
    fn u32s(&mut self, v: &[u32]) -> std::io::Result<()> {
        self.bytes(bytemuck::cast_slice(v))
    }
    fn refs(&mut self, r: &Refs) -> std::io::Result<()> {
        self.u64(r.lists.len() as u64)?;
        self.u64(r.first.len() as u64)?;
        self.u16s(&r.lists)?;
        self.u32s(&r.entries)?;
        self.u32s(&r.first)
    }
    fn exact<const N: usize>(&mut self, x: &ExactIndex<N>) -> std::io::Result<()> {
        self.u64(x.keys.len() as u64)?;
        self.u32(x.bits)?;
        self.bytes(x.keys.as_flattened())?;
        self.u32s(&x.dir)?;
        self.refs(&x.refs)
    }
}

struct In<R: Read> {
    r: R,
    sum: Checksum,
}

impl<R: Read> In<R> {
    fn bytes(&mut self, b: &mut [u8]) -> Result<(), SnapshotError> {
        self.r.read_exact(b)?;
        self.sum.update(b);
        Ok(())
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        let mut b = [0u8; 1];
        self.bytes(&mut b)?;
        Ok(b[0])
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let mut b = [0u8; 4];
        self.bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut b = [0u8; 8];
        self.bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn len(&mut self, what: &str) -> Result<usize, SnapshotError> {
        let n = self.u64()?;
        // No real index is near this; a larger count is damage, not a reason to allocate.
        if n > 1 << 36 {
            return Err(SnapshotError::Corrupt(format!("{what} count {n}")));
        }
        Ok(n as usize)
    }
    fn u16s(&mut self, n: usize) -> Result<Vec<u16>, SnapshotError> {
        let mut v = vec![0u16; n];
        self.bytes(bytemuck::cast_slice_mut(&mut v))?;
        Ok(v)
    }
    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, SnapshotError> {
        let mut v = vec![0u32; n];
        self.bytes(bytemuck::cast_slice_mut(&mut v))?;
        Ok(v)
    }
    fn refs(&mut self, distinct: usize) -> Result<Refs, SnapshotError> {
        let n = self.len("entry")?;
        let n_first = self.len("group")?;
        let refs = Refs {
            lists: self.u16s(n)?,
            entries: self.u32s(n)?,
            first: self.u32s(n_first)?,
        };
        let consistent = if refs.first.is_empty() {
            n == distinct
        } else {
            n_first == distinct + 1
                && refs.first.last() == Some(&(n as u32))
                && refs.first.windows(2).all(|w| w[0] < w[1])
        };
        if !consistent {
            return Err(SnapshotError::Corrupt("entry groups".into()));
        }
        Ok(refs)
    }
    fn dir(&mut self, n: usize, total: usize, what: &str) -> Result<Vec<u32>, SnapshotError> {
        let dir = self.u32s(n)?;
        if dir.first() != Some(&0)
            || dir.last() != Some(&(total as u32))
            || dir.windows(2).any(|w| w[0] > w[1])
        {
            return Err(SnapshotError::Corrupt(format!("{what} directory")));
        }
        Ok(dir)
    }
    fn exact<const N: usize>(&mut self) -> Result<ExactIndex<N>, SnapshotError> {
        let n = self.len("key")?;
        let bits = self.u32()?;
        if !(1..=24).contains(&bits) {
            return Err(SnapshotError::Corrupt(format!("directory bits {bits}")));
        }
        let mut keys = vec![[0u8; N]; n];
        self.bytes(keys.as_flattened_mut())?;
        let dir = self.dir((1 << bits) + 1, n, "exact")?;
        let refs = self.refs(n)?;
        Ok(ExactIndex {
            keys,
            bits,
            dir,
            refs,
        })
    }
}

fn kind_code(k: ListKind) -> u8 {
    match k {
        ListKind::Block => 0,
        ListKind::Allow => 1,
    }
}

/// Writes `version` to `w`.
pub fn save(version: &IndexVersion, w: impl Write) -> Result<(), SnapshotError> {
    if cfg!(target_endian = "big") {
        return Err(SnapshotError::BigEndian);
    }
    let mut out = Out {
        w,
        sum: Checksum::new(),
    };
    out.bytes(MAGIC)?;
    out.u32(FORMAT)?;
    out.u8(version.options.min_pdq_quality)?;
    out.u64(version.generation)?;
    out.u64(version.lists.len() as u64)?;
    for list in version.lists.iter() {
        match list {
            None => out.u8(0)?,
            Some(l) => {
                out.u8(1)?;
                out.u8(kind_code(l.kind))?;
                out.u8(match l.pdq_convention {
                    PdqConvention::Reference => 0,
                    PdqConvention::FullSize => 1,
                })?;
                out.u8(l.severity)?;
                out.u32(l.threshold)?;
                out.u64(l.labels.len() as u64)?;
                for label in &l.labels {
                    out.u64(label.len() as u64)?;
                    out.bytes(label.as_bytes())?;
                }
            }
        }
    }
    let pdq = &version.base.pdq;
    out.u64(pdq.hashes.len() as u64)?;
    out.bytes(bytemuck::cast_slice(pdq.hashes.as_flattened()))?;
    out.u32s(&pdq.dir0)?;
    out.refs(&pdq.refs)?;
    for t in &pdq.tables {
        out.u32s(&t.dir)?;
        out.u16s(&t.partner)?;
        match &t.ids {
            Ids::U24(v) => {
                out.u8(3)?;
                out.bytes(v.as_flattened())?;
            }
            Ids::U32(v) => {
                out.u8(4)?;
                out.u32s(v)?;
            }
        }
    }
    out.exact(&version.base.md5)?;
    out.exact(&version.base.sha256)?;
    out.exact(&version.base.sha512)?;
    out.u64(version.delta.added.len() as u64)?;
    for (r, s) in &version.delta.added {
        out.bytes(&r.list.to_le_bytes())?;
        out.u32(r.entry)?;
        match s {
            Signal::Pdq(h) => {
                out.u8(0)?;
                out.bytes(&h.to_bytes())?;
            }
            Signal::Md5(d) => {
                out.u8(1)?;
                out.bytes(&d.0)?;
            }
            Signal::Sha256(d) => {
                out.u8(2)?;
                out.bytes(&d.0)?;
            }
            Signal::Sha512(d) => {
                out.u8(3)?;
                out.bytes(&d.0)?;
            }
        }
    }
    let mut tombstones: Vec<&EntryRef> = version.delta.tombstones.iter().collect();
    tombstones.sort_unstable();
    out.u64(tombstones.len() as u64)?;
    for r in tombstones {
        out.bytes(&r.list.to_le_bytes())?;
        out.u32(r.entry)?;
    }
    let sum = out.sum.value();
    out.w.write_all(&sum.to_le_bytes())?;
    out.w.flush()?;
    Ok(())
}

/// Reads a version written by [`save`].
pub fn load(r: impl Read) -> Result<IndexVersion, SnapshotError> {
    if cfg!(target_endian = "big") {
        return Err(SnapshotError::BigEndian);
    }
    let mut inp = In {
        r,
        sum: Checksum::new(),
    };
    let mut magic = [0u8; 8];
    inp.bytes(&mut magic)?;
    if &magic != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let format = inp.u32()?;
    if format != FORMAT && format != 1 {
        return Err(SnapshotError::UnsupportedFormat(format));
    }
    let options = MatchOptions {
        min_pdq_quality: inp.u8()?,
    };
    let generation = inp.u64()?;
    let n_lists = inp.len("list")?;
    if n_lists > 1 << 16 {
        return Err(SnapshotError::Corrupt(format!("{n_lists} lists")));
    }
    let mut lists = Vec::with_capacity(n_lists);
    for _ in 0..n_lists {
        if inp.u8()? == 0 {
            lists.push(None);
            continue;
        }
        let kind = match inp.u8()? {
            0 => ListKind::Block,
            1 => ListKind::Allow,
            k => return Err(SnapshotError::Corrupt(format!("list kind {k}"))),
        };
        let pdq_convention = match if format == 1 { 0 } else { inp.u8()? } {
            0 => PdqConvention::Reference,
            1 => PdqConvention::FullSize,
            c => return Err(SnapshotError::Corrupt(format!("PDQ convention {c}"))),
        };
        let severity = inp.u8()?;
        let threshold = inp.u32()?;
        let n_labels = inp.len("label")?;
        let mut labels = Vec::new();
        for _ in 0..n_labels {
            let len = inp.len("label byte")?;
            let mut b = vec![0u8; len];
            inp.bytes(&mut b)?;
            labels.push(
                String::from_utf8(b).map_err(|_| SnapshotError::Corrupt("label utf-8".into()))?,
            );
        }
        lists.push(Some(ListInfo {
            kind,
            threshold,
            severity,
            labels,
            pdq_convention,
        }));
    }

    let u = inp.len("hash")?;
    let mut hashes = vec![[0u64; 4]; u];
    inp.bytes(bytemuck::cast_slice_mut(hashes.as_flattened_mut()))?;
    let dir0 = inp.dir(KEYS + 1, u, "primary")?;
    let refs = inp.refs(u)?;
    let mut tables = Vec::with_capacity(15);
    for _ in 1..16 {
        let dir = inp.dir(KEYS + 1, u, "slice")?;
        let partner = inp.u16s(u)?;
        let ids = match inp.u8()? {
            3 => {
                let mut v = vec![[0u8; 3]; u];
                inp.bytes(v.as_flattened_mut())?;
                Ids::U24(v)
            }
            4 => Ids::U32(inp.u32s(u)?),
            w => return Err(SnapshotError::Corrupt(format!("id width {w}"))),
        };
        tables.push(Table { dir, partner, ids });
    }
    let md5 = inp.exact::<16>()?;
    let sha256 = inp.exact::<32>()?;
    let sha512 = inp.exact::<64>()?;

    let n_added = inp.len("added entry")?;
    let mut added = Vec::with_capacity(n_added.min(1 << 20));
    for _ in 0..n_added {
        let r = read_ref(&mut inp)?;
        let signal = match inp.u8()? {
            0 => {
                let mut b = [0u8; 32];
                inp.bytes(&mut b)?;
                Signal::Pdq(PdqHash::from_bytes(b))
            }
            1 => {
                let mut b = [0u8; 16];
                inp.bytes(&mut b)?;
                Signal::Md5(Md5Digest(b))
            }
            2 => {
                let mut b = [0u8; 32];
                inp.bytes(&mut b)?;
                Signal::Sha256(Sha256Digest(b))
            }
            3 => {
                let mut b = [0u8; 64];
                inp.bytes(&mut b)?;
                Signal::Sha512(Sha512Digest(b))
            }
            t => return Err(SnapshotError::Corrupt(format!("signal tag {t}"))),
        };
        added.push((r, signal));
    }
    let n_tomb = inp.len("tombstone")?;
    let mut tombstones = HashSet::with_capacity(n_tomb.min(1 << 20));
    for _ in 0..n_tomb {
        tombstones.insert(read_ref(&mut inp)?);
    }
    let expected = inp.sum.value();
    let mut stored = [0u8; 8];
    inp.r.read_exact(&mut stored)?;
    if u64::from_le_bytes(stored) != expected {
        return Err(SnapshotError::Checksum);
    }
    // Positions out of range would panic in queries: refuse them here (the checksum vouches
    // for integrity, not for the writer).
    for t in &tables {
        let max = match &t.ids {
            Ids::U24(v) => v
                .iter()
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]))
                .max(),
            Ids::U32(v) => v.iter().copied().max(),
        };
        if max.is_some_and(|m| m as usize >= u) {
            return Err(SnapshotError::Corrupt("posting position".into()));
        }
    }
    Ok(IndexVersion {
        lists: Arc::new(lists),
        base: Arc::new(Base {
            pdq: PdqIndex::from_tables(hashes, dir0, tables, refs),
            md5,
            sha256,
            sha512,
        }),
        delta: Arc::new(Delta { added, tombstones }),
        options,
        generation,
    })
}

fn read_ref<R: Read>(inp: &mut In<R>) -> Result<EntryRef, SnapshotError> {
    let mut l = [0u8; 2];
    inp.bytes(&mut l)?;
    Ok(EntryRef::new(u16::from_le_bytes(l), inp.u32()?))
}

/// Saves `version` to `path` atomically (a temporary file renamed over it).
pub fn save_file(version: &IndexVersion, path: &Path) -> Result<(), SnapshotError> {
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    save(version, &mut w)?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Loads a version from `path`.
pub fn load_file(path: &Path) -> Result<IndexVersion, SnapshotError> {
    load(BufReader::with_capacity(1 << 20, File::open(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Change, IndexBuilder};

    #[test]
    fn round_trips_and_detects_damage() {
        let mut b = IndexBuilder::new();
        b.list(0, ListInfo::block()).list(
            2,
            ListInfo::allow()
                .with_threshold(5)
                .with_pdq_convention(PdqConvention::FullSize),
        );
        for i in 0..300u32 {
            let mut words = [u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15); 4];
            words[1] ^= u64::from(i);
            b.add(EntryRef::new(0, i), Signal::Pdq(PdqHash { words }));
        }
        b.add(EntryRef::new(2, 0), Signal::Sha256(Sha256Digest([3; 32])));
        let v = b
            .build()
            .unwrap()
            .apply([
                Change::Delete(EntryRef::new(0, 4)),
                Change::Add(EntryRef::new(0, 1000), Signal::Md5(Md5Digest([1; 16]))),
            ])
            .unwrap();
        let mut bytes = Vec::new();
        save(&v, &mut bytes).unwrap();
        let back = load(&bytes[..]).unwrap();
        assert_eq!(back.generation(), v.generation());
        assert_eq!(back.lists, v.lists);
        assert_eq!(back.base.pdq.hashes, v.base.pdq.hashes);
        assert_eq!(back.base.pdq.tables, v.base.pdq.tables);
        assert_eq!(back.base.sha256, v.base.sha256);
        assert_eq!(back.delta.added, v.delta.added);
        assert_eq!(back.delta.tombstones, v.delta.tombstones);

        let mut damaged = bytes.clone();
        damaged[100] ^= 1;
        assert!(load(&damaged[..]).is_err());
        assert!(matches!(
            load(&bytes[..bytes.len() - 3]),
            Err(SnapshotError::Io(_))
        ));
        assert!(matches!(load(&b"nope"[..]), Err(SnapshotError::Io(_))));
        assert!(matches!(load(&[0u8; 64][..]), Err(SnapshotError::BadMagic)));
    }
}
