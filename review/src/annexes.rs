//! The TCO replies to a removal order, built from the store: Annex II (executed) and the
//! Annex III draft (information missing).
//!
//! The API, the case page and the evidence package all show them; one builder keeps them the
//! same reply.

use crate::field::FieldError;
use crate::model::Outcome;
use crate::order::{AnnexII, AnnexIII, AnnexIIItem, CannotComply, MEMBER_STATES};
use crate::store::intake::OrderRecord;
use crate::store::{ReviewStore, StoreError};
use time::OffsetDateTime;

/// The Annex III draft for an order that lacks information needed to execute it (Art. 3(8)),
/// produced at `produced_at`; `None` when nothing is missing.
pub fn annex_iii_draft(record: &OrderRecord, produced_at: OffsetDateTime) -> Option<AnnexIII> {
    record.order.insufficient().then(|| AnnexIII {
        authority_reference: record.order.section_a.reference.clone(),
        provider_reference: record.order_id.clone(),
        received_at: record.received_at,
        reason: CannotComply::InsufficientInformation,
        details: record.order.missing.clone(),
        explanation: "The order lacks information needed to execute it; the one-hour period \
                      starts when the clarification is received (Art. 3(8))."
            .into(),
        draft: true,
        produced_at,
    })
}

/// What the removal or disabling of a decided case is called in Annex II, or why it is not
/// one.
fn measure(outcome: &Outcome) -> Result<&'static str, &'static str> {
    match outcome {
        Outcome::Remove => Ok("removed"),
        Outcome::Disable { territories }
            if territories.iter().any(|t| t == "EU")
                || MEMBER_STATES
                    .iter()
                    .all(|m| territories.iter().any(|t| t == m)) =>
        {
            Ok("disabled_in_all_member_states")
        }
        Outcome::Disable { .. } => Err("access was disabled in some Member States only"),
        _ => Err("the decision did not remove or disable the content"),
    }
}

/// The Annex II reply (Art. 3(6)) for an order whose every URL was removed or disabled in all
/// Member States and enforced by the platform, signed by `signature` for `provider_name`;
/// otherwise, per case, why not yet (`case_ids[i]`).
pub async fn annex_ii(
    store: &ReviewStore,
    record: &OrderRecord,
    provider_name: &str,
    signature: &str,
) -> Result<Result<AnnexII, Vec<FieldError>>, StoreError> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, case_id) in record.case_ids.iter().enumerate() {
        let view = store.case(case_id).await?;
        let url = view.case.subject.url.clone().unwrap_or_default();
        let problem = |reason: &str| {
            FieldError::new(
                format!("case_ids[{i}]"),
                format!("{case_id} ({url}): {reason}"),
            )
        };
        let Some(decision) = &view.case.decision else {
            problems.push(problem("not decided yet"));
            continue;
        };
        let action = match measure(&decision.input.outcome) {
            Ok(action) => action,
            Err(reason) => {
                problems.push(problem(reason));
                continue;
            }
        };
        let enforced = match &decision.action_id {
            Some(action_id) => store
                .action_times(action_id)
                .await?
                .get("enforced_at")
                .copied(),
            None => None,
        };
        let Some(time_of_action) = enforced else {
            problems.push(problem(
                "the platform has not reported the action enforced yet",
            ));
            continue;
        };
        items.push(AnnexIIItem {
            url,
            action: action.to_string(),
            time_of_action,
        });
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(AnnexII {
        authority_reference: record.order.section_a.reference.clone(),
        provider_reference: record.order_id.clone(),
        received_at: record.received_at,
        items,
        provider_name: provider_name.to_string(),
        signature: signature.to_string(),
        date: store.clock().now(),
    }))
}
