//! Hooks that write the report ledger (`takedown-reports`) where reported events happen: a
//! case opened, a removal order received, an order item not executed (Annex III), a final
//! decision. They live here so the aggregates' files only call them.
//!
//! A decision's event is an `XADD` inside the decision's own atomic transition, so it exists
//! exactly when the decision does. The others are appended right after the change they
//! follow and again on any redelivery (the ledger counts an event key once), so a crash in
//! between is repaired by the retry every intake path already makes. Events carry no
//! personal data: ids, times, kinds, labels and signal types only.

use super::handle::{Ops, ReviewStore, StoreError};
use crate::model::{Case, DecisionRecord, MatchRecord, Outcome, Source};
use takedown_reports::event::{
    CaseOpened, Decision, Effect, Event, OrderNotExecuted, OrderReceived, SourceKind,
};
use takedown_reports::ledger::{STREAM_FIELD, stream_key};

/// How reports classify a case's origin: an order outranks a complaint, a complaint a
/// notice, a notice a match.
pub fn source_kind(case: &Case) -> SourceKind {
    let kinds = case.sources.iter().map(|s| match s {
        Source::RemovalOrder { .. } => SourceKind::RemovalOrder,
        Source::Complaint { .. } => SourceKind::Complaint,
        Source::Notice {
            trusted_flagger: true,
            ..
        } => SourceKind::TrustedNotice,
        Source::Notice { .. } => SourceKind::Notice,
        Source::AuRemovalNotice { .. } => SourceKind::OtherNotification,
        Source::HashMatch => SourceKind::HashMatch,
    });
    let order = |k: &SourceKind| match k {
        SourceKind::RemovalOrder => 0,
        SourceKind::Complaint => 1,
        SourceKind::TrustedNotice => 2,
        SourceKind::Notice => 3,
        SourceKind::OtherNotification => 4,
        SourceKind::HashMatch => 5,
    };
    kinds.min_by_key(order).unwrap_or(SourceKind::HashMatch)
}

/// The effect of a final outcome (`None` for escalations and threats to life).
pub fn effect(outcome: &Outcome) -> Option<Effect> {
    match outcome {
        Outcome::Remove => Some(Effect::Removed),
        Outcome::Disable { .. } => Some(Effect::Disabled),
        Outcome::Restore => Some(Effect::Restored),
        Outcome::NotTerroristContent { .. } => Some(Effect::NoAction),
        Outcome::Escalate | Outcome::ThreatToLife => None,
    }
}

