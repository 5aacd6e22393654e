//! Complaints as appeals in the store: the rule that the moderator who took the contested
//! decision never decides the complaint against it (checked on every decision, whatever page
//! or API call it comes from), and what an appeal's page shows: the contested decision with
//! its reasons beside the complainant's explanation.

use super::handle::{CaseView, ReviewStore, StoreError};
use crate::intake::Complaint;
use crate::model::{Case, Source};

/// A complaint case with what it contests.
#[derive(Debug, Clone)]
pub struct Appeal {
    /// The complaint's case.
    pub case: CaseView,
    /// The complaint as received (the complainant's explanation).
    pub complaint: Complaint,
    /// The case whose decision is contested.
    pub contested: CaseView,
}

/// The complaint id and contested case id of a complaint case.
pub fn complaint_of(case: &Case) -> Option<(&str, &str)> {
    case.sources.iter().find_map(|s| match s {
        Source::Complaint {
            complaint_id,
            against_case,
        } => Some((complaint_id.as_str(), against_case.as_str())),
        _ => None,
    })
}

impl ReviewStore {
    /// Refuses a decision on a complaint by the moderator who took the decision it contests.
    pub(crate) async fn check_appeal_decider(
        &self,
        case: &Case,
        actor: &str,
    ) -> Result<(), StoreError> {
        let Some((_, against)) = complaint_of(case) else {
            return Ok(());
        };
        let contested = self.case(against).await?;
        if contested
            .case
            .decision
            .as_ref()
            .is_some_and(|d| d.decided_by == actor)
        {
            return Err(StoreError::State(
                "the moderator who took the contested decision cannot decide the complaint",
            ));
        }
        Ok(())
    }

    /// Who may not claim or decide case `id`: for a complaint's case, the moderator who took
    /// the decision it contests (recorded when the case was created); `None` otherwise.
    pub async fn barred_decider(&self, id: &str) -> Result<Option<String>, StoreError> {
        let who: Option<String> =
            redis::AsyncCommands::hget(&mut self.conn.clone(), self.case_key(id), "not_by").await?;
        Ok(who.filter(|w| !w.is_empty()))
    }

    /// The appeal of complaint case `id` (`NotFound` if it is not a complaint's case).
    pub async fn appeal(&self, id: &str) -> Result<Appeal, StoreError> {
        let case = self.case(id).await?;
        let Some((complaint_id, against)) = complaint_of(&case.case) else {
            return Err(StoreError::NotFound(format!("complaint case {id}")));
        };
        let complaint = self.complaint(complaint_id).await?.body;
        let contested = self.case(against).await?;
        Ok(Appeal {
            case,
            complaint,
            contested,
        })
    }
}
