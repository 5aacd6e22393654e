//! The TCO Regulation's yearly transparency report (Art. 7(2)–(3)): figures (a)–(g) as
//! printable HTML, JSON and CSV, each traceable to its cases through a file of case ids
//! (`cases/<figure>.txt`, one id per line), written while the ledger streams by.
//!
//! Interpretations (see `docs/reports.md`): hash and text-rule matching is the specific
//! measure of (a)–(c); (e) counts review proceedings the provider brought, which Takedown
//! does not record (always 0, said so in the report); (f) counts reinstatements decided on
//! removal-order cases (an order withdrawn or annulled on review); (g) reinstatements decided
//! on complaints.

use crate::dsa_figures::{ComplaintOutcome, complaint_outcome};
use crate::event::{Effect, Event, SourceKind};
use crate::ledger::{Ledger, LedgerError};
use crate::mapping::system_of;
use crate::monthly::source_name;
use crate::period::Period;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One figure: its letter, label, value and sub-counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    /// `a` … `g`.
    pub id: &'static str,
    /// What it counts.
    pub label: &'static str,
    /// The number.
    pub value: u64,
    /// Breakdown (name → count).
    pub breakdown: BTreeMap<String, u64>,
    /// The file listing its cases, relative to the output directory.
    pub cases_file: String,
    /// A note on how it is computed.
    pub note: &'static str,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcoReport {
    /// The calendar year.
    pub year: i32,
    /// The provider.
    pub provider: String,
    /// Figures (a)–(g).
    pub figures: Vec<Figure>,
}

/// TCO report failures.
#[derive(Debug, thiserror::Error)]
pub enum TcoError {
    /// The ledger.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Output.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

const SPECS: [(&str, &str, &str); 7] = [
    (
        "a",
        "Items removed or disabled by the measures to identify and remove terrorist content",
        "Every removal or disabling decided in the year, by where the item came from.",
    ),
    (
        "b",
        "Items removed or disabled after detection by automated tools against re-appearance",
        "Own-initiative removals and disablings detected by hash lists or text rules, by automated system (an item found by two systems counts once in the total).",
    ),
    (
        "c",
        "Items removed or disabled following removal orders or specific measures; orders not executed",
        "Removal-order and own-initiative (specific measure) removals and disablings; order items not executed, by their Art. 3(7)/(8) ground.",
    ),
    (
        "d",
        "Complaints handled (Art. 10), by outcome",
        "Complaint decisions taken in the year.",
    ),
    (
        "e",
        "Administrative or judicial review proceedings brought by the provider",
        "Not recorded by Takedown: enter from the legal team's records.",
    ),
    (
        "f",
        "Reinstatements after administrative or judicial review proceedings",
        "Reinstatements decided on removal-order cases.",
    ),
    (
        "g",
        "Reinstatements after a complaint",
        "Reinstatements decided on complaints.",
    ),
];

struct Acc {
    figures: Vec<Figure>,
    files: Vec<BufWriter<File>>,
}

impl Acc {
    fn hit(&mut self, i: usize, part: Option<&str>, case: &str) -> std::io::Result<()> {
        let f = &mut self.figures[i];
        f.value += 1;
        if let Some(p) = part {
            *f.breakdown.entry(p.to_string()).or_default() += 1;
        }
        writeln!(self.files[i], "{case}")
    }

