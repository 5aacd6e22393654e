//! The report ledger end to end: a seeded month of review work on a real Redis with the
//! manual clock, archived to files, the cases then wiped from Redis, and every figure of the
//! DSA and TCO reports and every statement of reasons checked against numbers worked out by
//! hand from the scenario below (not by the code under test).
//!
//! Scenario (T0 = 2026-06-01 12:00 UTC):
//! - T0: removal order DE-1 (2 URLs: u1, u2); matches A (PDQ, critical), B (MD5, high),
//!   C (text rule, medium); an Art. 16 notice N.
//! - T0+10m: u2 suspended (Annex III, technical impossibility).
//! - T0+40m: u1 removed (0.6667 h after receipt).
//! - T0+1h: removal order FR-1 (u3); T0+1h20m: u3 removed (0.3333 h).
//! - T0+1h30m: A removed (Art. 2(7)(a) + ToS); T0+2h: B not terrorist content;
//!   T0+3h: C disabled in DE, FR on the ToS only; T0+4h: N removed (Art. 2(7)(a), 4 h).
//! - T0+5h: complaint against A; T0+8h: A's complaint decided: restore (3 h).

use super::support::*;
use std::collections::HashMap;
use takedown_core::SignalType;
use takedown_local_services::RedisServer;
use takedown_reports::dsa_csv::{DsaMeta, default_qualitative, write_dsa};
use takedown_reports::dsa_figures::DsaFigures;
use takedown_reports::event::Event;
use takedown_reports::ledger::{Ledger, archive, stream_key};
use takedown_reports::mapping::Mapping;
use takedown_reports::period::Period;
use takedown_review::intake::{parse_complaint, parse_notice};
use takedown_review::model::{DecisionInput, Ground, Outcome, PurposeExemption};
use takedown_review::order::parse_order;
use takedown_review::store::ReviewStore;
use time::Duration;
use time::macros::date;

fn order(state: &str, reference: &str, urls: &[&str]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&order_json(urls, reference)).unwrap();
    v["section_a"]["issuing_member_state"] = state.into();
    v.to_string().into_bytes()
}

fn decision(outcome: Outcome, grounds: Vec<Ground>, tos: &[&str], why: &str) -> DecisionInput {
    DecisionInput {
        outcome,
        grounds,
        tos_clauses: tos.iter().map(|s| s.to_string()).collect(),
        justification: why.into(),
    }
}

async fn claim_and_decide(s: &ReviewStore, expect: &str, d: DecisionInput) {
    claim_and_decide_as(s, "mod1", expect, d).await;
}

async fn claim_and_decide_as(s: &ReviewStore, who: &str, expect: &str, d: DecisionInput) {
    let got = s.claim_next(who, false).await.unwrap().unwrap();
    assert_eq!(got, expect, "queue order");
    s.decide(&got, who, &d).await.unwrap();
}

/// Cells of a written CSV: (row key joined by '|', column header) → value.
fn cells(dir: &std::path::Path, file: &str, keys: &[usize]) -> HashMap<(String, String), String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(dir.join(file))
        .unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut out = HashMap::new();
    let mut current = String::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let code = rec.get(3).unwrap_or_default().to_string();
        if code.starts_with("STATEMENT_CATEGORY_") || code == "TOTAL" {
            current = code.clone();
        }
        let mut key: Vec<String> = keys.iter().map(|&k| rec[k].trim().to_string()).collect();
        if file.starts_with("Part_3")
            || file.starts_with("Part_4")
            || file.starts_with("Part_5")
            || file.starts_with("Part_6")
        {
            key.insert(0, current.clone());
        }
        for (i, h) in headers.iter().enumerate() {
            out.entry((key.join("|"), h.trim().to_string()))
                .or_insert_with(|| rec[i].to_string());
        }
    }
    out
}

