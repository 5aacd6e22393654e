//! Complaints as appeals (TCO Art. 10, DSA Art. 20): the three outcomes a reviewer gives a
//! complaint, each turned into the decision the engine records and acts on.
//!
//! A complaint contests an earlier decision. Upholding it repeats that decision's effect;
//! reversing it restores removed content (the engine's `restore` action, the reinstatement
//! the law requires without undue delay) or acts on content that was left up; partially
//! reversing a removal keeps the content disabled only in some territories. The mapping
//! agrees with how the DSA report counts complaint outcomes
//! (`takedown_reports::dsa_figures::complaint_outcome`). Who may decide is the store's check
//! (`store/appeals.rs`): never the moderator who took the contested decision.

use crate::model::{DecisionError, DecisionInput, DecisionRecord, Outcome};
use serde::{Deserialize, Serialize};

/// What the reviewer of a complaint decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    /// The contested decision stands.
    Uphold,
    /// The contested decision is undone.
    Reverse,
    /// Undone in part: a removal becomes disabling in the named territories.
    PartiallyReverse,
}

impl AppealOutcome {
    /// Parses the form's value.
    pub fn parse(s: &str) -> Option<AppealOutcome> {
        match s {
            "uphold" => Some(AppealOutcome::Uphold),
            "reverse" => Some(AppealOutcome::Reverse),
            "partially_reverse" => Some(AppealOutcome::PartiallyReverse),
            _ => None,
        }
    }
}

fn invalid(field: &'static str, reason: &'static str) -> DecisionError {
    DecisionError::Invalid { field, reason }
}

/// Whether a contested outcome restricted the content.
fn restricted(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Remove | Outcome::Disable { .. })
}

/// The decision recording `outcome` on a complaint against `contested`, with the
/// reviewer's `justification` (the reasons given to the complainant, required) and, for a
/// partial reversal, the `territories` where the content stays disabled.
pub fn decision_for(
    outcome: AppealOutcome,
    contested: &DecisionRecord,
    territories: &[String],
    justification: &str,
) -> Result<DecisionInput, DecisionError> {
    if justification.trim().is_empty() {
        return Err(invalid(
            "justification",
            "give the complainant the reasons for the outcome",
        ));
    }
    let before = &contested.input;
    let was_restricted = restricted(&before.outcome);
    let keep_grounds = |outcome: Outcome| DecisionInput {
        outcome,
        grounds: before.grounds.clone(),
        tos_clauses: before.tos_clauses.clone(),
        justification: justification.to_string(),
    };
    let input = match (outcome, was_restricted) {
        (AppealOutcome::Uphold, true) => keep_grounds(before.outcome.clone()),
        (AppealOutcome::Uphold, false) | (AppealOutcome::Reverse, true) => DecisionInput {
            outcome: if was_restricted {
                Outcome::Restore
            } else {
                before.outcome.clone()
            },
            grounds: vec![],
            tos_clauses: vec![],
            justification: justification.to_string(),
        },
        (AppealOutcome::Reverse, false) => {
            return Err(invalid(
                "outcome",
                "reversing a decision to leave content up is a new removal: decide it on the \
                 case page with its grounds",
            ));
        }
        (AppealOutcome::PartiallyReverse, true) => {
            if before.outcome != Outcome::Remove {
                return Err(invalid(
                    "outcome",
                    "only a removal everywhere can be partially reversed",
                ));
            }
            keep_grounds(Outcome::Disable {
                territories: territories.to_vec(),
            })
        }
        (AppealOutcome::PartiallyReverse, false) => {
            return Err(invalid(
                "outcome",
                "only a removal everywhere can be partially reversed",
            ));
        }
    };
    Ok(input)
}

#[cfg(test)]
mod tests;