/// Labels (first seen first) and signal types of a case's matches.
fn labels_and_signals(matches: &[MatchRecord]) -> (Vec<String>, Vec<String>) {
    let (mut labels, mut signals) = (Vec::<String>::new(), Vec::<String>::new());
    for m in matches {
        for l in &m.labels {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
        let signal = m.entry.split(':').next().unwrap_or_default().to_string();
        if !signal.is_empty() && !signals.contains(&signal) {
            signals.push(signal);
        }
    }
    signals.sort();
    (labels, signals)
}

/// The event of a final decision `record` on `case` (its state before the decision).
pub fn decision_event(
    case: &Case,
    record: &DecisionRecord,
    matches: &[MatchRecord],
    contested: Option<(Effect, SourceKind)>,
) -> Option<Event> {
    let effect = effect(&record.input.outcome)?;
    let (labels, signals) = labels_and_signals(matches);
    let issuing_state = case.sources.iter().find_map(|s| match s {
        Source::RemovalOrder { issuing_state, .. } => Some(issuing_state.clone()),
        _ => None,
    });
    Some(Event::Decision(Decision {
        case_id: case.id.clone(),
        seq: case.history.len() as u32 + case.decision.is_some() as u32,
        at: record.decided_at,
        received_at: case.sla.received_at,
        due_at: case.sla.due_at(),
        in_time: record.in_time,
        source: source_kind(case),
        issuing_state,
        effect,
        territories: match &record.input.outcome {
            Outcome::Disable { territories } => territories.clone(),
            _ => vec![],
        },
        legal_grounds: record
            .input
            .grounds
            .iter()
            .filter_map(|g| serde_json::to_value(g).ok()?.as_str().map(String::from))
            .collect(),
        tos: !record.input.tos_clauses.is_empty(),
        labels,
        signals,
        media: case.subject.media_id.is_some(),
        automated_decision: record.automated,
        contested: contested.map(|c| c.0),
        contested_source: contested.map(|c| c.1),
    }))
}

impl ReviewStore {
    /// Adds the event's `XADD` to an atomic transition.
    pub(crate) fn ledger_op(&self, ops: &mut Ops, event: &Event) -> Result<(), StoreError> {
        let json = serde_json::to_string(event)?;
        ops.push([
            "XADD",
            &stream_key(&self.opts.prefix),
            "*",
            STREAM_FIELD,
            &json,
        ]);
        Ok(())
    }

    /// Appends an event now.
    pub(crate) async fn ledger_append(&self, event: &Event) -> Result<(), StoreError> {
        let json = serde_json::to_string(event)?;
        let _: String = redis::cmd("XADD")
            .arg(stream_key(&self.opts.prefix))
            .arg("*")
            .arg(STREAM_FIELD)
            .arg(json)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// A case's matches (for the signals and labels a decision event carries).
    pub(crate) async fn ledger_matches(
        &self,
        case_id: &str,
    ) -> Result<Vec<MatchRecord>, StoreError> {
        let raw: Vec<String> = redis::cmd("LRANGE")
            .arg(self.key(&format!("case:{case_id}:matches")))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(raw
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }

    /// For a complaint case: the contested decision's effect and the contested case's source.
    pub(crate) async fn ledger_contested(
        &self,
        case: &Case,
    ) -> Result<Option<(Effect, SourceKind)>, StoreError> {
        let Some(against) = case.sources.iter().find_map(|s| match s {
            Source::Complaint { against_case, .. } => Some(against_case.clone()),
            _ => None,
        }) else {
            return Ok(None);
        };
        let contested = match self.case(&against).await {
            Ok(v) => v.case,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(contested
            .decision
            .as_ref()
            .and_then(|d| effect(&d.input.outcome))
            .map(|e| (e, source_kind(&contested))))
    }

    /// Records that `case` was opened (idempotent by case id).
    pub(crate) async fn ledger_opened(
        &self,
        case: &Case,
        matches: &[MatchRecord],
    ) -> Result<(), StoreError> {
        let (labels, signals) = labels_and_signals(matches);
        let contested = self.ledger_contested(case).await?;
        let e = Event::CaseOpened(CaseOpened {
            case_id: case.id.clone(),
            at: case.sla.received_at,
            source: source_kind(case),
            labels,
            signals,
            media: case.subject.media_id.is_some(),
            contested: contested.map(|c| c.0),
            contested_source: contested.map(|c| c.1),
        });
        self.ledger_append(&e).await
    }

    /// Records a removal order's receipt (idempotent by order id).
    pub(crate) async fn ledger_order(
        &self,
        order: &super::intake::OrderRecord,
    ) -> Result<(), StoreError> {
        self.ledger_append(&Event::OrderReceived(OrderReceived {
            order_id: order.order_id.clone(),
            at: order.received_at,
            acknowledged_at: order.received_at,
            issuing_state: order.order.section_a.issuing_member_state.clone(),
            items: order.case_ids.len() as u32,
        }))
        .await
    }

    /// An Annex III suspension of an order's item, inside the suspension's transition.
    pub(crate) fn ledger_not_executed(
        &self,
        ops: &mut Ops,
        case: &Case,
        at: time::OffsetDateTime,
        ground: &str,
    ) -> Result<(), StoreError> {
        if source_kind(case) != SourceKind::RemovalOrder {
            return Ok(());
        }
        let e = Event::OrderNotExecuted(OrderNotExecuted {
            case_id: case.id.clone(),
            at,
            ground: ground.to_string(),
        });
        self.ledger_op(ops, &e)
    }
}
