//! The cells written for the hand-made scenario of `dsa_figures`' tests, each value worked
//! out by hand from that scenario's events (written against the cargo-mutants run,
//! docs/testing.md): medians in hours, ratios with four decimals, the per-state blocks of
//! Part 3, Part 8's rows per automated system.

use super::*;
use time::macros::date;

const TERROR: &str = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY";
const VIOLENCE: &str = "STATEMENT_CATEGORY_VIOLENCE";

fn part(name: &str) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let period = Period::parse("2026-01-01/2026-12-31").unwrap();
    let meta = DsaMeta {
        provider: "Example Ltd".into(),
        service: "Example".into(),
        published: date!(2027 - 02 - 01),
        previous: None,
        qualitative: default_qualitative(),
    };
    let figures = crate::dsa_figures::scenario_tests::scenario();
    write_dsa(dir.path(), &period, &figures, &meta).unwrap();
    let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The cells from `first` of the one row whose key columns hold `keys`.
fn cells<'a>(rows: &'a [Vec<String>], keys: &[(usize, &str)], first: usize) -> &'a [String] {
    let found: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| keys.iter().all(|(i, k)| r[*i].trim() == *k))
        .collect();
    assert_eq!(found.len(), 1, "one row for {keys:?}");
    &found[0][first..]
}

#[test]
fn part_3_totals_per_category_and_per_issuing_state() {
    let rows = part("Part_3_member_states_orders.csv");
    let order = |code: &str, scope: &str| cells(&rows, &[(3, code), (5, scope)], 6)[..7].to_vec();
    // 3 orders, 6 items; acknowledged after 15, 30 and 60 min (median 0.5 h); given effect
    // after 45 min and 2 h (median 1.375 h); no orders to provide information.
    let total = ["3", "6", "0.5", "1.375", "0", "", ""];
    assert_eq!(order("TOTAL", "TOTAL"), total);
    assert_eq!(order(TERROR, "TOTAL"), total);
    assert_eq!(order("KEYWORD_TERRORIST_CONTENT", "TOTAL"), total);
    assert_eq!(order(VIOLENCE, "TOTAL"), ["0", "0", "", "", "0", "", ""]);
    // Germany: 2 orders, 3 items, acknowledged after 15 and 30 min; one given effect (45 min).
    assert_eq!(
        order("TOTAL", "DE"),
        ["2", "3", "0.375", "0.75", "0", "", ""]
    );
    assert_eq!(
        order(TERROR, "DE"),
        ["2", "3", "0.375", "0.75", "0", "", ""]
    );
    assert_eq!(order(TERROR, "FR"), ["1", "3", "1", "2", "0", "", ""]);
    assert_eq!(order(TERROR, "IT"), ["0", "0", "", "", "0", "", ""]);
    assert_eq!(order(VIOLENCE, "DE"), ["0", "0", "", "", "0", "", ""]);
}

#[test]
fn part_4_notices() {
    let rows = part("Part_4_notices.csv");
    let notices = |code: &str| cells(&rows, &[(3, code)], 5)[..10].to_vec();
    // n1 (violence, 3 h, law), n2 (trusted, terrorist, 1.5 h, terms), n3 (trusted, violence,
    // 10 h, no action).
    assert_eq!(
        notices("TOTAL"),
        ["3", "2", "3", "2", "3", "5.75", "1", "0", "1", "1"]
    );
    assert_eq!(
        notices(VIOLENCE),
        ["2", "1", "2", "1", "6.5", "10", "1", "0", "0", "0"]
    );
    assert_eq!(
        notices(TERROR),
        ["1", "1", "1", "1", "1.5", "1.5", "0", "0", "1", "1"]
    );
}

#[test]
fn parts_5_and_6_own_initiative() {
    let zeros = vec!["0".to_string(); 12];
    let own = |v: [&str; 4]| {
        let mut out: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        out.extend(zeros.clone());
        out
    };
    let rows = part("Part_5_own_initiative_illegal.csv");
    let measures = |code: &str| cells(&rows, &[(3, code)], 5)[..16].to_vec();
    assert_eq!(measures("TOTAL"), own(["2", "1", "2", "0"]));
    assert_eq!(measures(TERROR), own(["2", "1", "2", "0"]));
    assert_eq!(measures(VIOLENCE), own(["0", "0", "0", "0"]));
    let rows = part("Part_6_own_initiative_TC.csv");
    let measures = |code: &str| cells(&rows, &[(3, code)], 5)[..16].to_vec();
    assert_eq!(measures("TOTAL"), own(["1", "1", "0", "1"]));
    assert_eq!(measures(VIOLENCE), own(["1", "1", "0", "1"]));
    assert_eq!(measures(TERROR), own(["0", "0", "0", "0"]));
}

