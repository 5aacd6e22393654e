//! Figures (a)–(g) over a hand-made ledger, every value and case list worked out by hand
//! below (written against the cargo-mutants run, docs/testing.md), and the CSV and HTML
//! written for them.

use super::*;
use crate::event::{Decision, OrderNotExecuted};
use time::OffsetDateTime;
use time::macros::datetime;

const IN_YEAR: OffsetDateTime = datetime!(2026-06-15 12:00 UTC);

fn decision(case: &str, source: SourceKind, effect: Effect, signals: &[&str]) -> Decision {
    Decision {
        case_id: case.into(),
        seq: 0,
        at: IN_YEAR,
        received_at: IN_YEAR,
        due_at: None,
        in_time: true,
        source,
        issuing_state: None,
        effect,
        territories: vec![],
        legal_grounds: vec!["art2_7_a".into()],
        tos: false,
        labels: vec![],
        signals: signals.iter().map(|s| s.to_string()).collect(),
        media: false,
        automated_decision: false,
        contested: None,
        contested_source: None,
    }
}

fn complaint(case: &str, contested: Effect, effect: Effect) -> Event {
    Event::Decision(Decision {
        contested: Some(contested),
        contested_source: Some(SourceKind::HashMatch),
        ..decision(case, SourceKind::Complaint, effect, &[])
    })
}

fn not_executed(case: &str, ground: &str) -> Event {
    Event::OrderNotExecuted(OrderNotExecuted {
        case_id: case.into(),
        at: IN_YEAR,
        ground: ground.into(),
    })
}

fn ledger_2026(dir: &Path) -> Ledger {
    use Effect::*;
    use SourceKind::*;
    let d = |case, source, effect, signals: &[&str]| {
        Event::Decision(decision(case, source, effect, signals))
    };
    let ledger = Ledger::open(dir).unwrap();
    ledger
        .append(&[
            d("r1", RemovalOrder, Removed, &[]),
            d("r2", RemovalOrder, Disabled, &[]),
            d("r3", RemovalOrder, Restored, &[]),
            d("r4", RemovalOrder, NoAction, &[]),
            // PDQ twice and MD5: one item, one count per system.
            d("h1", HashMatch, Removed, &["pdq", "pdq", "md5"]),
            d("h2", HashMatch, Disabled, &["text_regex"]),
            // Own initiative without automated detection: (a) and (c), not (b).
            d("h3", HashMatch, Removed, &[]),
            d("h4", HashMatch, NoAction, &["pdq"]),
            d("n1", Notice, Removed, &[]),
            // Detected by a hash but reported by a trusted flagger: not (b).
            d("t1", TrustedNotice, Removed, &["md5"]),
            complaint("c1", Removed, Restored),
            // A complaint's removal counts in (d), not in (a).
            complaint("c2", NoAction, Removed),
            complaint("c3", Removed, Removed),
            complaint("c4", Removed, Disabled),
            not_executed("u1", "force_majeure"),
            not_executed("u2", "other, \"see\" file"),
            // Outside 2026.
            Event::Decision(Decision {
                at: datetime!(2025-12-31 23:59 UTC),
                ..decision("old", RemovalOrder, Removed, &[])
            }),
            Event::Decision(Decision {
                at: datetime!(2027-01-01 00:00 UTC),
                ..decision("new", HashMatch, Removed, &["pdq"])
            }),
        ])
        .unwrap();
    ledger
}

