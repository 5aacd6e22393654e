//! The written files keep the templates' structure: header lines byte for byte, every row
//! key in order, Part 3's Member-State block once per state, only value cells filled.

use super::*;
use time::macros::date;

fn read(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn written(figures: &DsaFigures) -> (tempfile::TempDir, Period) {
    let dir = tempfile::tempdir().unwrap();
    let period = Period::parse("2026-01-01/2026-12-31").unwrap();
    let meta = DsaMeta {
        provider: "Example Ltd".into(),
        service: "Example, the service".into(),
        published: date!(2027 - 02 - 01),
        previous: Some(date!(2026 - 02 - 01)),
        qualitative: default_qualitative(),
    };
    write_dsa(dir.path(), &period, figures, &meta).unwrap();
    (dir, period)
}

#[test]
fn every_part_keeps_its_template_header_keys_and_order() {
    let (dir, _) = written(&DsaFigures::default());
    for (name, template) in TEMPLATES {
        assert!(name.contains(&format!("Part_{}_", name.split('_').nth(1).unwrap())));
        let bytes = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let header = template.lines().next().unwrap();
        assert!(
            bytes.starts_with(&format!("{header}\r\n")),
            "{name}: header line unchanged, CRLF"
        );
        let t = read(template);
        let o = read(&bytes);
        let key_cols: &[usize] = match name.split('_').nth(1).unwrap() {
            "1" => &[0, 2],
            "2" => &[0, 1, 2, 3],
            "3" => &[0, 3, 4],
            "4" | "5" | "6" => &[0, 3, 4],
            "11" => &[0, 3],
            _ => &[0, 3, 4, 5],
        };
        let keys = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| key_cols.iter().map(|&k| r[k].clone()).collect())
                .collect()
        };
        for (tr, or) in t.iter().zip(&o) {
            assert_eq!(tr.len(), or.len(), "{name}: same number of columns");
        }
        match name.split('_').nth(1).unwrap() {
            "3" => {
                let (plain, states): (Vec<_>, Vec<_>) = t[1..]
                    .iter()
                    .cloned()
                    .partition(|r| r[5] != STATES_PLACEHOLDER);
                assert_eq!(o.len(), 1 + plain.len() + 27 * states.len());
                assert_eq!(keys(&o[1..1 + plain.len()]), keys(&plain));
                for (i, state) in MEMBER_STATES.iter().enumerate() {
                    let start = 1 + plain.len() + i * states.len();
                    let block = &o[start..start + states.len()];
                    assert_eq!(keys(block), keys(&states), "{state}");
                    assert!(block.iter().all(|r| r[5] == *state));
                }
            }
            "8" => {
                // No system detected anything: no system rows.
                assert_eq!(keys(&o), keys(&t));
            }
            _ => assert_eq!(keys(&o), keys(&t), "{name}"),
        }
        for r in &o[1..] {
            assert!(
                !r.iter().any(|c| c == PERIOD_PLACEHOLDER),
                "{name}: period filled"
            );
            if r.len() > 4 && name != "Part_2_categories_names.csv" && name != "Part_1_summary.csv"
            {
                assert_eq!(r[2], "2026-01-01/2026-12-31");
            }
            if name != "Part_2_categories_names.csv" {
                assert_eq!(r[1], "Example, the service");
            }
        }
    }
    let p1 = read(&std::fs::read_to_string(dir.path().join("Part_1_summary.csv")).unwrap());
    let values: Vec<&str> = p1[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        values,
        [
            "Example Ltd",
            "2027-02-01",
            "2026-02-01",
            "2026-01-01",
            "2026-12-31"
        ]
    );
    let p11 = read(&std::fs::read_to_string(dir.path().join("Part_11_qualitative.csv")).unwrap());
    assert_eq!(p11[1][4], default_qualitative()[0]);
    assert_eq!(p11[7][4], "", "VLOP-only rows stay empty");
    // An empty period: counts are 0, medians and ratios empty.
    let p4 = read(&std::fs::read_to_string(dir.path().join("Part_4_notices.csv")).unwrap());
    assert_eq!(&p4[1][5..11], ["0", "0", "0", "0", "", ""]);
    let p8 = read(&std::fs::read_to_string(dir.path().join("Part_8_automated_means.csv")).unwrap());
    assert_eq!(p8[1][6], "0");
    assert_eq!(p8[3][6], "", "no accuracy without decisions");
}

#[test]
fn the_template_rows_the_code_relies_on_exist() {
    // If the Commission's wording changed, the filler would silently leave cells empty.
    let part = |n: &str| TEMPLATES.iter().find(|t| t.0.starts_with(n)).unwrap().1;
    let p7 = part("Part_7_");
    for ind in [
        "Number of complaints submitted to the internal-complaints mechanism",
        "Complaint regarding a decision to remove or disable access to or restrict visibility of information",
        "Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16",
        "Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16",
        "Number of restrictions newly imposed as a result of an internal complaint",
    ] {
        assert!(p7.contains(ind), "{ind}");
    }
    let p8 = part("Part_8_");
    for ind in [
        "Number of measures solely taken by automated means ",
        "Own-initiative ,",
        "NAM Trusted Flagger",
    ] {
        assert!(p8.contains(ind), "{ind}");
    }
    assert_eq!(part("Part_3_").matches(STATES_PLACEHOLDER).count(), 90);
}

#[test]
fn the_service_name_goes_in_the_second_cell_and_a_row_of_one_cell_is_left_whole() {
    let period = Period::parse("2026-01-01/2026-12-31").unwrap();
    let meta = DsaMeta {
        provider: "Example Ltd".into(),
        service: "Example, the service".into(),
        published: date!(2027 - 02 - 01),
        previous: None,
        qualitative: default_qualitative(),
    };
    let figures = DsaFigures::default();
    let filler = Filler {
        f: &figures,
        period: &period,
        meta: &meta,
    };
    // A row of one cell has no second cell to name the service in (and must not panic).
    let mut one = vec![PERIOD_PLACEHOLDER.to_string()];
    filler.common(&mut one);
    assert_eq!(one, [period.to_string()]);
    let mut two = vec![
        "key".to_string(),
        String::new(),
        PERIOD_PLACEHOLDER.to_string(),
    ];
    filler.common(&mut two);
    assert_eq!(two, ["key", "Example, the service", &period.to_string()]);
}