    fn part(&mut self, i: usize, part: &str) {
        *self.figures[i]
            .breakdown
            .entry(part.to_string())
            .or_default() += 1;
    }
}

/// Computes the report for `year` and writes `tco-YYYY.{html,json,csv}` and `cases/*.txt`
/// into `out`.
pub fn write_tco(
    ledger: &Ledger,
    year: i32,
    provider: &str,
    out: &Path,
) -> Result<TcoReport, TcoError> {
    let period = Period::year(year).map_err(|e| TcoError::Io {
        path: out.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
    })?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TcoError::Io { path, source }
    };
    let cases = out.join("cases");
    std::fs::create_dir_all(&cases).map_err(io(&cases))?;
    let mut acc = Acc {
        figures: vec![],
        files: vec![],
    };
    for (id, label, note) in SPECS {
        let rel = format!("cases/figure_{id}.txt");
        let path = out.join(&rel);
        acc.files
            .push(BufWriter::new(File::create(&path).map_err(io(&path))?));
        acc.figures.push(Figure {
            id,
            label,
            value: 0,
            breakdown: BTreeMap::new(),
            cases_file: rel,
            note,
        });
    }
    let mut write_err = None;
    ledger.scan(Some(&period), |e| {
        let r = (|| -> std::io::Result<()> {
            match e {
                Event::OrderNotExecuted(n) => {
                    // Listed with its ground, but not an item removed: not in the total.
                    acc.part(2, &format!("not_executed:{}", n.ground));
                    writeln!(acc.files[2], "{}", n.case_id)?;
                }
                Event::Decision(d) => {
                    let c = &d.case_id;
                    if d.effect.restricts() && d.source != SourceKind::Complaint {
                        acc.hit(0, Some(source_name(d.source)), c)?;
                        if d.source == SourceKind::HashMatch && d.automated_detection() {
                            let mut systems: Vec<_> =
                                d.signals.iter().map(|s| system_of(s)).collect();
                            systems.sort_unstable();
                            systems.dedup();
                            acc.hit(1, None, c)?;
                            for s in systems {
                                acc.part(1, s);
                            }
                        }
                        match d.source {
                            SourceKind::RemovalOrder => acc.hit(2, Some("removal_order"), c)?,
                            SourceKind::HashMatch => acc.hit(2, Some("specific_measure"), c)?,
                            _ => {}
                        }
                    }
                    if d.source == SourceKind::Complaint {
                        let o = match complaint_outcome(d.contested, d.effect) {
                            ComplaintOutcome::Upheld => "upheld",
                            ComplaintOutcome::PartiallyReversed => "partially_reversed",
                            ComplaintOutcome::Reversed => "reversed",
                        };
                        acc.hit(3, Some(o), c)?;
                        if d.effect == Effect::Restored {
                            acc.hit(6, None, c)?;
                        }
                    }
                    if d.source == SourceKind::RemovalOrder && d.effect == Effect::Restored {
                        acc.hit(5, None, c)?;
                    }
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = r {
            write_err.get_or_insert(e);
        }
    })?;
    if let Some(e) = write_err {
        return Err(io(&cases)(e));
    }
    for f in &mut acc.files {
        f.flush().map_err(io(&cases))?;
    }
    let report = TcoReport {
        year,
        provider: provider.to_string(),
        figures: acc.figures,
    };
    let base = out.join(format!("tco-{year}"));
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let p = base.with_extension("json");
    std::fs::write(&p, json + "\n").map_err(io(&p))?;
    let p = base.with_extension("csv");
    std::fs::write(&p, csv(&report)).map_err(io(&p))?;
    let p = base.with_extension("html");
    std::fs::write(&p, html(&report)).map_err(io(&p))?;
    Ok(report)
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `figure,item,value,cases_file` rows: each figure's total, then its breakdown.
pub fn csv(r: &TcoReport) -> String {
    let mut out = String::from("figure,item,value,cases_file\r\n");
    for f in &r.figures {
        out += &format!("{},total,{},{}\r\n", f.id, f.value, f.cases_file);
        for (k, v) in &f.breakdown {
            out += &format!("{},{},{},{}\r\n", f.id, csv_cell(k), v, f.cases_file);
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained printable page (inline CSS, no external assets).
pub fn html(r: &TcoReport) -> String {
    let mut rows = String::new();
    for f in &r.figures {
        let parts: Vec<String> = f
            .breakdown
            .iter()
            .map(|(k, v)| format!("{}: {v}", esc(k)))
            .collect();
        rows += &format!(
            "<tr><th>({})</th><td>{}<div class=n>{}</div></td><td class=v>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            f.id,
            esc(f.label),
            esc(f.note),
            f.value,
            parts.join("<br>"),
            esc(&f.cases_file)
        );
    }
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>Transparency report {year} (Regulation (EU) 2021/784, Art. 7)</title>\n\
<style>body{{font:11pt/1.4 serif;margin:2cm}}table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #444;padding:4pt;vertical-align:top;text-align:left}}.v{{text-align:right}}.n{{font-size:9pt;color:#333}}@media print{{body{{margin:1cm}}}}</style></head>\n\
<body><h1>Transparency report {year}</h1>\n<p>{provider}: measures against the dissemination of terrorist content online, 1 January – 31 December {year}, under Article 7(2) and (3) of Regulation (EU) 2021/784.</p>\n\
<table><thead><tr><th>Figure</th><th>What it counts</th><th>Number</th><th>Breakdown</th><th>Cases</th></tr></thead><tbody>\n{rows}</tbody></table>\n</body></html>\n",
        year = r.year,
        provider = esc(&r.provider),
    )
}

#[cfg(test)]
#[path = "tco_tests.rs"]
mod tests;
