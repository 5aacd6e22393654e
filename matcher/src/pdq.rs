//! PDQ perceptual hashing, bit-for-bit with Meta's reference implementation.
//!
//! Shared hash lists (GIFCT, Tech Against Terrorism) carry PDQ hashes made by Meta's C++ tool, so
//! our hashes must agree with it exactly, not approximately: every floating-point operation below
//! happens in the reference's order and precision (`f32`, no fused multiply-add). Speed comes from
//! doing independent lanes together (all columns of a column pass at once, all DCT outputs of a
//! row at once), which changes memory order but never the arithmetic of any one value.
//!
//! The pipeline: luma → two passes of a Jarosz box filter along rows then columns → decimation to
//! 64×64 → quality from gradients → the 16×16 low-frequency block of a 2-D DCT → one bit per
//! coefficient, set when it is above the median.

use std::sync::OnceLock;
use takedown_core::PdqHash;

/// Images smaller than this on either side hash to zero with quality 0, as in the reference.
pub const MIN_HASHABLE_DIM: usize = 5;

/// Side length the reference tool pre-resizes larger images to (nearest neighbour).
pub const REFERENCE_PRE_RESIZE: usize = 512;

const LUMA_R: f32 = 0.299;
const LUMA_G: f32 = 0.587;
const LUMA_B: f32 = 0.114;
const JAROSZ_PASSES: usize = 2;

/// A PDQ hash with its quality score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqOutput {
    /// The 256-bit hash.
    pub hash: PdqHash,
    /// Quality 0..=100: how much gradient the image has. Hashes below 50 are unreliable.
    pub quality: u8,
}

/// How images larger than 512 pixels on a side are treated before hashing: the PDQ convention
/// (`Reference`, 512×512 pre-resize as Meta's C++ tool; `FullSize`, as python-threatexchange/HMA).
pub use takedown_core::PdqConvention as PreResize;

/// 8-bit pixels to hash: either one grey channel or interleaved RGB.
#[derive(Debug, Clone, Copy)]
pub enum PixelsRef<'a> {
    /// One byte per pixel, row-major.
    Grey(&'a [u8]),
    /// Three bytes (R, G, B) per pixel, row-major.
    Rgb(&'a [u8]),
}

/// Reusable working memory for PDQ hashing, so a worker hashing many images allocates once.
#[derive(Default)]
pub struct PdqHasher {
    luma: Vec<f32>,
    scratch: Vec<f32>,
}

impl PdqHasher {
    /// A hasher with empty buffers; they grow to the largest image hashed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes 8-bit pixels of a `width` × `height` image, applying `pre_resize` first.
    ///
    /// # Panics
    /// If the pixel slice is shorter than the dimensions say.
    pub fn hash_pixels(
        &mut self,
        pixels: PixelsRef<'_>,
        width: usize,
        height: usize,
        pre_resize: PreResize,
    ) -> PdqOutput {
        let (out_w, out_h) = match pre_resize {
            PreResize::Reference
                if width > REFERENCE_PRE_RESIZE || height > REFERENCE_PRE_RESIZE =>
            {
                (REFERENCE_PRE_RESIZE, REFERENCE_PRE_RESIZE)
            }
            _ => (width, height),
        };
        // Nearest-neighbour source index as CImg computes it: floor(x · old / new) in f64.
        let src_x: Vec<usize> = (0..out_w)
            .map(|x| ((x as f64 * width as f64) / out_w as f64) as usize)
            .collect();
        self.luma.clear();
        self.luma.reserve(out_w * out_h);
        let mut previous = None;
        for y in 0..out_h {
            let sy = ((y as f64 * height as f64) / out_h as f64) as usize;
            if previous == Some(sy) {
                // A source row repeated by upscaling: copy the row just made.
                let start = self.luma.len() - out_w;
                self.luma.extend_from_within(start..);
                continue;
            }
            previous = Some(sy);
            match pixels {
                PixelsRef::Grey(p) => {
                    let row = &p[sy * width..(sy + 1) * width];
                    self.luma.extend(src_x.iter().map(|&sx| f32::from(row[sx])));
                }
                PixelsRef::Rgb(p) => {
                    let row = &p[sy * width * 3..(sy + 1) * width * 3];
                    self.luma.extend(src_x.iter().map(|&sx| {
                        let px = &row[sx * 3..sx * 3 + 3];
                        LUMA_R * f32::from(px[0])
                            + LUMA_G * f32::from(px[1])
                            + LUMA_B * f32::from(px[2])
                    }));
                }
            }
        }
        let mut luma = std::mem::take(&mut self.luma);
        let out = self.hash_luma(&mut luma, out_w, out_h);
        self.luma = luma;
        out
    }

    /// Hashes a row-major luma buffer (values 0..=255 as `f32`). The buffer is used as working
    /// memory: its contents afterwards are unspecified.
    ///
    /// # Panics
    /// If `luma.len() != width * height`.
    pub fn hash_luma(&mut self, luma: &mut [f32], width: usize, height: usize) -> PdqOutput {
        assert_eq!(luma.len(), width * height, "luma buffer size");
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return PdqOutput {
                hash: PdqHash::ZERO,
                quality: 0,
            };
        }
        let mut small = [[0f32; 64]; 64];
        if width == 64 && height == 64 {
            for (row, chunk) in small.iter_mut().zip(luma.chunks_exact(64)) {
                row.copy_from_slice(chunk);
            }
        } else {
            self.scratch.resize(width * height, 0.0);
            let window_along_rows = jarosz_window(width, 64);
            let window_along_cols = jarosz_window(height, 64);
            for pass in 1..=JAROSZ_PASSES {
                box_along_rows(luma, &mut self.scratch, height, width, window_along_rows);
                if pass < JAROSZ_PASSES {
                    box_along_cols(&self.scratch, luma, height, width, window_along_cols);
                } else {
                    // Only the 64 × 64 samples the decimation keeps are needed from the last
                    // pass along the columns.
                    box_along_cols_decimated(
                        &self.scratch,
                        height,
                        width,
                        window_along_cols,
                        &mut small,
                    );
                }
            }
        }
        let quality = quality_metric(&small);
        let dct = dct64_to_16(&small);
        PdqOutput {
            hash: bits_above_median(&dct),
            quality,
        }
    }
}

