//! Writes the Commission's CSV templates (Implementing Regulation (EU) 2024/2835, Annex I,
//! parts 1–8 and 11) filled with a period's figures.
//!
//! The templates are embedded byte for byte; every header line, column and row key (with
//! their trailing spaces) is copied, and only the Service, Reporting period and value cells
//! are written. Two placeholders are expanded, as the templates' `[…]` asks: Part 3's
//! `AT, […], SE` scope becomes one block per EU Member State (in the template's order, by
//! English name), and Part 8 gets, after its own-initiative rows, the same five indicators
//! for each automated system (Scope `Automated means: <system>`). Output is RFC 4180
//! (CRLF, quotes only where needed), UTF-8.

use crate::dsa_figures::{AutoAcc, DsaFigures};
use crate::period::{Period, ymd};
use crate::stats::{median, num, ratio};
use std::path::{Path, PathBuf};
use time::Date;

/// The embedded templates: (file name, contents).
pub const TEMPLATES: [(&str, &str); 9] = [
    (
        "Part_1_summary.csv",
        include_str!("../templates/Part_1_summary.csv"),
    ),
    (
        "Part_2_categories_names.csv",
        include_str!("../templates/Part_2_categories_names.csv"),
    ),
    (
        "Part_3_member_states_orders.csv",
        include_str!("../templates/Part_3_member_states_orders.csv"),
    ),
    (
        "Part_4_notices.csv",
        include_str!("../templates/Part_4_notices.csv"),
    ),
    (
        "Part_5_own_initiative_illegal.csv",
        include_str!("../templates/Part_5_own_initiative_illegal.csv"),
    ),
    (
        "Part_6_own_initiative_TC.csv",
        include_str!("../templates/Part_6_own_initiative_TC.csv"),
    ),
    (
        "Part_7_appeals_and_recidivism.csv",
        include_str!("../templates/Part_7_appeals_and_recidivism.csv"),
    ),
    (
        "Part_8_automated_means.csv",
        include_str!("../templates/Part_8_automated_means.csv"),
    ),
    (
        "Part_11_qualitative.csv",
        include_str!("../templates/Part_11_qualitative.csv"),
    ),
];

/// The EU Member States in the order the templates list them (English names: Austria …
/// Sweden). Greece is `GR`, as in the statements of reasons.
pub const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

const PERIOD_PLACEHOLDER: &str = "YYYY-MM-DD/YYYY-MM-DD";
const STATES_PLACEHOLDER: &str = "AT, […], SE";

/// What the report says about its publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsaMeta {
    /// Name of the service provider (Part 1).
    pub provider: String,
    /// The service (the Service column).
    pub service: String,
    /// Date of publication.
    pub published: Date,
    /// Date of the latest previous report, if any.
    pub previous: Option<Date>,
    /// Part 11's six texts for all providers, in the template's order.
    pub qualitative: [String; 6],
}

/// Part 11's default texts, describing what Takedown does.
pub fn default_qualitative() -> [String; 6] {
    [
        "Media and text of posts are matched against shared hash lists of terrorist content (GIFCT, Tech Against Terrorism) and our own lists; every match is reviewed by a trained moderator before any restriction.",
        "Matches open review cases ranked by severity and legal deadline; moderators remove content or disable access in Member States on the grounds of Article 2(7) of Regulation (EU) 2021/784 or of our terms and conditions, and record when content is not terrorist content.",
        "Perceptual image hashing (PDQ) with a Hamming-distance threshold, exact file hashes (MD5, SHA-256) and text rules (regular expressions) compared against curated hash lists.",
        "Accuracy, precision and recall of each automated means are measured against the reviewers' decisions on the cases it detected and on those it did not (Part 8).",
        "Automated means only detect and prioritise content for human review; they do not decide restrictions.",
        "Every restriction is decided by a person; reviewer verdicts feed back to the hash lists; decisions can be contested through the internal complaint mechanism; an audit trail records every step.",
    ]
    .map(String::from)
}

/// Report writing failures.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// File I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// CSV encoding or a broken embedded template.
    #[error("{file}: {source}")]
    Csv {
        /// The template.
        file: &'static str,
        /// Why.
        source: csv::Error,
    },
}

fn count(n: u64) -> String {
    n.to_string()
}

fn med(v: &[f64]) -> String {
    num(median(&mut v.to_vec()))
}