#[test]
fn part_7_complaints() {
    let rows = part("Part_7_appeals_and_recidivism.csv");
    let value =
        |indicator: &str, scope: &str| cells(&rows, &[(4, indicator), (5, scope)], 6)[0].clone();
    let all = "Number of complaints submitted to the internal-complaints mechanism";
    // Decided after 2, 6, 12, 24 and 48 h: median 12 h.
    for (scope, want) in [
        ("Total number", "4"),
        ("Decisions upheld", "1"),
        ("Decisions partially reversed", "1"),
        ("Decisions reversed", "3"),
        ("Median time", "12"),
        ("Decision omitted", "0"),
    ] {
        assert_eq!(value(all, scope), want, "{scope}");
    }
    assert_eq!(
        value(
            "Number of restrictions newly imposed as a result of an internal complaint",
            "Total number"
        ),
        "2"
    );
    let removal = "Complaint regarding a decision to remove or disable access to or restrict visibility of information";
    for (scope, want) in [
        ("Total number", "1"),
        ("Decisions upheld", "0"),
        ("Decisions partially reversed", "1"),
        ("Decisions reversed", "1"),
        ("Median time", "15"),
    ] {
        assert_eq!(value(removal, scope), want, "{scope}");
    }
    let notice = "Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16";
    assert_eq!(value(notice, "Total number"), "1");
    assert_eq!(value(notice, "Decisions reversed"), "1");
    assert_eq!(value(notice, "Median time"), "48");
    let trusted = "Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16";
    assert_eq!(value(trusted, "Total number"), "1");
    assert_eq!(value(trusted, "Decisions upheld"), "1");
    assert_eq!(value(trusted, "Decisions reversed"), "0");
    assert_eq!(value(trusted, "Median time"), "12");
    // What Takedown does not decide: zero counts, no median.
    let service =
        "Complaint regarding a decision to suspend or terminate the provision of the service";
    assert_eq!(value(service, "Total number"), "0");
    assert_eq!(value(service, "Median time"), "");
    let disputes = "Number of disputes submitted to out-of-court dispute settlement bodies";
    assert_eq!(value(disputes, "Decision omitted"), "0");
    assert_eq!(value(disputes, "Percentage of outcomes implemented"), "");
}

#[test]
fn part_8_automated_means_per_system() {
    let rows = part("Part_8_automated_means.csv");
    let block = |scope: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[5].trim() == scope)
            .map(|r| r[6].clone())
            .collect()
    };
    // 11 decisions scored: tp 3, fp 1, fn 5, tn 2; restrictions decided by automated means 2,
    // by people 6.
    assert_eq!(block("Total number"), ["2", "6", "0.4545", "0.75", "0.375"]);
    // Own initiative: tp 2, fp 1, fn 1, tn 0.
    assert_eq!(
        block("Own-initiative"),
        ["1", "2", "0.5", "0.6667", "0.6667"]
    );
    // Notices are processed by people: counts only.
    assert_eq!(block("NAM Total"), ["1", "2", "", "", ""]);
    assert_eq!(block("NAM Trusted Flagger"), ["1", "1", "", "", ""]);
    // One block per system that detected something, after the own-initiative rows: MD5/SHA-256
    // tp 2 fn 6 tn 3; PDQ tp 1 fp 1 fn 7 tn 2; text rules tp 1 fn 7 tn 3. vPDQ detected
    // nothing: no rows.
    assert_eq!(
        block("Automated means: MD5/SHA-256"),
        ["1", "1", "0.4545", "1", "0.25"]
    );
    assert_eq!(
        block("Automated means: PDQ"),
        ["1", "0", "0.2727", "0.5", "0.125"]
    );
    assert_eq!(
        block("Automated means: Text rules"),
        ["0", "1", "0.3636", "1", "0.125"]
    );
    assert!(block("Automated means: vPDQ").is_empty());
    let scopes: Vec<&str> = rows[1..21].iter().map(|r| r[5].trim()).collect();
    let mut want = vec!["Total number"; 5];
    want.extend(["Own-initiative"; 5]);
    want.extend(["Automated means: MD5/SHA-256"; 5]);
    want.extend(["Automated means: PDQ"; 5]);
    assert_eq!(scopes, want);
    let indicators: Vec<&str> = rows[11..16].iter().map(|r| r[4].as_str()).collect();
    assert_eq!(
        indicators,
        [
            "Number of measures solely taken by automated means ",
            "Number of measures not taken by automated means",
            "Accuracy of the automated means - Accuracy",
            "Accuracy of the automated means - Precision",
            "Accuracy of the automated means - Recall",
        ]
    );
}

#[test]
fn part_1_names_the_provider_and_the_dates() {
    let rows = part("Part_1_summary.csv");
    let value = |indicator: &str| cells(&rows, &[(2, indicator)], 3)[0].clone();
    assert_eq!(value("Name of the service provider"), "Example Ltd");
    assert_eq!(value("Date of the publication of the report"), "2027-02-01");
    assert_eq!(
        value("Date of the publication of the latest previous report"),
        ""
    );
    assert_eq!(value("Starting date of reporting period"), "2026-01-01");
    assert_eq!(value("Ending date of reporting period"), "2026-12-31");
}
