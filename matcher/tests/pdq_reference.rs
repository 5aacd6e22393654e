//! PDQ agreement with Meta's C++ reference implementation, on the reference's own test data.
//!
//! From the reference's decoded pixels our hash and quality must be identical. From the original
//! files decoders differ (libjpeg in the reference, pure-Rust decoders here), so the test reports
//! the distances and holds them to Meta's bar: at most 10 wherever quality is at least 80; lossless
//! formats (PNG) must still agree exactly.

use std::path::{Path, PathBuf};
use takedown_core::PdqHash;
use takedown_matcher::decode::{DecodeLimits, Pixels, decode};
use takedown_matcher::pdq::{PixelsRef, PreResize, pdq_hash};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pdq")
}

struct Expected {
    path: String,
    hash: PdqHash,
    quality: u8,
}

fn expected(csv: &str) -> Vec<Expected> {
    let text = std::fs::read_to_string(data_dir().join(csv)).expect("read expected CSV");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split(',');
            let path = parts.next().expect("path").to_string();
            let hash = PdqHash::parse(parts.next().expect("hash")).expect("valid hash");
            let quality = parts
                .next()
                .expect("quality")
                .trim()
                .parse()
                .expect("quality");
            Expected {
                path,
                hash,
                quality,
            }
        })
        .collect()
}

/// Reads a binary PNM (P5 grey or P6 RGB, maxval 255) without any conversion.
fn read_pnm(path: &Path) -> (usize, usize, Pixels) {
    let bytes = std::fs::read(path).expect("read PNM");
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8(bytes[start..pos].to_vec()).unwrap());
    }
    pos += 1; // the single whitespace byte after maxval
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], "255", "{}: 8-bit PNM expected", path.display());
    let data = bytes[pos..].to_vec();
    let pixels = match fields[0].as_str() {
        "P5" => {
            assert_eq!(data.len(), w * h);
            Pixels::Grey(data)
        }
        "P6" => {
            assert_eq!(data.len(), w * h * 3);
            Pixels::Rgb(data)
        }
        other => panic!("{}: unexpected PNM kind {other}", path.display()),
    };
    (w, h, pixels)
}

fn as_ref(p: &Pixels) -> PixelsRef<'_> {
    match p {
        Pixels::Grey(v) => PixelsRef::Grey(v),
        Pixels::Rgb(v) => PixelsRef::Rgb(v),
    }
}