fn auto_values(a: &AutoAcc, indicator: &str) -> Option<String> {
    let n = a.tp + a.fp + a.fn_ + a.tn;
    Some(match indicator {
        "Number of measures solely taken by automated means" => count(a.solely),
        "Number of measures not taken by automated means" => count(a.not_automated),
        "Number of notices solely processed by automated means" => count(a.solely),
        "Number of notices not processed by automated means" => count(a.not_automated),
        "Accuracy of the automated means - Accuracy" => num(ratio(a.tp + a.tn, n)),
        "Accuracy of the automated means - Precision" => num(ratio(a.tp, a.tp + a.fp)),
        "Accuracy of the automated means - Recall" => num(ratio(a.tp, a.tp + a.fn_)),
        _ => return None,
    })
}

struct Filler<'a> {
    f: &'a DsaFigures,
    period: &'a Period,
    meta: &'a DsaMeta,
}

impl Filler<'_> {
    fn common(&self, row: &mut [String]) {
        if row.len() > 1 {
            row[1] = self.meta.service.clone();
        }
        for cell in row.iter_mut() {
            if cell == PERIOD_PLACEHOLDER {
                *cell = self.period.to_string();
            }
        }
    }

    /// Fills value cells `row[first..]` with `values`.
    fn put(row: &mut [String], first: usize, values: &[String]) {
        for (i, v) in values.iter().enumerate() {
            row[first + i] = v.clone();
        }
    }

    fn part(&self, name: &str, rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
        if name.starts_with("Part_2_") {
            return rows; // the category list itself: nothing to fill
        }
        let mut out = Vec::with_capacity(rows.len());
        let mut current = String::new();
        let mut states_block = Vec::new();
        let mut qualitative = self.meta.qualitative.iter();
        for (i, mut row) in rows.into_iter().enumerate() {
            if i == 0 {
                out.push(row);
                continue;
            }
            self.common(&mut row);
            let part = name.split('_').nth(1).unwrap_or("");
            if matches!(part, "3" | "4" | "5" | "6") {
                let code = row[3].clone();
                if code.starts_with("STATEMENT_CATEGORY_") || code == "TOTAL" {
                    current = code.clone();
                }
                let cats = self.f.row_cats(&current, &code);
                match part {
                    "3" if row[5] == STATES_PLACEHOLDER => {
                        states_block.push((row, cats));
                        continue;
                    }
                    "3" => self.orders(&mut row, &cats, None),
                    "4" => {
                        let n = self.f.notices_for(&cats);
                        let v = [
                            count(n.notices[0]),
                            count(n.notices[1]),
                            count(n.items[0]),
                            count(n.items[1]),
                            med(&n.time[0]),
                            med(&n.time[1]),
                            count(n.law[0]),
                            count(n.law[1]),
                            count(n.tos[0]),
                            count(n.tos[1]),
                        ];
                        Self::put(&mut row, 5, &v);
                    }
                    _ => {
                        let o = self.f.own_for(part == "5", &cats);
                        let mut v = vec![
                            count(o.measures),
                            count(o.automated),
                            count(o.removal),
                            count(o.disable),
                        ];
                        v.resize(16, "0".into());
                        Self::put(&mut row, 5, &v);
                    }
                }
                out.push(row);
                continue;
            }
            match part {
                "1" => {
                    let v = match row[2].as_str() {
                        "Name of the service provider" => self.meta.provider.clone(),
                        "Date of the publication of the report" => ymd(self.meta.published),
                        "Date of the publication of the latest previous report" => {
                            self.meta.previous.map(ymd).unwrap_or_default()
                        }
                        "Starting date of reporting period" => ymd(self.period.from),
                        "Ending date of reporting period" => ymd(self.period.to),
                        _ => String::new(),
                    };
                    row[3] = v;
                }
                "7" => row[6] = self.complaints(row[4].trim(), row[5].trim()),
                "8" => {
                    let scope = row[5].trim().to_string();
                    let acc = match scope.as_str() {
                        "Total number" => Some(&self.f.auto_total),
                        "Own-initiative" => Some(&self.f.auto_own),
                        "NAM Total" => Some(&self.f.nam[0]),
                        "NAM Trusted Flagger" => Some(&self.f.nam[1]),
                        _ => None,
                    };
                    let indicator = row[4].trim().to_string();
                    let notices = scope.starts_with("NAM");
                    if let Some(a) = acc {
                        // No notice is processed by automated means: no accuracy to give.
                        let v = if notices && indicator.starts_with("Accuracy") {
                            String::new()
                        } else {
                            auto_values(a, &indicator).unwrap_or_default()
                        };
                        row[6] = v;
                    }
                    let last_own = scope == "Own-initiative" && indicator.ends_with("Recall");
                    out.push(row.clone());
                    if last_own {
                        self.systems(&row, &mut out);
                    }
                    continue;
                }
                "11" => {
                    row[4] = if row[0] == "All" {
                        qualitative.next().cloned().unwrap_or_default()
                    } else {
                        String::new()
                    };
                }
                _ => {}
            }
            out.push(row);
        }
        for state in MEMBER_STATES {
            for (row, cats) in &states_block {
                let mut r = row.clone();
                r[5] = state.to_string();
                self.orders(&mut r, cats, Some(state));
                out.push(r);
            }
        }
        out
    }

    fn orders(&self, row: &mut [String], cats: &[usize], state: Option<&str>) {
        let o = self.f.orders_for(cats, state);
        let v = [
            count(o.orders),
            count(o.items),
            med(&o.ack),
            med(&o.effect),
            count(0),
            String::new(),
            String::new(),
        ];
        Self::put(row, 6, &v);
    }

    fn systems(&self, template: &[String], out: &mut Vec<Vec<String>>) {
        const INDICATORS: [&str; 5] = [
            "Number of measures solely taken by automated means ",
            "Number of measures not taken by automated means",
            "Accuracy of the automated means - Accuracy",
            "Accuracy of the automated means - Precision",
            "Accuracy of the automated means - Recall",
        ];
        for (system, acc) in &self.f.per_system {
            if acc.tp + acc.fp == 0 {
                continue; // the system detected nothing in the period
            }
            for ind in INDICATORS {
                let mut r = template.to_vec();
                r[4] = ind.to_string();
                r[5] = format!("Automated means: {system}");
                r[6] = auto_values(acc, ind.trim()).unwrap_or_default();
                out.push(r);
            }
        }
    }

    fn complaints(&self, indicator: &str, scope: &str) -> String {
        let f = self.f;
        let acc = match indicator {
            "Number of complaints submitted to the internal-complaints mechanism" => {
                Some(&f.complaints)
            }
            "Complaint regarding a decision to remove or disable access to or restrict visibility of information" => {
                Some(&f.complaint_types[0])
            }
            "Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16" => {
                Some(&f.complaint_types[1])
            }
            "Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16" => {
                Some(&f.complaint_types[2])
            }
            "Number of restrictions newly imposed as a result of an internal complaint" => {
                return count(f.newly_imposed);
            }
            _ => None,
        };
        let Some(a) = acc else {
            // Service, account and monetisation decisions, out-of-court disputes and
            // repeat-offender suspensions are not taken by Takedown.
            return match scope {
                "Median time" | "Percentage of outcomes implemented" => String::new(),
                _ => count(0),
            };
        };
        match scope {
            "Total number" => count(a.received),
            "Decisions upheld" => count(a.outcomes[0]),
            "Decisions partially reversed" => count(a.outcomes[1]),
            "Decisions reversed" => count(a.outcomes[2]),
            "Median time" => med(&a.time),
            "Decision omitted" => count(0),
            _ => String::new(),
        }
    }
}

/// Writes the nine files into `out` (created if missing); returns their paths.
pub fn write_dsa(
    out: &Path,
    period: &Period,
    figures: &DsaFigures,
    meta: &DsaMeta,
) -> Result<Vec<PathBuf>, WriteError> {
    std::fs::create_dir_all(out).map_err(|source| WriteError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let filler = Filler {
        f: figures,
        period,
        meta,
    };
    let mut paths = Vec::new();
    for (name, template) in TEMPLATES {
        let csv_err = |source| WriteError::Csv { file: name, source };
        let mut rows = Vec::new();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(template.as_bytes());
        for rec in r.records() {
            rows.push(rec.map_err(csv_err)?.iter().map(String::from).collect());
        }
        let rows = filler.part(name, rows);
        let path = out.join(name);
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_path(&path)
            .map_err(csv_err)?;
        for row in rows {
            w.write_record(&row).map_err(csv_err)?;
        }
        w.flush().map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
#[path = "dsa_csv_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "dsa_csv_values_tests.rs"]
mod values_tests;
