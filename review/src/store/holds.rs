//! Legal holds and purge: preservation of decided cases (TCO Art. 6), holds that keep them
//! past their term, embargo extension, and purging what is due.

use super::handle::{CaseView, ReviewStore, StoreError, ms};
use crate::model::CaseState;
use redis::AsyncCommands;
use takedown_core::clock::Clock;

impl ReviewStore {
    /// Places a legal hold on preserved content (Art. 6(2)); an open-ended hold takes the
    /// case out of the purge schedule. On a decided case whose content was not removed
    /// (nothing is preserved) the hold keeps its evidence past the retention period instead
    /// (`evidence.hold`).
    pub async fn legal_hold(
        &self,
        case_id: &str,
        actor: &str,
        hold: crate::sla::LegalHold,
    ) -> Result<CaseView, StoreError> {
        let preserve = self.key("preserve");
        self.update(case_id, actor, |_, new, ops| {
            let Some(p) = new.preservation.as_mut() else {
                if new.decision.is_none() || new.state == CaseState::Purged {
                    return Err(StoreError::State(
                        "nothing is preserved and the case is not decided",
                    ));
                }
                new.evidence_holds.push(hold.clone());
                return Ok(("evidence.hold", hold.requested_by.clone()));
            };
            p.holds.push(hold.clone());
            match p.purge_at() {
                Some(at) => ops.push(["ZADD", &preserve, &ms(at).to_string(), case_id]),
                None => ops.push(["ZREM", &preserve, case_id]),
            }
            Ok(("preservation.hold", hold.requested_by.clone()))
        })
        .await
    }

    /// Purges cases whose preservation ended: their evidence (matches) is deleted and the
    /// case marked purged; the audit trail stays. Returns the purged case ids.
    pub async fn purge_due(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let now = self.clock.now();
        let due: Vec<String> = self
            .conn
            .clone()
            .zrangebyscore_limit(self.key("preserve"), "-inf", ms(now), 0, limit as isize)
            .await?;
        let mut purged = Vec::new();
        for id in due {
            let preserve = self.key("preserve");
            let matches = self.key(&format!("case:{id}:matches"));
            let res = self
                .update(&id, "purge", |view, new, ops| {
                    let due = view
                        .case
                        .preservation
                        .as_ref()
                        .is_some_and(|p| p.purge_due(now));
                    if !due {
                        return Err(StoreError::State("preservation not over"));
                    }
                    new.state = CaseState::Purged;
                    new.subject.url = None;
                    ops.push(["ZREM", &preserve, &id]);
                    ops.push(["DEL", &matches]);
                    Ok(("preservation.purged", String::new()))
                })
                .await;
            match res {
                Ok(_) => purged.push(id),
                Err(StoreError::State(_)) => {
                    let _: () = self.conn.clone().zrem(self.key("preserve"), &id).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(purged)
    }

    /// Extends the case's Art. 11(3) embargo by its one further six weeks.
    pub async fn extend_embargo(&self, case_id: &str, actor: &str) -> Result<CaseView, StoreError> {
        self.update(case_id, actor, |_, new, _| {
            let embargo = new
                .embargo
                .as_mut()
                .ok_or(StoreError::State("the case has no embargo"))?;
            embargo.extend()?;
            Ok(("embargo.extended", String::new()))
        })
        .await
    }

    /// Releases the open legal holds placed by `requested_by`: they end now, and the purge
    /// is scheduled again if no other open hold remains.
    pub async fn release_hold(
        &self,
        case_id: &str,
        actor: &str,
        requested_by: &str,
    ) -> Result<CaseView, StoreError> {
        let now = self.clock.now();
        let preserve = self.key("preserve");
        let retain = self.key("evidence:retain");
        self.update(case_id, actor, |_, new, ops| {
            let release = |holds: &mut Vec<crate::sla::LegalHold>| {
                let mut released = 0;
                for hold in holds {
                    if hold.requested_by == requested_by && hold.until.is_none_or(|u| u > now) {
                        hold.until = Some(now);
                        released += 1;
                    }
                }
                if released == 0 {
                    return Err(StoreError::State("no current legal hold by that requester"));
                }
                Ok(())
            };
            let Some(p) = new.preservation.as_mut() else {
                release(&mut new.evidence_holds)?;
                // The retention rules look at the case again now, not at the next daily check.
                ops.push(["ZADD", &retain, &ms(now).to_string(), case_id]);
                return Ok(("evidence.hold_released", requested_by.to_string()));
            };
            release(&mut p.holds)?;
            match p.purge_at() {
                Some(at) => ops.push(["ZADD", &preserve, &ms(at).to_string(), case_id]),
                None => ops.push(["ZREM", &preserve, case_id]),
            }
            Ok(("preservation.released", requested_by.to_string()))
        })
        .await
    }
}
