//! Lossless exchange with python-threatexchange (pytx) and HMA 1.x file formats, both ways.
//!
//! `tests/pytx/formats.py` (run with the venv of `scripts/pytx-venv`, which
//! `scripts/install-test-deps` creates) makes files with pytx's own code: the outputs of
//! `threatexchange dataset -P` (CSV, plain, one type, signals only) for its sample collab, and
//! state files written by its HMA 1.x and CLI serializations. We read each. Then we export
//! what we read in every pytx format and pytx's own readers read it back: its local-file
//! exchange (plain), Python's csv module on the dataset columns, its TAT client's response
//! classes, and `HMASerialization.load`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use takedown_core::SignalType;
use takedown_hashlists::formats::{self, Format, PageInfo, ReadOptions};
use takedown_hashlists::model::{Entry, VIDEO_LABEL};

#[path = "pytx/python.rs"]
mod python;
use python::pytx_python;

fn pytx(mode: &str, dir: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pytx/formats.py");
    let out = Command::new(pytx_python())
        .arg(script)
        .arg(mode)
        .arg(dir)
        .output()
        .expect("run pytx's python");
    assert!(
        out.status.success(),
        "formats.py {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Reads a file: the entries, and the lines of the records skipped with a warning.
fn read(
    path: &Path,
    format: Format,
    signal_type: Option<SignalType>,
    video: bool,
) -> (Vec<Entry>, Vec<String>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let options = ReadOptions {
        signal_type,
        video,
        ..ReadOptions::default()
    };
    let parsed = formats::read_with(format, file, options).unwrap();
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for r in parsed.records {
        match r {
            Ok(r) => ok.push(r.entry),
            Err(e) if e.skipped => skipped.push(e.to_string()),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    (ok, skipped)
}

fn keys(entries: &[Entry]) -> BTreeSet<(SignalType, String, Vec<String>)> {
    entries
        .iter()
        .map(|e| (e.signal_type, e.value.clone(), e.labels.clone()))
        .collect()
}

const SAMPLE: &str = "collab:Sample Signals";
const SEED: &str = "category:INVESTIGATION_SEED";

#[test]
fn pytx_files_import_and_our_exports_read_back_in_pytx() {
    let made = tempfile::tempdir().unwrap();
    pytx("write", made.path());

    // `dataset -P --csv`: 16 PDQ, 2 video MD5, 2 video SHA-256, a url, a url_md5 and 3
    // raw_text; trend_query (which we do not use) skipped with a warning naming its line.
    let (csv, skipped) = read(&made.path().join("dataset.csv"), Format::Csv, None, false);
    let count = |t| csv.iter().filter(|e| e.signal_type == t).count();
    assert_eq!(
        [
            SignalType::Pdq,
            SignalType::Md5,
            SignalType::Sha256,
            SignalType::Url,
            SignalType::UrlMd5,
            SignalType::RawText
        ]
        .map(count),
        [16, 2, 2, 1, 1, 3]
    );
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    // pytx prints the types in no fixed order: each warning names its line and type.
    assert!(
        skipped.iter().any(|w| w.contains("\"trend_query\"")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .all(|w| w.starts_with("line ") && w.ends_with("line skipped")),
        "{skipped:?}"
    );
    for e in &csv {
        assert!(e.labels.contains(&SAMPLE.to_string()), "{e:?}");
        assert!(e.labels.contains(&SEED.to_string()), "{e:?}");
        let video = matches!(e.signal_type, SignalType::Md5 | SignalType::Sha256);
        assert_eq!(e.labels.contains(&VIDEO_LABEL.to_string()), video, "{e:?}");
    }
    assert!(
        csv.iter()
            .any(|e| e.value == "d41d8cd98f00b204e9800998ecf8427e")
    );

    // The plain outputs of the same data give the same entries and labels.
    let (plain, skipped) = read(&made.path().join("dataset.txt"), Format::Plain, None, false);
    assert_eq!(keys(&plain), keys(&csv));
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let (only, skipped) = read(
        &made.path().join("dataset-signals-only.txt"),
        Format::Plain,
        None,
        false,
    );
    assert_eq!(only.len(), 25);
    assert_eq!(skipped.len(), 1);
    // One type asked for: bare hashes, the type given by the reader.
    let (bare, _) = read(
        &made.path().join("dataset-pdq.txt"),
        Format::Plain,
        Some(SignalType::Pdq),
        false,
    );
    let pdq_only: Vec<Entry> = csv
        .iter()
        .filter(|e| e.signal_type == SignalType::Pdq)
        .cloned()
        .collect();
    assert_eq!(keys(&bare), keys(&pdq_only));

    // HMA 1.x state files (type in the file name) and the pytx CLI's 4-column cache.
    let hma_dir = made.path().join("hma");
    let type_of = |p: &Path| {
        formats::hma::type_from_file_name(&p.file_name().unwrap().to_string_lossy()).unwrap()
    };
    let pdq_file = hma_dir.join("simple.HASH_PDQ.te");
    assert_eq!(type_of(&pdq_file), (SignalType::Pdq, false));
    let (hma, _) = read(&pdq_file, Format::Hma, Some(SignalType::Pdq), false);
    assert_eq!(hma.len(), 2);
    assert_eq!(hma[0].source_id.as_deref(), Some("1001"));
    assert_eq!(hma[0].source_created.as_deref(), Some("2024-01-02"));
    assert_eq!(hma[0].labels, ["tag1", "tag2"]);
    assert!(hma[1].labels.is_empty());
    let video_file = hma_dir.join("simple.HASH_VIDEO_MD5.te");
    assert_eq!(type_of(&video_file), (SignalType::Md5, true));
    let (video, _) = read(&video_file, Format::Hma, Some(SignalType::Md5), true);
    assert_eq!(video[0].labels, [VIDEO_LABEL, "violent"]);
    let cli_file = made.path().join("cli/simple.HASH_PDQ.te");
    let (cli, _) = read(&cli_file, Format::Hma, Some(SignalType::Pdq), false);
    assert_eq!(cli[0].source_id.as_deref(), Some("3001"));
    assert_eq!(cli[0].labels, ["a"]);

    // Our exports of what we read, read by pytx's readers.
    let ours = tempfile::tempdir().unwrap();
    let write = |name: &str, format: Format, entries: &[Entry]| {
        let mut out = Vec::new();
        let page = PageInfo {
            checkpoint: Some("1700000000,5".into()),
            ..PageInfo::default()
        };
        formats::write(format, entries.iter(), &mut out, &page).unwrap();
        std::fs::write(ours.path().join(name), out).unwrap();
    };
    write("export.txt", Format::Plain, &csv);
    write("export.csv", Format::Csv, &csv);
    let mut tat_entries = csv.clone();
    tat_entries[0].source_id = Some("124".into());
    tat_entries[0].source_updated = Some("1704085200".into());
    write("export-tat.json", Format::Tat, &tat_entries);
    std::fs::create_dir(ours.path().join("hma")).unwrap();
    write("hma/simple.HASH_PDQ.te", Format::Hma, &hma);
    write("hma/simple.HASH_VIDEO_MD5.te", Format::Hma, &video);
    let back: Value = serde_json::from_str(&pytx("read", ours.path())).unwrap();

    let pytx_name = |e: &Entry| match (e.signal_type, e.labels.iter().any(|l| l == VIDEO_LABEL)) {
        (SignalType::Pdq, _) => "pdq",
        (SignalType::Md5, true) => "video_md5",
        (SignalType::Sha256, true) => "video_sha256",
        (SignalType::Url, _) => "url",
        (SignalType::UrlMd5, _) => "url_md5",
        (SignalType::RawText, _) => "raw_text",
        other => panic!("no pytx name for {other:?}"),
    };
    let mut plain_expected: Vec<Value> = csv
        .iter()
        .map(|e| serde_json::json!([pytx_name(e), e.value]))
        .collect();
    plain_expected.sort_by_key(|v| v.to_string());
    let mut plain_back = back["plain"].as_array().unwrap().clone();
    plain_back.sort_by_key(|v| v.to_string());
    assert_eq!(plain_back, plain_expected);

    assert_eq!(back["csv_crlf"], true, "CSV lines end in CRLF");
    let csv_back = back["csv"].as_array().unwrap();
    assert_eq!(csv_back.len(), csv.len());
    for row in csv_back {
        assert_eq!(row[2], "Sample Signals");
        assert_eq!(row[3], "INVESTIGATION_SEED");
        assert_eq!(
            row[4],
            serde_json::json!([]),
            "video is said by the type, not a tag"
        );
        let entry = csv.iter().find(|e| e.value == row[1]).unwrap();
        assert_eq!(row[0], pytx_name(entry));
    }

    assert_eq!(back["tat"]["checkpoint"], "1704085200,124");
    let results = back["tat"]["results"].as_array().unwrap();
    assert_eq!(results.len(), csv.len());
    assert_eq!(results[0][2], 124);
    assert_eq!(results[0][3], 1704085200);
    assert!(results.iter().all(|r| r[2].is_u64()), "numeric ids");

    let hma_back = back["hma"].as_array().unwrap();
    assert_eq!(
        hma_back[0],
        serde_json::json!([
            "HASH_PDQ",
            hma[0].value,
            "1001",
            1001,
            "2024-01-02",
            ["tag1", "tag2"]
        ])
    );
    assert_eq!(hma_back.len(), 3);
    assert!(
        hma_back
            .iter()
            .any(|r| r[0] == "HASH_VIDEO_MD5" && r[5] == serde_json::json!(["violent"])),
        "{hma_back:?}"
    );
}
