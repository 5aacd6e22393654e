//! The incremental count against hand-counted statements, and proof that a refresh reads only
//! what was appended.

use super::*;
use crate::event::{Decision, Effect, SourceKind};
use std::io::Write;
use time::OffsetDateTime;
use time::macros::datetime;

fn decision(case: &str, source: SourceKind, effect: Effect, at: OffsetDateTime) -> Event {
    Event::Decision(Decision {
        case_id: case.into(),
        seq: 0,
        at,
        received_at: at,
        due_at: None,
        in_time: true,
        source,
        issuing_state: None,
        effect,
        territories: vec![],
        legal_grounds: vec!["art2_7_a".into()],
        tos: false,
        labels: vec![],
        signals: vec!["pdq".into()],
        media: true,
        automated_decision: false,
        contested: None,
        contested_source: None,
    })
}

fn line(e: &Event) -> String {
    serde_json::to_string(e).unwrap() + "\n"
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn counts_statements_without_a_final_outcome_reading_only_what_was_appended() {
    use Effect::*;
    use SourceKind::*;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let mut counter = PendingCounter::new(dir.path(), Mapping::default());
    // Nothing written yet.
    assert_eq!(counter.refresh().unwrap(), Refreshed::default());

    let jan = datetime!(2026-01-10 10:00 UTC);
    let feb = datetime!(2026-02-10 10:00 UTC);
    // January: two own-initiative removals get statements; an order (Art. 17(5)), a notice
    // without action and a complaint's decision do not.
    ledger
        .append(&[
            decision("h1", HashMatch, Removed, jan),
            decision("h2", HashMatch, Disabled, jan),
            decision("o1", RemovalOrder, Removed, jan),
            decision("n1", Notice, NoAction, jan),
            decision("c1", Complaint, Removed, jan),
        ])
        .unwrap();
    let jan_file = dir.path().join("ledger/2026-01.jsonl");
    let r = counter.refresh().unwrap();
    assert_eq!((r.pending, r.bytes_read), (2, size(&jan_file)));
    // Nothing new: nothing read.
    assert_eq!(
        counter.refresh().unwrap(),
        Refreshed {
            pending: 2,
            bytes_read: 0,
            bad_lines: 0
        }
    );

    // February: a trusted flagger's notice disabled (a statement), h1 archived a second time
    // (the same puid: counted once), and h3 half-written.
    let h3 = line(&decision("h3", HashMatch, Removed, feb));
    let (h3_start, h3_end) = h3.split_at(40);
    ledger
        .append(&[
            decision("t1", TrustedNotice, Disabled, feb),
            decision("h1", HashMatch, Removed, jan),
        ])
        .unwrap();
    // The repeated h1 went to January's file: its one line and February's are new.
    let feb_file = dir.path().join("ledger/2026-02.jsonl");
    let new_bytes = size(&feb_file) + line(&decision("h1", HashMatch, Removed, jan)).len() as u64;
    append(&feb_file, h3_start);
    let r = counter.refresh().unwrap();
    assert_eq!((r.pending, r.bytes_read), (3, new_bytes));
    // The rest of h3's line, and a line that is no event.
    append(&feb_file, h3_end);
    append(&feb_file, "not json\n");
    let r = counter.refresh().unwrap();
    assert_eq!(
        (r.pending, r.bytes_read, r.bad_lines),
        (4, h3.len() as u64 + 9, 1)
    );

    // Outcomes: h1 stored, h2 refused, an unknown puid stored: 4 - 2 = 2 pending.
    let stored = Outcome::Stored {
        uuid: Some("u-1".into()),
        permalink: None,
    };
    let refused = Outcome::Refused {
        errors: Default::default(),
        by: "database".into(),
    };
    outbox
        .record(&[
            ("td_h1_0".into(), stored.clone()),
            ("td_h2_0".into(), refused.clone()),
            ("td_zz_0".into(), stored.clone()),
        ])
        .unwrap();
    assert_eq!(counter.refresh().unwrap().pending, 2);
    // h2 sent again: pending again; t1 stored; h1 stored a second time changes nothing.
    outbox.retry("td_h2_0").unwrap();
    outbox
        .record(&[
            ("td_t1_0".into(), stored.clone()),
            ("td_h1_0".into(), stored.clone()),
        ])
        .unwrap();
    assert_eq!(counter.refresh().unwrap().pending, 2);
    // An outcome read before its decision: h9 is stored already when its event is archived.
    outbox
        .record(&[("td_h9_0".into(), stored.clone())])
        .unwrap();
    assert_eq!(counter.refresh().unwrap().pending, 2);
    ledger
        .append(&[decision("h9", HashMatch, Removed, feb)])
        .unwrap();
    assert_eq!(counter.refresh().unwrap().pending, 2);

    // The results file replaced by an empty one (restored from an old backup): everything is
    // counted again from the start: h1 h2 t1 h3 h9.
    std::fs::write(outbox.results_path(), "").unwrap();
    let r = counter.refresh().unwrap();
    assert_eq!(
        (r.pending, r.bytes_read, r.bad_lines),
        (5, size(&jan_file) + size(&feb_file), 1)
    );
}
