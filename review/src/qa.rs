//! QA sampling: which final decisions get a blind second review, and whether the second
//! reviewer agreed.
//!
//! A share of each queue's decisions (routing.rs, 5% unless configured) is drawn for a
//! second reviewer who does not see the first outcome. The draw is a keyed hash of the
//! decision (case id and decision number) under a seed: the same seed gives the same draws,
//! so a test injects its seed and a replica's restart does not change what was drawn;
//! without the seed nobody can tell in advance which decisions will be checked. The store
//! keeps the tasks and the agreement counts (`store/qa.rs`).

use crate::model::Outcome;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// At most this many QA reviews wait at once; decisions drawn beyond it are counted as
/// skipped, not queued, so the QA queue cannot grow without bound.
pub const MAX_PENDING: usize = 10_000;

/// Whether decision number `seq` of case `case_id` is drawn, under `seed`, for a share
/// `share` (0 to 1) of decisions.
pub fn sampled(seed: u64, case_id: &str, seq: usize, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    if share >= 1.0 {
        return true;
    }
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update((case_id.len() as u64).to_be_bytes());
    h.update(case_id.as_bytes());
    h.update((seq as u64).to_be_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    // The top 53 bits as a uniform fraction in [0, 1).
    let x = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
    x < share
}

/// What a decision did, as QA compares it: whether the content was restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Removed or disabled.
    Restrict,
    /// Left up (not terrorist content, or restored).
    Allow,
}

impl Verdict {
    /// The verdict of a final outcome (`None` for escalations and threats to life).
    pub fn of(outcome: &Outcome) -> Option<Verdict> {
        match outcome {
            Outcome::Remove | Outcome::Disable { .. } => Some(Verdict::Restrict),
            Outcome::NotTerroristContent { .. } | Outcome::Restore => Some(Verdict::Allow),
            Outcome::Escalate | Outcome::ThreatToLife => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Restrict => "restrict",
            Verdict::Allow => "allow",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "restrict" => Some(Verdict::Restrict),
            "allow" => Some(Verdict::Allow),
            _ => None,
        }
    }
}

/// Agreement of second reviews with first decisions, for one moderator or one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    /// The moderator's account name or the list id.
    pub key: String,
    /// Second reviews done.
    pub reviewed: u64,
    /// Of which agreed with the first decision.
    pub agreed: u64,
}

impl Agreement {
    /// The agreement rate from 0 to 1 (`None` before any review).
    pub fn rate(&self) -> Option<f64> {
        (self.reviewed > 0).then(|| self.agreed as f64 / self.reviewed as f64)
    }

    /// The rate in percent with one decimal, or `–`.
    pub fn percent(&self) -> String {
        self.rate()
            .map_or_else(|| "–".to_string(), |r| format!("{:.1}%", r * 100.0))
    }
}

#[cfg(test)]
mod tests;