/// Hashes 8-bit pixels with a fresh [`PdqHasher`]; see [`PdqHasher::hash_pixels`].
pub fn pdq_hash(
    pixels: PixelsRef<'_>,
    width: usize,
    height: usize,
    pre_resize: PreResize,
) -> PdqOutput {
    PdqHasher::new().hash_pixels(pixels, width, height, pre_resize)
}

fn jarosz_window(old: usize, new: usize) -> usize {
    // The reference's (old + 2·new − 1) / (2·new).
    old.div_ceil(2 * new)
}

/// The four phases of the reference's running box filter for one vector, as start/end counts.
struct BoxPhases {
    /// Adds before the first write.
    warmup: usize,
    /// Writes while the window grows.
    grow: usize,
    /// Writes with the full window.
    full: usize,
    /// Writes while the window shrinks.
    shrink: usize,
}

impl BoxPhases {
    fn new(len: usize, window: usize) -> Self {
        let half = (window + 2) / 2;
        BoxPhases {
            warmup: half - 1,
            grow: window - half + 1,
            full: len.saturating_sub(window),
            shrink: half - 1,
        }
    }
}

/// Rows filtered together by [`box_along_rows`].
const ROW_LANES: usize = 8;

/// Box filter along each row: a running sum per row, in the reference's order. A running sum
/// is a chain of dependent additions, so [`ROW_LANES`] rows are walked together: their chains
/// are independent and overlap in the processor, and every row still sees exactly the
/// reference's operations.
fn box_along_rows(input: &[f32], out: &mut [f32], rows: usize, cols: usize, window: usize) {
    let ph = BoxPhases::new(cols, window);
    let whole = rows / ROW_LANES * ROW_LANES;
    for (inb, outb) in input[..whole * cols]
        .chunks_exact(ROW_LANES * cols)
        .zip(out[..whole * cols].chunks_exact_mut(ROW_LANES * cols))
    {
        box_rows_together::<ROW_LANES>(inb, outb, cols, &ph);
    }
    for (inv, outv) in input[whole * cols..rows * cols]
        .chunks_exact(cols)
        .zip(out[whole * cols..rows * cols].chunks_exact_mut(cols))
    {
        box_rows_together::<1>(inv, outv, cols, &ph);
    }
}