/// A figure's letter, value and breakdown.
type Row<'a> = (&'a str, u64, Vec<(&'a str, u64)>);

fn cases(out: &Path, id: &str) -> Vec<String> {
    let text = std::fs::read_to_string(out.join(format!("cases/figure_{id}.txt"))).unwrap();
    let mut v: Vec<String> = text.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn figures_a_to_g_with_their_breakdowns_and_cases() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_2026(dir.path());
    let out = dir.path().join("out");
    let r = write_tco(&ledger, 2026, "Example <Hosting> & Co", &out).unwrap();
    let got: Vec<Row> = r
        .figures
        .iter()
        .map(|f| {
            let parts = f.breakdown.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            (f.id, f.value, parts)
        })
        .collect();
    let want: Vec<Row> = vec![
        (
            "a",
            7,
            vec![
                ("notice", 1),
                ("own_initiative", 3),
                ("removal_order", 2),
                ("trusted_flagger_notice", 1),
            ],
        ),
        (
            "b",
            2,
            vec![("MD5/SHA-256", 1), ("PDQ", 1), ("Text rules", 1)],
        ),
        (
            "c",
            5,
            vec![
                ("not_executed:force_majeure", 1),
                ("not_executed:other, \"see\" file", 1),
                ("removal_order", 2),
                ("specific_measure", 3),
            ],
        ),
        (
            "d",
            4,
            vec![("partially_reversed", 1), ("reversed", 2), ("upheld", 1)],
        ),
        ("e", 0, vec![]),
        ("f", 1, vec![]),
        ("g", 1, vec![]),
    ];
    assert_eq!(got, want);
    assert_eq!(
        (r.year, r.provider.as_str()),
        (2026, "Example <Hosting> & Co")
    );
    assert_eq!(cases(&out, "a"), ["h1", "h2", "h3", "n1", "r1", "r2", "t1"]);
    assert_eq!(cases(&out, "b"), ["h1", "h2"]);
    // The orders not executed are listed with (c)'s items.
    assert_eq!(cases(&out, "c"), ["h1", "h2", "h3", "r1", "r2", "u1", "u2"]);
    assert_eq!(cases(&out, "d"), ["c1", "c2", "c3", "c4"]);
    assert!(cases(&out, "e").is_empty());
    assert_eq!(cases(&out, "f"), ["r3"]);
    assert_eq!(cases(&out, "g"), ["c1"]);

    let csv_text = std::fs::read_to_string(out.join("tco-2026.csv")).unwrap();
    let rows = [
        "figure,item,value,cases_file",
        "a,total,7,cases/figure_a.txt",
        "a,notice,1,cases/figure_a.txt",
        "a,own_initiative,3,cases/figure_a.txt",
        "a,removal_order,2,cases/figure_a.txt",
        "a,trusted_flagger_notice,1,cases/figure_a.txt",
        "b,total,2,cases/figure_b.txt",
        "b,MD5/SHA-256,1,cases/figure_b.txt",
        "b,PDQ,1,cases/figure_b.txt",
        "b,Text rules,1,cases/figure_b.txt",
        "c,total,5,cases/figure_c.txt",
        "c,not_executed:force_majeure,1,cases/figure_c.txt",
        "c,\"not_executed:other, \"\"see\"\" file\",1,cases/figure_c.txt",
        "c,removal_order,2,cases/figure_c.txt",
        "c,specific_measure,3,cases/figure_c.txt",
        "d,total,4,cases/figure_d.txt",
        "d,partially_reversed,1,cases/figure_d.txt",
        "d,reversed,2,cases/figure_d.txt",
        "d,upheld,1,cases/figure_d.txt",
        "e,total,0,cases/figure_e.txt",
        "f,total,1,cases/figure_f.txt",
        "g,total,1,cases/figure_g.txt",
    ];
    assert_eq!(csv_text, rows.join("\r\n") + "\r\n");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tco-2026.json")).unwrap()).unwrap();
    assert_eq!(json["year"], 2026);
    assert_eq!(json["figures"][0]["value"], 7);
    assert_eq!(json["figures"][2]["breakdown"]["specific_measure"], 3);
    assert_eq!(json["figures"][6]["cases_file"], "cases/figure_g.txt");

    let html_text = std::fs::read_to_string(out.join("tco-2026.html")).unwrap();
    assert!(html_text.contains("<p>Example &lt;Hosting&gt; &amp; Co: "));
    assert!(html_text.contains("<td class=v>7</td><td>notice: 1<br>own_initiative: 3<br>"));
    assert!(html_text.contains("not_executed:other, &quot;see&quot; file: 1"));
    assert!(html_text.contains("<th>(g)</th>"));
    assert!(html_text.contains("1 January – 31 December 2026"));
    for external in ["<link", "<script", "src=", "http:", "https:", "@import"] {
        assert!(!html_text.contains(external), "{external}");
    }
}

#[test]
fn an_empty_year_writes_zeros_and_empty_case_files() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_2026(dir.path());
    let out = dir.path().join("out");
    let r = write_tco(&ledger, 2024, "P", &out).unwrap();
    assert!(
        r.figures
            .iter()
            .all(|f| f.value == 0 && f.breakdown.is_empty())
    );
    assert_eq!(r.figures.len(), 7);
    assert!(cases(&out, "a").is_empty());
    assert!(cases(&out, "c").is_empty());
}