#[test]
fn identical_hash_and_quality_from_reference_pixels() {
    let cases = expected("expected-from-pixels.csv");
    assert_eq!(cases.len(), 44, "all reference pixel files are listed");
    let mut mismatches = Vec::new();
    for case in &cases {
        let (w, h, pixels) = read_pnm(&data_dir().join(&case.path));
        let out = pdq_hash(as_ref(&pixels), w, h, PreResize::Reference);
        if out.hash != case.hash || out.quality != case.quality {
            mismatches.push(format!(
                "{}: got {} q{}, reference {} q{} (distance {})",
                case.path,
                out.hash,
                out.quality,
                case.hash,
                case.quality,
                out.hash.distance(&case.hash)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
}

/// The reference tool's pre-resize of 8-bit pixels (pdqio.cpp: CImg's default `resize`, nearest
/// neighbour, to exactly 512×512 when either side is over 512), written out here from CImg's
/// formula `floor(x · old / new)` so the comparison does not rely on the code under test.
fn reference_pre_resize(pixels: &Pixels, w: usize, h: usize) -> (usize, usize, Pixels) {
    const SIDE: usize = 512;
    if w <= SIDE && h <= SIDE {
        return (w, h, pixels.clone());
    }
    let channels = match pixels {
        Pixels::Grey(_) => 1,
        Pixels::Rgb(_) => 3,
    };
    let src = match pixels {
        Pixels::Grey(v) | Pixels::Rgb(v) => v,
    };
    let mut out = Vec::with_capacity(SIDE * SIDE * channels);
    for y in 0..SIDE {
        let sy = (y as f64 * h as f64 / SIDE as f64) as usize;
        for x in 0..SIDE {
            let sx = (x as f64 * w as f64 / SIDE as f64) as usize;
            let at = (sy * w + sx) * channels;
            out.extend_from_slice(&src[at..at + channels]);
        }
    }
    let out = match pixels {
        Pixels::Grey(_) => Pixels::Grey(out),
        Pixels::Rgb(_) => Pixels::Rgb(out),
    };
    (SIDE, SIDE, out)
}

#[test]
fn lossless_files_decode_to_the_reference_pixels() {
    let mut compared = Vec::new();
    let mut failures = Vec::new();
    for case in expected("expected-from-files.csv") {
        if !case.path.ends_with(".png") {
            continue;
        }
        let bytes = std::fs::read(data_dir().join(&case.path)).unwrap();
        let image = decode(&bytes, &DecodeLimits::default()).expect("decodes");
        let pnm_name = case.path.trim_start_matches("images/").replace('/', "__") + ".pnm";
        let (w, h, reference) = read_pnm(&data_dir().join("pixels").join(pnm_name));
        // The reference's pixels are after its pre-resize: compare ours after the same one.
        let (rw, rh, resized) =
            reference_pre_resize(&image.pixels, image.width as usize, image.height as usize);
        if (rw, rh) != (w, h) {
            failures.push(format!(
                "{}: decoded {}x{} resizes to {rw}x{rh}, reference pixels are {w}x{h}",
                case.path, image.width, image.height
            ));
        } else if resized != reference {
            let kind = |p: &Pixels| match p {
                Pixels::Grey(_) => "grey",
                Pixels::Rgb(_) => "RGB",
            };
            let differing = match (&resized, &reference) {
                (Pixels::Grey(a), Pixels::Grey(b)) | (Pixels::Rgb(a), Pixels::Rgb(b)) => {
                    a.iter().zip(b).filter(|(x, y)| x != y).count().to_string()
                }
                _ => "all".to_string(),
            };
            failures.push(format!(
                "{}: decoded pixels differ ({} ours, {} reference; {differing} bytes differ)",
                case.path,
                kind(&resized),
                kind(&reference)
            ));
        }
        compared.push(case.path);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        compared.len(),
        7,
        "every lossless reference file is compared: {compared:?}"
    );
}

#[test]
fn close_to_reference_from_original_files() {
    let cases = expected("expected-from-files.csv");
    assert_eq!(cases.len(), 44);
    let mut distances = Vec::new();
    let mut failures = Vec::new();
    println!("{:<55} {:>4} {:>4} {:>4}", "file", "dist", "q", "refq");
    for case in &cases {
        let bytes = std::fs::read(data_dir().join(&case.path)).unwrap();
        let image = decode(&bytes, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.path));
        let out = pdq_hash(
            image.pixels_ref(),
            image.width as usize,
            image.height as usize,
            PreResize::Reference,
        );
        let d = out.hash.distance(&case.hash);
        println!(
            "{:<55} {d:>4} {:>4} {:>4}",
            case.path, out.quality, case.quality
        );
        distances.push(d);
        if case.quality >= 80 && d > 10 {
            failures.push(format!("{}: distance {d} > 10", case.path));
        }
        if case.path.ends_with(".png") && (d != 0 || out.quality != case.quality) {
            failures.push(format!("{}: lossless but distance {d}", case.path));
        }
    }
    let mean = distances.iter().sum::<u32>() as f64 / distances.len() as f64;
    let max = distances.iter().max().copied().unwrap_or(0);
    let exact = distances.iter().filter(|&&d| d == 0).count();
    println!(
        "PDQ from files vs reference: {} files, {exact} exact, mean distance {mean:.2}, max {max}",
        distances.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