/// The running box filter over `L` consecutive rows of `cols` values at once.
fn box_rows_together<const L: usize>(input: &[f32], out: &mut [f32], cols: usize, ph: &BoxPhases) {
    let ins: [&[f32]; L] = std::array::from_fn(|k| &input[k * cols..(k + 1) * cols]);
    let outs: [&mut [f32]; L] = {
        let mut rest = out;
        std::array::from_fn(|_| {
            let (row, tail) = std::mem::take(&mut rest).split_at_mut(cols);
            rest = tail;
            row
        })
    };
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut sum = [0f32; L];
    let mut n = 0usize;
    for _ in 0..ph.warmup {
        for k in 0..L {
            sum[k] += ins[k][ri];
        }
        n += 1;
        ri += 1;
    }
    for _ in 0..ph.grow {
        n += 1;
        for k in 0..L {
            sum[k] += ins[k][ri];
            outs[k][oi] = sum[k] / n as f32;
        }
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.full {
        for k in 0..L {
            sum[k] += ins[k][ri];
            sum[k] -= ins[k][li];
            outs[k][oi] = sum[k] / n as f32;
        }
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.shrink {
        n -= 1;
        for k in 0..L {
            sum[k] -= ins[k][li];
            outs[k][oi] = sum[k] / n as f32;
        }
        li += 1;
        oi += 1;
    }
}

/// Box filter along each column. Every column keeps its own running sum in the reference's order;
/// walking the rows in order updates all columns' sums together, which vectorises.
fn box_along_cols(input: &[f32], out: &mut [f32], rows: usize, cols: usize, window: usize) {
    let ph = BoxPhases::new(rows, window);
    let mut sums = vec![0f32; cols];
    let row = |r: usize| &input[r * cols..(r + 1) * cols];
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut n = 0usize;
    for _ in 0..ph.warmup {
        add_row(&mut sums, row(ri));
        n += 1;
        ri += 1;
    }
    for _ in 0..ph.grow {
        add_row(&mut sums, row(ri));
        n += 1;
        div_row(&mut out[oi * cols..(oi + 1) * cols], &sums, n as f32);
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.full {
        add_row(&mut sums, row(ri));
        sub_row(&mut sums, row(li));
        div_row(&mut out[oi * cols..(oi + 1) * cols], &sums, n as f32);
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.shrink {
        sub_row(&mut sums, row(li));
        n -= 1;
        div_row(&mut out[oi * cols..(oi + 1) * cols], &sums, n as f32);
        li += 1;
        oi += 1;
    }
}

#[inline]
fn add_row(sums: &mut [f32], row: &[f32]) {
    for (s, v) in sums.iter_mut().zip(row) {
        *s += *v;
    }
}

#[inline]
fn sub_row(sums: &mut [f32], row: &[f32]) {
    for (s, v) in sums.iter_mut().zip(row) {
        *s -= *v;
    }
}

#[inline]
fn div_row(out: &mut [f32], sums: &[f32], n: f32) {
    for (o, s) in out.iter_mut().zip(sums) {
        *o = *s / n;
    }
}

/// The source index of each of the 64 decimated samples along a dimension of `len` values:
/// the centre of each 64th, as the reference computes it.
fn decimation_indices(len: usize) -> [usize; 64] {
    std::array::from_fn(|j| (((j as f64 + 0.5) * len as f64) / 64.0) as usize)
}

/// The last box filter along the columns, computed only where the decimation samples: the
/// running sums of the 64 sampled columns (each in the reference's order, so every sample is
/// exactly what the full pass would give), divided out at the 64 sampled rows.
fn box_along_cols_decimated(
    input: &[f32],
    rows: usize,
    cols: usize,
    window: usize,
    out: &mut [[f32; 64]; 64],
) {
    let ph = BoxPhases::new(rows, window);
    let col_idx = decimation_indices(cols);
    let row_idx = decimation_indices(rows);
    let mut sums = [0f32; 64];
    let mut next = 0usize;
    let gather = |r: usize| -> [f32; 64] {
        let row = &input[r * cols..(r + 1) * cols];
        std::array::from_fn(|j| row[col_idx[j]])
    };
    let mut emit = |oi: usize, sums: &[f32; 64], n: usize| {
        // Rows ≥ 64 give strictly increasing sample rows, so each output row is sampled once.
        while next < 64 && row_idx[next] == oi {
            for (o, s) in out[next].iter_mut().zip(sums) {
                *o = *s / n as f32;
            }
            next += 1;
        }
    };
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut n = 0usize;
    for _ in 0..ph.warmup {
        add_row(&mut sums, &gather(ri));
        n += 1;
        ri += 1;
    }
    for _ in 0..ph.grow {
        add_row(&mut sums, &gather(ri));
        n += 1;
        emit(oi, &sums, n);
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.full {
        add_row(&mut sums, &gather(ri));
        sub_row(&mut sums, &gather(li));
        emit(oi, &sums, n);
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..ph.shrink {
        sub_row(&mut sums, &gather(li));
        n -= 1;
        emit(oi, &sums, n);
        li += 1;
        oi += 1;
    }
}

/// Sum of quantised gradients between neighbouring samples, over 90, capped at 100.
fn quality_metric(a: &[[f32; 64]; 64]) -> u8 {
    let step = |u: f32, v: f32| (((u - v) * 100.0) / 255.0) as i32;
    let mut gradient_sum: i32 = 0;
    for (upper, lower) in a.iter().zip(&a[1..]) {
        for (&u, &v) in upper.iter().zip(lower) {
            gradient_sum += step(u, v).abs();
        }
    }
    for row in a {
        for j in 0..63 {
            gradient_sum += step(row[j], row[j + 1]).abs();
        }
    }
    (gradient_sum / 90).min(100) as u8
}

/// The 16×64 DCT matrix (rows 1..=16 of the 64-point DCT-II) and its transpose.
struct DctMatrix {
    d: [[f32; 64]; 16],
    dt: [[f32; 16]; 64],
}

fn dct_matrix() -> &'static DctMatrix {
    static MATRIX: OnceLock<DctMatrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut d = [[0f32; 64]; 16];
        let mut dt = [[0f32; 16]; 64];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (f64::from(scale) * angle.cos()) as f32;
                dt[j][i] = *v;
            }
        }
        DctMatrix { d, dt }
    })
}

/// B = D · A · Dᵀ for the 16×16 low-frequency block. Each output is accumulated over `k` in
/// ascending order, as in the reference; the loops are ordered so the independent outputs of a
/// row are updated together.
fn dct64_to_16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let m = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for (t_row, d_row) in t.iter_mut().zip(&m.d) {
        for (a_row, &dk) in a.iter().zip(d_row) {
            for (tj, &ak) in t_row.iter_mut().zip(a_row) {
                *tj += dk * ak;
            }
        }
    }
    let mut b = [[0f32; 16]; 16];
    for (b_row, t_row) in b.iter_mut().zip(&t) {
        for (&tk, dt_row) in t_row.iter().zip(&m.dt) {
            for (bj, &dk) in b_row.iter_mut().zip(dt_row) {
                *bj += tk * dk;
            }
        }
    }
    b
}

