//! `takedown hash` as a user runs it: files and directories in, one record per file out, every
//! file attempted, exit code 1 when any failed.

use std::path::Path;
use std::process::Command;

fn takedown() -> Command {
    Command::new(env!("CARGO_BIN_EXE_takedown"))
}

fn testdata() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pdq"))
}

/// The reference hash of a file, from Meta's expected-from-files.csv.
fn reference_pdq(relative: &str) -> String {
    let csv = std::fs::read_to_string(testdata().join("expected-from-files.csv")).unwrap();
    csv.lines()
        .find(|l| l.starts_with(relative))
        .and_then(|l| l.split(',').nth(1))
        .expect("listed")
        .to_string()
}

#[test]
fn jsonl_for_a_directory_with_a_broken_file_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = testdata().join("images/bridge-mods/aaa-orig.jpg");
    std::fs::copy(&good, dir.path().join("a-good.jpg")).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(
        dir.path().join("b-truncated.jpg"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::copy(
        testdata().join("images/misc-images/c.png"),
        dir.path().join("nested/c.png"),
    )
    .unwrap();
    std::fs::write(dir.path().join("nested/notes.txt"), "not an image").unwrap();

    let out = takedown().arg("hash").arg(dir.path()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed file makes exit code 1"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(records.len(), 4, "every file attempted: {stdout}");

    let by_name = |name: &str| {
        records
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let a = by_name("a-good.jpg");
    assert_eq!(a["pdq"], reference_pdq("images/bridge-mods/aaa-orig.jpg"));
    assert_eq!(a["pdq_quality"], 100);
    // Independent digest tools agree (coreutils).
    for (field, tool) in [("md5", "md5sum"), ("sha256", "sha256sum")] {
        let sum = Command::new(tool).arg(&good).output().unwrap();
        let sum = String::from_utf8(sum.stdout).unwrap();
        assert_eq!(a[field], sum.split_whitespace().next().unwrap(), "{field}");
    }
    assert_eq!(by_name("b-truncated.jpg")["error"]["code"], "decode_failed");
    assert_eq!(by_name("notes.txt")["error"]["code"], "unsupported_format");
    assert_eq!(
        by_name("c.png")["pdq"],
        reference_pdq("images/misc-images/c.png")
    );
}

#[test]
fn csv_with_chosen_signals_and_a_missing_path() {
    let missing = "/nonexistent/takedown-test/x.jpg";
    let out = takedown()
        .args(["hash", "--format", "csv", "--signals", "sha256,pdq"])
        .arg(testdata().join("images/misc-images/modes/L.png"))
        .arg(missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "path,sha256,pdq,pdq_quality,error_code,error_message"
    );
    assert_eq!(lines.len(), 3);
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[2], reference_pdq("images/misc-images/modes/L.png"));
    assert_eq!(fields[3], "100");
    assert!(
        lines[2].starts_with(&format!("{missing},,,,io,")),
        "{}",
        lines[2]
    );
}

#[test]
fn all_good_files_exit_zero_and_unknown_signal_is_a_usage_error() {
    let ok = takedown()
        .args(["hash", "--signals", "md5"])
        .arg(testdata().join("images/misc-images/wee.jpg"))
        .output()
        .unwrap();
    assert!(ok.status.success());
    let bad = takedown()
        .args(["hash", "--signals", "tmk"])
        .arg(testdata().join("images/misc-images/wee.jpg"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown signal type"));
}
