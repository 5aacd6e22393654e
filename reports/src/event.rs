//! The events a report counts, as the ledger stores them.
//!
//! They exist because cases are purged at the end of preservation while transparency reports
//! must stay exact for years: each event keeps the facts a figure needs (times, source,
//! labels, restriction, grounds, automated means) and nothing personal (no user names,
//! moderator names, post text, URLs or IP addresses; the case id is an internal hash).
//! Mappings that the law leaves open (category, content type, source type) are applied when a
//! report is made, so a corrected mapping corrects old periods too.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a case came from, as reports distinguish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Hash-list or text-rule match: the provider's own initiative.
    HashMatch,
    /// A TCO removal order (an order to act under DSA Art. 9).
    RemovalOrder,
    /// A DSA Art. 16 notice.
    Notice,
    /// An Art. 16 notice from an Art. 22 trusted flagger.
    TrustedNotice,
    /// A referral that is not an EU order (e.g. an Australian removal notice).
    OtherNotification,
    /// An internal complaint (DSA Art. 20, TCO Art. 10).
    Complaint,
}

/// A final decision's effect on the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Removed everywhere.
    Removed,
    /// Access disabled in some territories.
    Disabled,
    /// Reinstated.
    Restored,
    /// No violation found; nothing restricted.
    NoAction,
}

impl Effect {
    /// Whether the effect restricts the content.
    pub fn restricts(self) -> bool {
        matches!(self, Effect::Removed | Effect::Disabled)
    }
}

/// A case was opened (notices, orders' URLs, complaints, matches).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpened {
    /// The case.
    pub case_id: String,
    /// When the item was received (the legal clock's start).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where it came from.
    pub source: SourceKind,
    /// List or notice labels (mapped to DSA categories when reporting).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Signal types that matched (`pdq`, `md5`, `sha256`, `text_regex`, …).
    #[serde(default)]
    pub signals: Vec<String>,
    /// Whether a media item (rather than only a URL) is concerned.
    #[serde(default)]
    pub media: bool,
    /// For a complaint: the effect of the contested decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contested: Option<Effect>,
    /// For a complaint: the source of the contested case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contested_source: Option<SourceKind>,
}

/// A removal order was received (and, through the API's synchronous answer, acknowledged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReceived {
    /// Our id of the order.
    pub order_id: String,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// When the authority was informed of receipt: the API's `201` answer, so `at`.
    #[serde(with = "time::serde::rfc3339")]
    pub acknowledged_at: OffsetDateTime,
    /// The issuing Member State (ISO code, `GR` for Greece).
    pub issuing_state: String,
    /// Items (URLs) in the order.
    pub items: u32,
}

/// An order's item could not be executed in time (TCO Art. 3(7)/(8), Annex III).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNotExecuted {
    /// The case (one URL of the order).
    pub case_id: String,
    /// When the Annex III suspension was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The Annex III ground (`force_majeure`, `technical_impossibility`, `manifest_error`,
    /// `insufficient_information`, or the reason recorded).
    pub ground: String,
}

/// A final decision on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The case.
    pub case_id: String,
    /// How many decisions the case had before this one (0 for the first).
    pub seq: u32,
    /// When decided.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// When the case's item was received.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The legal deadline, if the case had one.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// Whether the deadline was met.
    pub in_time: bool,
    /// Where the case came from (the first source).
    pub source: SourceKind,
    /// The issuing Member State, for removal orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_state: Option<String>,
    /// The effect.
    pub effect: Effect,
    /// Territories of a disabling (ISO codes or `EU`).
    #[serde(default)]
    pub territories: Vec<String>,
    /// TCO Art. 2(7) grounds (`art2_7_a` … `art2_7_e`): a decision on the basis of the law.
    #[serde(default)]
    pub legal_grounds: Vec<String>,
    /// Whether terms-of-service clauses were relied on.
    #[serde(default)]
    pub tos: bool,
    /// List or notice labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Signal types that matched (the automated systems that detected it).
    #[serde(default)]
    pub signals: Vec<String>,
    /// Whether a media item is concerned.
    #[serde(default)]
    pub media: bool,
    /// Whether the decision itself was automated.
    #[serde(default)]
    pub automated_decision: bool,
    /// For a complaint: the effect of the contested decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contested: Option<Effect>,
    /// For a complaint: the source of the contested case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contested_source: Option<SourceKind>,
}

impl Decision {
    /// The puid of this decision's statement of reasons: unique per decision, stable across
    /// resends, only `[A-Za-z0-9_-]`.
    pub fn puid(&self) -> String {
        format!("td_{}_{}", self.case_id, self.seq)
    }

    /// Whether automated means detected the content.
    pub fn automated_detection(&self) -> bool {
        !self.signals.is_empty()
    }
}

/// One ledger event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A case was opened.
    CaseOpened(CaseOpened),
    /// A removal order was received.
    OrderReceived(OrderReceived),
    /// An order item was not executed (Annex III).
    OrderNotExecuted(OrderNotExecuted),
    /// A final decision.
    Decision(Decision),
}

impl Event {
    /// The idempotency key: a resent event has the same key, and the ledger counts it once.
    pub fn key(&self) -> String {
        match self {
            Event::CaseOpened(e) => format!("opened:{}", e.case_id),
            Event::OrderReceived(e) => format!("order:{}", e.order_id),
            Event::OrderNotExecuted(e) => {
                format!("not_executed:{}:{}", e.case_id, e.at.unix_timestamp())
            }
            Event::Decision(e) => format!("decision:{}:{}", e.case_id, e.seq),
        }
    }

    /// When it happened (the month file it belongs to).
    pub fn at(&self) -> OffsetDateTime {
        match self {
            Event::CaseOpened(e) => e.at,
            Event::OrderReceived(e) => e.at,
            Event::OrderNotExecuted(e) => e.at,
            Event::Decision(e) => e.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_are_stable_and_json_is_tagged() {
        let e = Event::OrderReceived(OrderReceived {
            order_id: "ro-1".into(),
            at: datetime!(2026-03-01 10:00 UTC),
            acknowledged_at: datetime!(2026-03-01 10:00 UTC),
            issuing_state: "DE".into(),
            items: 2,
        });
        assert_eq!(e.key(), "order:ro-1");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "order_received");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), e);
    }
}