fn bits_above_median(b: &[[f32; 16]; 16]) -> PdqHash {
    let flat: Vec<f32> = b.iter().flatten().copied().collect();
    let median = torben_median(&flat);
    let mut hash = PdqHash::ZERO;
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            hash.set_bit(k);
        }
    }
    hash
}

/// Torben's median: repeated bisection on value, no sorting and no copy, with the reference's
/// tie handling (it decides which bits are set when coefficients are equal).
fn torben_median(m: &[f32]) -> f32 {
    let n = m.len();
    let half = n.div_ceil(2);
    let (mut min, mut max) = (m[0], m[0]);
    for &v in &m[1..] {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    loop {
        let guess = (min + max) / 2.0;
        let (mut less, mut greater, mut equal) = (0usize, 0usize, 0usize);
        let (mut max_lt_guess, mut min_gt_guess) = (min, max);
        for &v in m {
            if v < guess {
                less += 1;
                if v > max_lt_guess {
                    max_lt_guess = v;
                }
            } else if v > guess {
                greater += 1;
                if v < min_gt_guess {
                    min_gt_guess = v;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt_guess
            } else if less + equal >= half {
                guess
            } else {
                min_gt_guess
            };
        } else if less > greater {
            max = max_lt_guess;
        } else {
            min = min_gt_guess;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_images_hash_to_zero_with_quality_zero() {
        let out = pdq_hash(PixelsRef::Grey(&[200; 16]), 4, 4, PreResize::Reference);
        assert_eq!(out.hash, PdqHash::ZERO);
        assert_eq!(out.quality, 0);
    }

    #[test]
    fn flat_image_has_quality_zero() {
        let out = pdq_hash(
            PixelsRef::Grey(&[128; 100 * 80]),
            100,
            80,
            PreResize::Reference,
        );
        assert_eq!(out.quality, 0);
    }

    #[test]
    fn torben_agrees_with_sorting_on_distinct_values() {
        let values: Vec<f32> = (0..256)
            .map(|i| ((i * 7919) % 256) as f32 * 0.5 - 20.0)
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        // For an even count the reference returns the lower middle value.
        assert_eq!(torben_median(&values), sorted[127]);
    }

    #[test]
    fn median_split_sets_half_the_bits() {
        let mut pixels = vec![0u8; 96 * 96];
        for (i, p) in pixels.iter_mut().enumerate() {
            *p = ((i % 96) * 3 + (i / 96) * (i % 7)) as u8;
        }
        let out = pdq_hash(PixelsRef::Grey(&pixels), 96, 96, PreResize::Reference);
        assert_eq!(out.hash.count_ones(), 128);
    }

    #[test]
    fn reference_pre_resize_only_applies_above_512() {
        let make = |w: usize, h: usize| -> Vec<u8> {
            (0..w * h).map(|i| ((i % w) ^ (i / w)) as u8).collect()
        };
        let small = make(512, 300);
        let a = pdq_hash(PixelsRef::Grey(&small), 512, 300, PreResize::Reference);
        let b = pdq_hash(PixelsRef::Grey(&small), 512, 300, PreResize::FullSize);
        assert_eq!(a, b);
        let big = make(700, 600);
        let a = pdq_hash(PixelsRef::Grey(&big), 700, 600, PreResize::Reference);
        let b = pdq_hash(PixelsRef::Grey(&big), 700, 600, PreResize::FullSize);
        assert_ne!(a.hash, b.hash);
    }
}