#[tokio::test]
async fn a_seeded_month_reports_exactly_after_the_cases_are_purged() {
    let redis = RedisServer::start().unwrap();
    let (s, clock) = store(&redis).await;
    // T0: orders, matches, a notice.
    let body = order(
        "DE",
        "DE-1",
        &["https://example.org/u1", "https://example.org/u2"],
    );
    let (de, _) = s
        .receive_order(&body, parse_order(&body).unwrap(), "de", T0)
        .await
        .unwrap();
    let (u1, u2) = (de.case_ids[0].clone(), de.case_ids[1].clone());
    let mut a = a_match("pA", "mA", "gifct", &"a1".repeat(32), "critical");
    a.labels = vec!["terrorism".into()];
    let mut b = a_match("pB", "mB", "gifct", "", "high");
    b.signal_type = SignalType::Md5;
    b.entry = format!("md5:{}", "b2".repeat(16));
    let mut c = a_match("pC", "mC", "rules", "", "medium");
    c.signal_type = SignalType::TextRegex;
    c.entry = "text_regex:join us".into();
    let (ca, _) = s.ingest_match(&a).await.unwrap();
    let (cb, _) = s.ingest_match(&b).await.unwrap();
    let (cc, _) = s.ingest_match(&c).await.unwrap();
    let notice = serde_json::json!({"platform": "web", "url": "https://example.org/n",
        "explanation": "praises an attack", "good_faith": true,
        "notifier": {"name": "A Person", "email": "person@example.org"}})
    .to_string();
    let (n, _) = s
        .receive_notice(
            notice.as_bytes(),
            parse_notice(notice.as_bytes()).unwrap(),
            None,
            "relay",
            T0,
        )
        .await
        .unwrap();
    // The day's work.
    clock.set(T0 + Duration::minutes(10));
    s.suspend(&u2, "legal1", "technical_impossibility")
        .await
        .unwrap();
    clock.set(T0 + Duration::minutes(40));
    claim_and_decide(
        &s,
        &u1,
        decision(Outcome::Remove, vec![Ground::Incitement], &[], ""),
    )
    .await;
    clock.set(T0 + Duration::hours(1));
    let body = order("FR", "FR-1", &["https://example.org/u3"]);
    let (fr, _) = s
        .receive_order(
            &body,
            parse_order(&body).unwrap(),
            "fr",
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
    // A redelivered order is recorded once.
    s.receive_order(
        &body,
        parse_order(&body).unwrap(),
        "fr",
        T0 + Duration::hours(1),
    )
    .await
    .unwrap();
    clock.set(T0 + Duration::minutes(80));
    claim_and_decide(
        &s,
        &fr.case_ids[0],
        decision(Outcome::Remove, vec![Ground::Incitement], &[], ""),
    )
    .await;
    clock.set(T0 + Duration::minutes(90));
    claim_and_decide(
        &s,
        &ca,
        decision(Outcome::Remove, vec![Ground::Incitement], &["4.2"], ""),
    )
    .await;
    clock.set(T0 + Duration::hours(2));
    let nt = Outcome::NotTerroristContent {
        exemption: Some(PurposeExemption::Journalistic),
    };
    claim_and_decide(&s, &cb, decision(nt, vec![], &[], "news report")).await;
    clock.set(T0 + Duration::hours(3));
    let disable = Outcome::Disable {
        territories: vec!["DE".into(), "FR".into()],
    };
    claim_and_decide(&s, &cc, decision(disable, vec![], &["4.2"], "")).await;
    clock.set(T0 + Duration::hours(4));
    claim_and_decide(
        &s,
        &n.case_id,
        decision(Outcome::Remove, vec![Ground::Incitement], &[], ""),
    )
    .await;
    clock.set(T0 + Duration::hours(5));
    let complaint = serde_json::json!({"case_id": ca, "explanation": "it was news reporting",
        "complainant": {"name": "Uploader", "email": "up@example.org"}})
    .to_string();
    let contested = s.case(&ca).await.unwrap().case;
    let (k, _) = s
        .receive_complaint(
            complaint.as_bytes(),
            parse_complaint(complaint.as_bytes()).unwrap(),
            &contested,
            "web",
            T0 + Duration::hours(5),
        )
        .await
        .unwrap();
    clock.set(T0 + Duration::hours(8));
    // Not by mod1, who took the contested decision.
    claim_and_decide_as(
        &s,
        "mod2",
        &k.case_id,
        decision(Outcome::Restore, vec![], &[], "satire"),
    )
    .await;

    // Archive, then wipe Redis: the reports must not need the cases.
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let mut conn = s.connection();
    let prefix = s.options().prefix.clone();
    let moved = archive(&mut conn, &stream_key(&prefix), &ledger)
        .await
        .unwrap();
    assert_eq!(moved.dead, 0);
    let len: usize = redis::cmd("XLEN")
        .arg(stream_key(&prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, 0, "the stream is emptied into the files");
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("ledger/2026-06.jsonl")).unwrap();
    for personal in [
        "person@example.org",
        "Uploader",
        "A Person",
        "mod1",
        "news report",
        "satire",
        "example.org/",
    ] {
        assert!(!text.contains(personal), "{personal} in the ledger");
    }

    let period = Period::parse("2026-06-01/2026-06-30").unwrap();
    let mut f = DsaFigures::default();
    let mapping = Mapping::default();
    let mut decisions = 0;
    let stats = ledger
        .scan(Some(&period), |e| {
            decisions += matches!(e, Event::Decision(_)) as u32;
            f.add(&mapping, e)
        })
        .unwrap();
    assert_eq!(decisions, 7, "u1, u3, A, B, C, N and the complaint");
    assert!(stats.duplicates >= 1, "the redelivered order");
    let out = dir.path().join("dsa");
    let meta = DsaMeta {
        provider: "Example Ltd".into(),
        service: "Example".into(),
        published: date!(2026 - 07 - 15),
        previous: None,
        qualitative: default_qualitative(),
    };
    write_dsa(&out, &period, &f, &meta).unwrap();

    let p3 = cells(&out, "Part_3_member_states_orders.csv", &[3, 5]);
    let v3 = |cat: &str, code: &str, scope: &str, col: &str| {
        p3[&(format!("{cat}|{code}|{scope}"), col.to_string())].clone()
    };
    let orders = "Number of orders to act against illegal content received";
    let items = "Number of specific items of information included in the total number of orders to act against illegal content";
    let ack = "Median time to inform the authority of the receipt of the order to act against illegal content";
    let effect = "Median time to give effect to the order to act against illegal content";
    assert_eq!(v3("TOTAL", "TOTAL", "TOTAL", orders), "2");
    assert_eq!(v3("TOTAL", "TOTAL", "TOTAL", items), "3");
    assert_eq!(v3("TOTAL", "TOTAL", "TOTAL", ack), "0");
    assert_eq!(v3("TOTAL", "TOTAL", "TOTAL", effect), "0.5");
    let risk = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY";
    assert_eq!(v3(risk, "KEYWORD_TERRORIST_CONTENT", "TOTAL", orders), "2");
    assert_eq!(v3(risk, "KEYWORD_OTHER", "TOTAL", orders), "0");
    assert_eq!(v3(risk, "KEYWORD_OTHER", "TOTAL", effect), "");
    assert_eq!(
        v3(
            "STATEMENT_CATEGORY_ANIMAL_WELFARE",
            "STATEMENT_CATEGORY_ANIMAL_WELFARE",
            "TOTAL",
            orders
        ),
        "0"
    );
    assert_eq!(v3("TOTAL", "TOTAL", "DE", orders), "1");
    assert_eq!(v3("TOTAL", "TOTAL", "DE", items), "2");
    assert_eq!(v3("TOTAL", "TOTAL", "DE", effect), "0.6667");
    assert_eq!(
        v3(risk, "KEYWORD_TERRORIST_CONTENT", "FR", effect),
        "0.3333"
    );
    assert_eq!(v3("TOTAL", "TOTAL", "AT", orders), "0");
    assert_eq!(v3("TOTAL", "TOTAL", "GR", orders), "0");

    let p4 = cells(&out, "Part_4_notices.csv", &[3]);
    let v4 = |code: &str, col: &str| p4[&(format!("TOTAL|{code}"), col.to_string())].clone();
    assert_eq!(v4("TOTAL", "Number of notices received"), "1");
    assert_eq!(
        v4("TOTAL", "Number of notices received from Trusted flaggers"),
        "0"
    );
    assert_eq!(v4("TOTAL", "Median time to take action"), "4");
    assert_eq!(
        v4(
            "TOTAL",
            "Median time to take action (Trusted Flagger notices)"
        ),
        ""
    );
    assert_eq!(
        v4("TOTAL", "Number of actions taken on the basis of the law"),
        "1"
    );
    assert_eq!(
        v4(
            "TOTAL",
            "Number of actions taken on the basis of the terms and conditions of the service"
        ),
        "0"
    );

    for (file, removal, disable) in [
        ("Part_5_own_initiative_illegal.csv", "1", "0"),
        ("Part_6_own_initiative_TC.csv", "0", "1"),
    ] {
        let p = cells(&out, file, &[3]);
        let v = |col: &str| p[&("TOTAL|TOTAL".to_string(), col.to_string())].clone();
        assert_eq!(
            v("Number of measures taken at the provider's own initiative"),
            "1",
            "{file}"
        );
        assert_eq!(
            v("Number of measures taken after detection with solely automated means"),
            "1"
        );
        assert_eq!(v("Visibility restriction Removal"), removal, "{file}");
        assert_eq!(v("Visibility restriction Disable"), disable, "{file}");
        assert_eq!(v("Account restriction Termination"), "0");
    }

    let p7 = cells(&out, "Part_7_appeals_and_recidivism.csv", &[4, 5]);
    let v7 = |ind: &str, scope: &str| p7[&(format!("{ind}|{scope}"), "Value".to_string())].clone();
    let all = "Number of complaints submitted to the internal-complaints mechanism";
    assert_eq!(v7(all, "Total number"), "1");
    assert_eq!(v7(all, "Decisions upheld"), "0");
    assert_eq!(v7(all, "Decisions reversed"), "1");
    assert_eq!(v7(all, "Median time"), "3");
    let removal = "Complaint regarding a decision to remove or disable access to or restrict visibility of information";
    assert_eq!(v7(removal, "Total number"), "1");
    assert_eq!(v7(removal, "Decisions reversed"), "1");
    assert_eq!(
        v7(
            "Number of restrictions newly imposed as a result of an internal complaint",
            "Total number"
        ),
        "0"
    );

    let p8 = cells(&out, "Part_8_automated_means.csv", &[4, 5]);
    let v8 = |ind: &str, scope: &str| p8[&(format!("{ind}|{scope}"), "Value".to_string())].clone();
    let (acc, prec, rec) = (
        "Accuracy of the automated means - Accuracy",
        "Accuracy of the automated means - Precision",
        "Accuracy of the automated means - Recall",
    );
    // Reviewed decisions: u1, u3, N restricted undetected (FN); A, C detected and
    // restricted (TP); B detected, no violation (FP).
    assert_eq!(
        v8(
            "Number of measures solely taken by automated means",
            "Total number"
        ),
        "0"
    );
    assert_eq!(
        v8(
            "Number of measures not taken by automated means",
            "Total number"
        ),
        "5"
    );
    assert_eq!(v8(acc, "Total number"), "0.3333");
    assert_eq!(v8(prec, "Total number"), "0.6667");
    assert_eq!(v8(rec, "Total number"), "0.4");
    assert_eq!(v8(acc, "Own-initiative"), "0.6667");
    assert_eq!(v8(rec, "Own-initiative"), "1");
    assert_eq!(
        v8(
            "Number of notices not processed by automated means",
            "NAM Total"
        ),
        "1"
    );
    assert_eq!(v8(acc, "NAM Total"), "");
    assert_eq!(v8(prec, "Automated means: PDQ"), "1");
    assert_eq!(v8(rec, "Automated means: PDQ"), "0.2");
    assert_eq!(v8(acc, "Automated means: PDQ"), "0.3333");
    assert_eq!(v8(prec, "Automated means: MD5/SHA-256"), "0");
    assert_eq!(v8(acc, "Automated means: MD5/SHA-256"), "0");
    assert_eq!(v8(rec, "Automated means: Text rules"), "0.2");
    assert_eq!(
        v8(
            "Number of measures not taken by automated means",
            "Automated means: Text rules"
        ),
        "1"
    );
    assert!(
        !p8.keys().any(|(k, _)| k.contains("vPDQ")),
        "systems that detected nothing are left out"
    );

    // TCO Art. 7 for 2026.
    let tco_dir = dir.path().join("tco");
    let r = takedown_reports::tco::write_tco(&ledger, 2026, "Example Ltd", &tco_dir).unwrap();
    let value = |id: &str| r.figures.iter().find(|f| f.id == id).unwrap().clone();
    assert_eq!(value("a").value, 5);
    assert_eq!(value("a").breakdown["own_initiative"], 2);
    assert_eq!(value("a").breakdown["removal_order"], 2);
    assert_eq!(value("a").breakdown["notice"], 1);
    assert_eq!(value("b").value, 2);
    assert_eq!(value("b").breakdown["PDQ"], 1);
    assert_eq!(value("b").breakdown["Text rules"], 1);
    assert_eq!(value("c").value, 4);
    assert_eq!(
        value("c").breakdown["not_executed:technical_impossibility"],
        1
    );
    assert_eq!(value("d").value, 1);
    assert_eq!(value("d").breakdown["reversed"], 1);
    assert_eq!(
        (value("e").value, value("f").value, value("g").value),
        (0, 0, 1)
    );
    let ids = |id: &str| {
        let mut v: Vec<String> =
            std::fs::read_to_string(tco_dir.join(format!("cases/figure_{id}.txt")))
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
        v.sort();
        v
    };
    let mut expect_a = vec![
        u1.clone(),
        fr.case_ids[0].clone(),
        ca.clone(),
        cc.clone(),
        n.case_id.clone(),
    ];
    expect_a.sort();
    assert_eq!(ids("a"), expect_a);
    let mut expect_c = vec![
        u1.clone(),
        u2.clone(),
        fr.case_ids[0].clone(),
        ca.clone(),
        cc.clone(),
    ];
    expect_c.sort();
    assert_eq!(ids("c"), expect_c);
    assert_eq!(ids("g"), vec![k.case_id.clone()]);

    // Statements: A, C (own initiative) and N (notice); none for orders, B, the complaint.
    let mut statements = Vec::new();
    ledger
        .scan(Some(&period), |e| {
            if let Event::Decision(d) = e
                && let Some(st) = takedown_reports::sor::statement(d, &mapping)
            {
                statements.push(st);
            }
        })
        .unwrap();
    let mut puids: Vec<String> = statements
        .iter()
        .map(|s| s["puid"].as_str().unwrap().to_string())
        .collect();
    puids.sort();
    let mut expect: Vec<String> = [&ca, &cc, &n.case_id]
        .iter()
        .map(|c| format!("td_{c}_0"))
        .collect();
    expect.sort();
    assert_eq!(puids, expect);
    for st in &statements {
        assert_eq!(takedown_reports::validate::validate(st), Default::default());
    }
}
