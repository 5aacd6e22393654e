//! `takedown lists` against a real Redis, as an operator would use it.

use std::process::{Command, Output};
use takedown_local_services::{RedisServer, unique_name};

struct Cli {
    url: String,
    prefix: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_takedown"))
            .arg("lists")
            .args(args)
            .env("TAKEDOWN_REDIS_URL", &self.url)
            .env("TAKEDOWN_REDIS_PREFIX", &self.prefix)
            .output()
            .unwrap()
    }

    fn json_lines(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn pdq(i: u32) -> String {
    format!("{:08x}", i).repeat(8)
}

#[test]
fn import_inspect_export_disable_diff() {
    let redis = RedisServer::start().unwrap();
    let cli = Cli {
        url: redis.url(),
        prefix: unique_name("cli"),
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        format!("pdq {}\npdq {}\npdq nothex\n", pdq(1), pdq(2)),
    )
    .unwrap();
    let out = cli.run(&[
        "import",
        "gifct",
        "--format",
        "plain",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(cli.json_lines(&["ls"]).is_empty(), "no list is left behind");

    let good = dir.path().join("good.txt");
    std::fs::write(
        &good,
        format!("pdq {}\npdq {}\nmd5 {}\n", pdq(1), pdq(2), "ab".repeat(16)),
    )
    .unwrap();
    let summary = &cli.json_lines(&[
        "import",
        "gifct",
        "--format",
        "plain",
        "--severity",
        "high",
        good.to_str().unwrap(),
    ])[0];
    assert_eq!(summary["added"], 3);
    assert_eq!(summary["version"], 1);

    let lists = cli.json_lines(&["ls"]);
    assert_eq!(lists.len(), 1);
    assert_eq!(
        (lists[0]["id"].as_str(), lists[0]["entries"].as_u64()),
        (Some("gifct"), Some(3))
    );
    assert_eq!(lists[0]["severity"], "high");

    let key = format!("pdq:{}", pdq(2));
    let disabled = &cli.json_lines(&[
        "disable",
        "gifct",
        &key,
        "--reason",
        "stock photo",
        "--actor",
        "ana",
    ])[0];
    assert_eq!(disabled["version"], 2);
    let diff = cli.json_lines(&["diff", "gifct", "--from", "1"]);
    assert_eq!(diff.len(), 1);
    assert_eq!(diff[0]["change"]["op"], "disabled");
    assert_eq!(diff[0]["change"]["entry"]["disabled"]["actor"], "ana");

    let out = cli.run(&["export", "gifct", "--format", "csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains(&pdq(1)));

    let shown = &cli.json_lines(&["show", "gifct"])[0];
    assert_eq!(shown["state"]["version"], 2);
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
}
