//! PDQ parity with python-threatexchange (pytx), the tool most shared lists are made with.
//!
//! pytx hashes with `pdqhash` (Meta's C++ PDQ) on Pillow's decode of the whole image, without
//! the reference tool's 512×512 pre-resize: our [`PreResize::FullSize`]. Its Python side
//! (`tests/pytx/hash_images.py`, run with the venv of `scripts/pytx-venv`, which
//! `scripts/install-test-deps` creates) generates images of many sizes, formats and colour
//! modes with Pillow and hashes them, and the reference's own files in `testdata/pdq/`. Our
//! hash of each file must equal pdqhash on Pillow's RGB decode for at least 98% of them (the
//! rest are listed with their distances), and every hash pytx's own hasher puts on a list must
//! match the file it came from under the matching rule (distance ≤ 31, quality ≥ 50) — except
//! where pytx hashes something other than the picture (below).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use takedown_core::PdqHash;
use takedown_matcher::decode::{DecodeLimits, decode};
use takedown_matcher::pdq::{PreResize, pdq_hash};

/// The venv's python: `TAKEDOWN_PYTX_PYTHON`, else where `scripts/pytx-venv` puts it.
fn pytx_python() -> PathBuf {
    if let Some(p) = std::env::var_os("TAKEDOWN_PYTX_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let default = Path::new(&home).join(".cache/takedown/pytx-venv/bin/python");
    assert!(
        default.exists(),
        "pytx is not installed: run scripts/install-test-deps (or scripts/pytx-venv) first"
    );
    default
}

/// The reference's own test files (every file `expected-from-files.csv` lists).
fn reference_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/pdq");
    let listed = std::fs::read_to_string(root.join("expected-from-files.csv")).unwrap();
    listed
        .lines()
        .filter_map(|l| l.split(',').next().filter(|p| !p.trim().is_empty()))
        .map(|p| root.join(p))
        .collect()
}

struct Case {
    path: PathBuf,
    pillow: (PdqHash, u8),
    pytx: (PdqHash, u8),
    /// Pillow's mode of the file ("RGB", "L", "P", "CMYK", …).
    mode: String,
}

fn pair(v: &Value) -> (PdqHash, u8) {
    let hash = PdqHash::parse(v[0].as_str().expect("hex")).expect("a PDQ hash");
    (hash, v[1].as_u64().expect("quality") as u8)
}

fn run_pytx(out: &Path) -> Vec<Case> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pytx/hash_images.py");
    let output = Command::new(pytx_python())
        .arg(script)
        .arg(out)
        .args(reference_files())
        .output()
        .expect("run pytx's python");
    assert!(
        output.status.success(),
        "hash_images.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            Case {
                path: PathBuf::from(v["path"].as_str().expect("path")),
                pillow: pair(&v["pillow_rgb"]),
                pytx: pair(&v["pytx"]),
                mode: v["mode"].as_str().expect("mode").to_string(),
            }
        })
        .collect()
}

/// Files pytx hashes wrongly, so its entry need not match the picture: it hands pdqhash
/// `numpy.asarray(image)` without converting to RGB, so a palette image (PNG-8, GIF) is hashed
/// as its palette indices and a CMYK JPEG as its C, M, Y planes.
fn pytx_hashes_something_else(mode: &str) -> bool {
    matches!(mode, "P" | "PA" | "CMYK")
}

#[test]
fn full_size_pdq_is_identical_to_pytx_on_pillow() {
    let dir = tempfile::tempdir().unwrap();
    let cases = run_pytx(dir.path());
    assert!(cases.len() >= 200, "only {} images hashed", cases.len());
    let mut identical = 0;
    let mut different = Vec::new();
    let mut unmatched = Vec::new();
    for case in &cases {
        let bytes = std::fs::read(&case.path).unwrap();
        let image = decode(&bytes, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
        let ours = pdq_hash(
            image.pixels_ref(),
            image.width as usize,
            image.height as usize,
            PreResize::FullSize,
        );
        let name = case.path.file_name().unwrap().to_string_lossy().to_string();
        if (ours.hash, ours.quality) == case.pillow {
            identical += 1;
        } else {
            different.push(format!(
                "{name}: distance {} (quality {} ours, {} pdqhash)",
                ours.hash.distance(&case.pillow.0),
                ours.quality,
                case.pillow.1
            ));
        }
        // The entry pytx would put on a list (pytx itself drops quality < 50) must match.
        let (entry, entry_quality) = case.pytx;
        let matches = ours.quality >= 50 && ours.hash.distance(&entry) <= 31;
        if entry_quality >= 50 && !matches && !pytx_hashes_something_else(&case.mode) {
            unmatched.push(format!(
                "{name}: pytx's entry is {} bits away (quality {} ours)",
                ours.hash.distance(&entry),
                ours.quality
            ));
        }
    }
    let share = identical as f64 / cases.len() as f64;
    println!(
        "full-size PDQ identical to pdqhash on Pillow RGB: {identical} of {} ({:.1}%)",
        cases.len(),
        share * 100.0
    );
    for d in &different {
        println!("  not identical: {d}");
    }
    assert!(share >= 0.98, "identical on only {:.1}%", share * 100.0);
    assert!(
        unmatched.is_empty(),
        "pytx entries that miss their own file:\n{}",
        unmatched.join("\n")
    );
}
