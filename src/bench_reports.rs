//! `takedown bench reports` and `takedown bench sor`: the compliance exports' speed targets
//! (both reports over 1,000,000 decisions in under 30 s with bounded memory; at least 2,000
//! statements/s submitted to the local Transparency Database stand-in).

use std::process::ExitCode;
use std::time::Instant;
use takedown_reports::dsa_csv::{DsaMeta, default_qualitative, write_dsa};
use takedown_reports::dsa_figures::DsaFigures;
use takedown_reports::event::{CaseOpened, Decision, Effect, Event, OrderReceived, SourceKind};
use takedown_reports::ledger::Ledger;
use takedown_reports::mapping::Mapping;
use takedown_reports::period::Period;

/// Time the DSA and TCO reports over a generated ledger.
#[derive(clap::Args, Debug)]
pub struct BenchReportsArgs {
    /// Decisions in the generated year.
    #[arg(long, default_value_t = 1_000_000)]
    pub decisions: usize,
}

/// Time statement submission to the local stand-in.
#[derive(clap::Args, Debug)]
pub struct BenchSorArgs {
    /// Statements to submit.
    #[arg(long, default_value_t = 20_000)]
    pub statements: usize,
}

/// A year of decisions: a mix of sources, effects, signals and Member States, in chunks so
/// generating it does not raise the peak memory being measured.
fn generate(ledger: &Ledger, n: usize) -> anyhow::Result<()> {
    let start = time::macros::datetime!(2026-01-01 00:00 UTC);
    let step = (365 * 86_400_000 / n.max(1)) as i64;
    let states = ["DE", "FR", "ES", "IT", "NL", "GR"];
    let mut chunk = Vec::with_capacity(20_000);
    for i in 0..n {
        let at = start + time::Duration::milliseconds(step * i as i64);
        let received_at = at - time::Duration::minutes((i % 300) as i64);
        let case_id = format!("m-{i:032x}");
        let source = match i % 10 {
            0 => SourceKind::RemovalOrder,
            1 => SourceKind::Notice,
            2 => SourceKind::TrustedNotice,
            3 => SourceKind::Complaint,
            _ => SourceKind::HashMatch,
        };
        let signals: Vec<String> = match source {
            SourceKind::HashMatch => {
                vec![["pdq", "md5", "text_regex", "sha256"][i % 4].to_string()]
            }
            _ => vec![],
        };
        let effect = match i % 7 {
            0 => Effect::NoAction,
            1 => Effect::Disabled,
            2 if source == SourceKind::Complaint => Effect::Restored,
            _ => Effect::Removed,
        };
        if source == SourceKind::RemovalOrder {
            chunk.push(Event::OrderReceived(OrderReceived {
                order_id: format!("ro-{i}"),
                at: received_at,
                acknowledged_at: received_at,
                issuing_state: states[i % states.len()].into(),
                items: 1,
            }));
        }
        if matches!(
            source,
            SourceKind::Notice | SourceKind::TrustedNotice | SourceKind::Complaint
        ) {
            chunk.push(Event::CaseOpened(CaseOpened {
                case_id: case_id.clone(),
                at: received_at,
                source,
                labels: vec![],
                signals: vec![],
                media: true,
                contested: (source == SourceKind::Complaint).then_some(Effect::Removed),
                contested_source: None,
            }));
        }
        chunk.push(Event::Decision(Decision {
            case_id,
            seq: 0,
            at,
            received_at,
            due_at: None,
            in_time: true,
            source,
            issuing_state: (source == SourceKind::RemovalOrder)
                .then(|| states[i % states.len()].to_string()),
            effect,
            territories: if effect == Effect::Disabled {
                vec!["DE".into(), "FR".into()]
            } else {
                vec![]
            },
            legal_grounds: if i % 5 == 4 {
                vec![]
            } else {
                vec!["art2_7_a".into()]
            },
            tos: i % 5 == 4,
            labels: vec!["terrorism".into()],
            signals,
            media: true,
            automated_decision: false,
            contested: (source == SourceKind::Complaint).then_some(Effect::Removed),
            contested_source: None,
        }));
        if chunk.len() >= 20_000 {
            ledger.append(&chunk)?;
            chunk.clear();
        }
    }
    ledger.append(&chunk)?;
    Ok(())
}

/// Peak resident memory of this process, in MiB (`VmHWM`).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Runs `bench reports`.
pub fn run_reports(args: &BenchReportsArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::open(dir.path())?;
    let t = Instant::now();
    generate(&ledger, args.decisions)?;
    let gen_s = t.elapsed().as_secs_f64();
    let rss_after_gen = peak_rss_mib();
    let period = Period::year(2026)?;
    let mapping = Mapping::default();
    let t = Instant::now();
    let mut f = DsaFigures::default();
    let stats = ledger.scan(Some(&period), |e| f.add(&mapping, e))?;
    let meta = DsaMeta {
        provider: "bench".into(),
        service: "bench".into(),
        published: time::macros::date!(2027 - 02 - 01),
        previous: None,
        qualitative: default_qualitative(),
    };
    write_dsa(&dir.path().join("dsa"), &period, &f, &meta)?;
    let dsa_s = t.elapsed().as_secs_f64();
    drop(f);
    let t = Instant::now();
    let r = takedown_reports::tco::write_tco(&ledger, 2026, "bench", &dir.path().join("tco"))?;
    let tco_s = t.elapsed().as_secs_f64();
    println!(
        "decisions {}  ledger events {}  generate {gen_s:.1} s\nDSA report {dsa_s:.2} s  TCO report {tco_s:.2} s  (a) = {}\npeak RSS {:.0} MiB (after generating: {rss_after_gen:.0} MiB)  nproc {}",
        args.decisions,
        stats.events,
        r.figures[0].value,
        peak_rss_mib(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `bench sor`.
pub fn run_sor(args: &BenchSorArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let db = takedown_local_services::TransparencyDb::start(takedown_local_services::TransparencyDbOptions {
            per_second: 1_000_000,
            ..Default::default()
        })
        .await?;
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::open(dir.path())?;
        // Own-initiative removals only, so every decision has a statement.
        let mut events = Vec::new();
        let at = time::macros::datetime!(2026-03-01 00:00 UTC);
        for i in 0..args.statements {
            events.push(Event::Decision(Decision {
                case_id: format!("m-{i:032x}"),
                seq: 0,
                at,
                received_at: at,
                due_at: None,
                in_time: true,
                source: SourceKind::HashMatch,
                issuing_state: None,
                effect: Effect::Removed,
                territories: vec![],
                legal_grounds: vec!["art2_7_a".into()],
                tos: false,
                labels: vec![],
                signals: vec!["pdq".into()],
                media: true,
                automated_decision: false,
                contested: None,
                contested_source: None,
            }));
        }
        ledger.append(&events)?;
        drop(events);
        let outbox = takedown_reports::outbox::Outbox::open(dir.path())?;
        let cfg = takedown_reports::outbox::ClientConfig {
            base_url: db.url().to_string(),
            token: "test-token".into(),
            batch: 100,
            max_attempts: 8,
            backoff: std::time::Duration::from_millis(50),
        };
        let t = Instant::now();
        let done = takedown_reports::outbox::submit(&ledger, &Mapping::default(), &outbox, &cfg).await?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "statements {}  stored {}  in {s:.2} s = {:.0} statements/s (batches of 100, validated locally, results fsynced per batch)  nproc {}",
            args.statements,
            done.stored,
            done.stored as f64 / s,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        );
        anyhow::ensure!(done.stored as usize == args.statements, "not every statement was stored");
        Ok(ExitCode::SUCCESS)
    })
}
