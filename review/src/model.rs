//! The review domain: cases, where they come from, how urgent they are, and the decisions
//! moderators take on them.
//!
//! These are plain values (no I/O) so the rules about them (which decision needs which
//! grounds, which source outranks which, what a takedown action says) are tested directly;
//! the store persists them as JSON.

use crate::sla::{Embargo, Preservation, SlaClass, SlaTimer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;

/// Hex of the first 128 bits of SHA-256 over length-prefixed parts: ids derived from
/// content, so redelivered input maps to the same case or action.
pub fn derive_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("{prefix}-{}", hex::encode(&h.finalize()[..16]))
}

/// What the case is about on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The platform (tenant).
    pub platform: String,
    /// The post, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    /// The media item, when the case is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// The URL named by an order or notice, or the post's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The content's language (a BCP 47 tag), when intake knows it: routing rules read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Where a case came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Source {
    /// One or more hash-list matches (kept in the case's match list).
    HashMatch,
    /// A TCO removal order, one case per URL.
    RemovalOrder {
        /// Our id of the stored order.
        order_id: String,
        /// The authority's reference number.
        reference: String,
        /// The issuing Member State.
        issuing_state: String,
        /// Whether the issuer is not the Member State of establishment (Art. 4).
        cross_border: bool,
    },
    /// A DSA Art. 16 notice.
    Notice {
        /// Our id of the notice.
        notice_id: String,
        /// Whether the notice was handled as an Art. 22 trusted flagger's: the registry
        /// entry it came from was active at receipt.
        trusted_flagger: bool,
        /// The registry entry the notice came from, active or suspended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flagger_id: Option<String>,
    },
    /// An Australian removal notice (Online Safety Act 2021 s109/s110), one case per URL.
    AuRemovalNotice {
        /// The eSafety Commissioner's reference.
        reference: String,
        /// Our id of the stored notice.
        #[serde(default)]
        notice_id: String,
        /// The section it was given under.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section: Option<crate::au_notice::AuSection>,
    },
    /// A complaint against our decision on another case.
    Complaint {
        /// The complaint's id.
        complaint_id: String,
        /// The case whose decision is contested.
        against_case: String,
    },
}

/// A hash-list match attached to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRecord {
    /// The deterministic match id.
    pub match_id: String,
    /// The list.
    pub list_id: String,
    /// The entry key.
    pub entry: String,
    /// Labels.
    pub labels: Vec<String>,
    /// The list's severity.
    pub severity: String,
    /// Hamming distance.
    pub distance: u32,
    /// The post media's hash.
    pub query_hash: String,
    /// The entry's hash.
    pub list_hash: String,
    /// When matched.
    #[serde(with = "time::serde::rfc3339")]
    pub matched_at: OffsetDateTime,
    /// A video match's percentages and matched stretches (absent for other matches and for
    /// records stored before videos were matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<takedown_core::messages::VideoMatchInfo>,
}

/// The lifecycle of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Waiting in a queue or claimed by a moderator.
    Open,
    /// Annex III sent; the clock is suspended until clarified.
    Suspended,
    /// Decided; actions follow.
    Decided,
    /// Preservation over; evidence deleted.
    Purged,
}

impl CaseState {
    /// The name stored in Redis.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Suspended => "suspended",
            CaseState::Decided => "decided",
            CaseState::Purged => "purged",
        }
    }
}

/// Queue rank: lower goes first. Within a rank, the older case goes first.
pub fn rank(class: SlaClass, severity: Option<&str>, threat_to_life: bool) -> u8 {
    if threat_to_life {
        return 0;
    }
    match class {
        SlaClass::RemovalOrder => 0,
        SlaClass::AuRemovalNotice => 1,
        SlaClass::TrustedNotice => 2,
        SlaClass::HashMatch => match severity.unwrap_or("medium") {
            "critical" => 3,
            "high" => 4,
            "medium" => 5,
            _ => 6,
        },
        SlaClass::NetzdgManifest => 7,
        SlaClass::Notice | SlaClass::NetzdgOther => 8,
        SlaClass::Complaint => 9,
    }
}

/// The sorted-set score of a case: rank first, then receipt time in milliseconds (exact in
/// an f64 up to rank 899 for any date before the year 2286).
pub fn queue_score(rank: u8, received_at: OffsetDateTime) -> f64 {
    let ms = (received_at.unix_timestamp_nanos() / 1_000_000).max(0) as f64;
    rank as f64 * 1e13 + ms
}

/// A case: one item to review under one clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Content-derived id (`m-…` match, `o-…` order, `n-…` notice, `c-…` complaint).
    pub id: String,
    /// What it is about.
    pub subject: Subject,
    /// Where it came from (several sources may join one case).
    pub sources: Vec<Source>,
    /// Lifecycle state.
    pub state: CaseState,
    /// Queue rank (see [`rank`]).
    pub rank: u8,
    /// Needs a senior moderator (escalated).
    #[serde(default)]
    pub senior_only: bool,
    /// Threat to life recorded (Art. 14(5)).
    #[serde(default)]
    pub threat_to_life: bool,
    /// The legal clock.
    pub sla: SlaTimer,
    /// Embargo on informing the content provider (Art. 11(3)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo: Option<Embargo>,
    /// The decision, once taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRecord>,
    /// Earlier decisions replaced by a later one (complaints, escalations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<DecisionRecord>,
    /// Preservation of removed content (Art. 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preservation: Option<Preservation>,
    /// Legal holds on a case whose content was not removed (nothing is preserved): they keep
    /// its evidence past the retention period while they run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_holds: Vec<crate::sla::LegalHold>,
    /// When the case was created in our system.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a moderator first claimed it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub first_claimed_at: Option<OffsetDateTime>,
}

impl Case {
    /// The hash-match class's severity-aware rank, or the class rank.
    pub fn recompute_rank(&mut self, severity: Option<&str>) {
        self.rank = rank(self.sla.class, severity, self.threat_to_life);
    }
}

/// The five Art. 2(7) types of terrorist content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ground {
    /// (a) incites terrorist offences, including glorification.
    #[serde(rename = "art2_7_a")]
    Incitement,
    /// (b) solicits committing or contributing to terrorist offences.
    #[serde(rename = "art2_7_b")]
    SolicitsOffence,
    /// (c) solicits participation in a terrorist group's activities.
    #[serde(rename = "art2_7_c")]
    SolicitsParticipation,
    /// (d) instructs on explosives, weapons, hazardous substances or methods.
    #[serde(rename = "art2_7_d")]
    Instruction,
    /// (e) threatens to commit a terrorist offence.
    #[serde(rename = "art2_7_e")]
    Threat,
}

/// Art. 1(3): purposes for which material is not terrorist content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeExemption {
    /// Educational.
    Educational,
    /// Journalistic.
    Journalistic,
    /// Artistic.
    Artistic,
    /// Research.
    Research,
    /// Preventing or countering terrorism.
    CounteringTerrorism,
}

/// What a moderator decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Remove the content everywhere.
    Remove,
    /// Disable access in some territories (ISO 3166-1 alpha-2 codes, or `EU`).
    Disable {
        /// Where.
        territories: Vec<String>,
    },
    /// Reinstate (after a complaint or a fallen order).
    Restore,
    /// Not terrorist content, optionally under a purpose exemption.
    NotTerroristContent {
        /// The Art. 1(3) purpose, if that is why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exemption: Option<PurposeExemption>,
    },
    /// Hand to a senior moderator.
    Escalate,
    /// Threat to life: a P0 record for the authorities (Art. 14(5)); the case goes to the top
    /// of the senior queue for the content decision.
    ThreatToLife,
}

impl Outcome {
    /// The takedown action this outcome produces, if any.
    pub fn action_kind(&self) -> Option<ActionKind> {
        match self {
            Outcome::Remove => Some(ActionKind::Remove),
            Outcome::Disable { .. } => Some(ActionKind::Disable),
            Outcome::Restore => Some(ActionKind::Restore),
            _ => None,
        }
    }

    /// Whether the outcome closes the case.
    pub fn is_final(&self) -> bool {
        !matches!(self, Outcome::Escalate | Outcome::ThreatToLife)
    }
}

/// A decision as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionInput {
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Art. 2(7) grounds.
    #[serde(default)]
    pub grounds: Vec<Ground>,
    /// Terms-of-service clauses relied on.
    #[serde(default)]
    pub tos_clauses: Vec<String>,
    /// The explanation (required for "not terrorist content", restore, escalate and threat to
    /// life; used in statements of reasons).
    #[serde(default)]
    pub justification: String,
}

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// A required field is missing or invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl DecisionInput {
    /// Checks the rules each outcome carries.
    pub fn validate(&self, case: &Case) -> Result<(), DecisionError> {
        let invalid = |field, reason| Err(DecisionError::Invalid { field, reason });
        match &self.outcome {
            Outcome::Remove | Outcome::Disable { .. } => {
                if self.grounds.is_empty() && self.tos_clauses.is_empty() {
                    return invalid(
                        "grounds",
                        "removal or disabling needs an Art. 2(7) ground or a terms-of-service clause",
                    );
                }
            }
            Outcome::Restore | Outcome::NotTerroristContent { .. } | Outcome::Escalate => {
                if self.justification.trim().is_empty() {
                    return invalid("justification", "required for this outcome");
                }
            }
            Outcome::ThreatToLife => {
                if self.justification.trim().is_empty() {
                    return invalid("justification", "describe the threat for the authorities");
                }
            }
        }
        if let Outcome::Disable { territories } = &self.outcome {
            if territories.is_empty() {
                return invalid("territories", "disabling needs at least one territory");
            }
            if territories
                .iter()
                .any(|t| t != "EU" && !crate::field::is_country_code(t))
            {
                return invalid(
                    "territories",
                    "use ISO 3166-1 alpha-2 codes (GR, not EL) or EU",
                );
            }
        }
        if self.tos_clauses.iter().any(|c| c.trim().is_empty()) {
            return invalid("tos_clauses", "empty clause");
        }
        if self.justification.chars().count() > 5000 {
            return invalid("justification", "at most 5000 characters");
        }
        if matches!(self.outcome, Outcome::Restore) && case.decision.is_none() {
            let complaint = case
                .sources
                .iter()
                .any(|s| matches!(s, Source::Complaint { .. }));
            if !complaint {
                return invalid(
                    "outcome",
                    "restore applies to a complaint or a previously removed case",
                );
            }
        }
        Ok(())
    }
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// What was decided.
    #[serde(flatten)]
    pub input: DecisionInput,
    /// Who decided (account name).
    pub decided_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    /// Whether the deadline was met.
    pub in_time: bool,
    /// The takedown action produced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// Whether the decision was automated (always false for human review).
    pub automated: bool,
}

/// A takedown action kind on the `takedowns` topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Remove everywhere.
    Remove,
    /// Disable access in the listed territories.
    Disable,
    /// Reinstate.
    Restore,
    /// Delete preserved content at the end of preservation.
    Purge,
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionKind::Remove => "remove",
            ActionKind::Disable => "disable",
            ActionKind::Restore => "restore",
            ActionKind::Purge => "purge",
        })
    }
}

/// A message on the `takedowns` topic: what the platform must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakedownAction {
    /// Schema version.
    pub schema: u32,
    /// Idempotent id: derived from the case, its decision count and the kind; a republished
    /// action carries the same id.
    pub action_id: String,
    /// The case.
    pub case_id: String,
    /// What to do.
    pub kind: ActionKind,
    /// On what.
    pub subject: Subject,
    /// Where (empty = everywhere).
    #[serde(default)]
    pub territories: Vec<String>,
    /// Art. 2(7) grounds.
    #[serde(default)]
    pub grounds: Vec<Ground>,
    /// Terms-of-service clauses.
    #[serde(default)]
    pub tos_clauses: Vec<String>,
    /// The removal order, if the action executes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Until when the content provider must not be told (Art. 11(3)).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub do_not_inform_until: Option<OffsetDateTime>,
    /// Whether detection and decision were automated (DSA Art. 17(3)(c)).
    pub automated_decision: bool,
    /// When the decision was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// The roles of API tokens and accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Claims and decides cases.
    Moderator,
    /// Also decides escalated cases, extends embargoes.
    SeniorModerator,
    /// Removal orders, Annex II/III replies, legal holds, complaints.
    Legal,
    /// Everything, including tokens.
    Admin,
    /// Reads cases and the audit trail; changes nothing.
    Auditor,
    /// A competent authority: submits removal orders and reads their status.
    AuthorityClient,
    /// A registered DSA Art. 22 trusted flagger's API account: submits notices and reads its
    /// own (the registry binds the account to its entry).
    TrustedFlagger,
    /// The platform's own integration: pushes the media of cases (API only).
    Platform,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::Moderator,
        Role::SeniorModerator,
        Role::Legal,
        Role::Admin,
        Role::Auditor,
        Role::AuthorityClient,
        Role::TrustedFlagger,
        Role::Platform,
    ];
}

impl std::str::FromStr for Role {
    type Err = String;

    /// Parses the snake_case name (`senior_moderator`).
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            format!(
                "unknown role {s:?}: one of moderator, senior_moderator, legal, admin, auditor, \
                 authority_client, trusted_flagger, platform"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::SlaConfig;
    use time::macros::datetime;

    fn case(class: SlaClass, sources: Vec<Source>) -> Case {
        let at = datetime!(2026-05-01 00:00 UTC);
        Case {
            id: "c".into(),
            subject: Subject {
                platform: "web".into(),
                post_id: Some("p".into()),
                media_id: None,
                url: None,
                language: None,
            },
            sources,
            state: CaseState::Open,
            rank: rank(class, None, false),
            senior_only: false,
            threat_to_life: false,
            sla: SlaConfig::default().start(class, at).unwrap(),
            embargo: None,
            decision: None,
            history: vec![],
            preservation: None,
            evidence_holds: Vec::new(),
            created_at: at,
            first_claimed_at: None,
        }
    }

    #[test]
    fn removal_orders_and_threats_outrank_everything_then_age() {
        let at = datetime!(2026-05-01 00:00 UTC);
        let order = queue_score(rank(SlaClass::RemovalOrder, None, false), at);
        let threat = queue_score(rank(SlaClass::HashMatch, Some("low"), true), at);
        let trusted = queue_score(rank(SlaClass::TrustedNotice, None, false), at);
        let critical = queue_score(rank(SlaClass::HashMatch, Some("critical"), false), at);
        let low = queue_score(rank(SlaClass::HashMatch, Some("low"), false), at);
        let notice = queue_score(rank(SlaClass::Notice, None, false), at);
        let old_order = queue_score(0, at - time::Duration::days(300));
        let new_order = queue_score(0, at + time::Duration::days(3000));
        assert!(old_order < order && order < new_order);
        assert_eq!(order, threat);
        assert!(new_order < trusted && trusted < critical && critical < low && low < notice);
    }

    #[test]
    fn decisions_need_their_grounds_and_justifications() {
        let c = case(SlaClass::HashMatch, vec![Source::HashMatch]);
        let d = |outcome, grounds: Vec<Ground>, j: &str| DecisionInput {
            outcome,
            grounds,
            tos_clauses: vec![],
            justification: j.into(),
        };
        let field = |r: Result<(), DecisionError>| match r {
            Err(DecisionError::Invalid { field, .. }) => field,
            Ok(()) => "ok",
        };
        assert_eq!(
            field(d(Outcome::Remove, vec![], "").validate(&c)),
            "grounds"
        );
        assert_eq!(
            field(d(Outcome::Remove, vec![Ground::Incitement], "").validate(&c)),
            "ok"
        );
        let nt = Outcome::NotTerroristContent {
            exemption: Some(PurposeExemption::Journalistic),
        };
        assert_eq!(
            field(d(nt.clone(), vec![], " ").validate(&c)),
            "justification"
        );
        assert_eq!(field(d(nt, vec![], "news report").validate(&c)), "ok");
        let disable = |t: &[&str]| Outcome::Disable {
            territories: t.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            field(d(disable(&[]), vec![Ground::Threat], "").validate(&c)),
            "territories"
        );
        assert_eq!(
            field(d(disable(&["de"]), vec![Ground::Threat], "").validate(&c)),
            "territories"
        );
        assert_eq!(
            field(d(disable(&["DE", "GR"]), vec![Ground::Threat], "").validate(&c)),
            "ok"
        );
        assert_eq!(
            field(d(Outcome::Restore, vec![], "x").validate(&c)),
            "outcome"
        );
        // The limit counts characters: 5,000 two-byte "é" pass, one more does not.
        let long = "é".repeat(5000);
        assert_eq!(
            field(d(Outcome::Remove, vec![Ground::Threat], &long).validate(&c)),
            "ok"
        );
        let longer = "é".repeat(5001);
        assert_eq!(
            field(d(Outcome::Remove, vec![Ground::Threat], &longer).validate(&c)),
            "justification"
        );
        let complaint = case(
            SlaClass::Complaint,
            vec![Source::Complaint {
                complaint_id: "k".into(),
                against_case: "c".into(),
            }],
        );
        assert_eq!(
            field(d(Outcome::Restore, vec![], "was satire").validate(&complaint)),
            "ok"
        );
    }

    #[test]
    fn decision_input_json_is_flat_and_strict() {
        let json = r#"{"outcome":"disable","territories":["DE"],"grounds":["art2_7_a","art2_7_e"],"tos_clauses":["4.2"]}"#;
        let input: DecisionInput = serde_json::from_str(json).unwrap();
        assert_eq!(
            input.outcome,
            Outcome::Disable {
                territories: vec!["DE".into()]
            }
        );
        assert_eq!(input.grounds, vec![Ground::Incitement, Ground::Threat]);
        let round = serde_json::to_string(&input).unwrap();
        assert_eq!(
            serde_json::from_str::<DecisionInput>(&round).unwrap(),
            input
        );
    }

    #[test]
    fn roles_parse_by_their_api_names() {
        for role in Role::ALL {
            let name = serde_json::to_value(role).unwrap();
            assert_eq!(name.as_str().unwrap().parse::<Role>(), Ok(role));
        }
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .contains("senior_moderator")
        );
    }

    #[test]
    fn takedown_action_json_is_what_docs_messages_md_documents() {
        use std::collections::BTreeSet;
        let doc = include_str!("../../docs/messages.md");
        let section = doc
            .split("## `takedowns`")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("a takedowns section in docs/messages.md");
        let documented: BTreeSet<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        let example = section
            .split("```json")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("an example");
        let action: TakedownAction = serde_json::from_str(example).unwrap();
        let json = serde_json::to_value(&action).unwrap();
        let fields: BTreeSet<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(fields, documented, "every field documented, nothing else");
        assert_eq!(
            json,
            serde_json::from_str::<serde_json::Value>(example).unwrap(),
            "the example is exactly what the publisher produces"
        );
        let subject_row = section
            .lines()
            .find(|l| l.starts_with("| `subject`"))
            .unwrap();
        for field in json["subject"].as_object().unwrap().keys() {
            assert!(subject_row.contains(&format!("`{field}`")), "{field}");
        }
        // Without an order and an embargo: no order_id, do_not_inform_until null.
        let plain = TakedownAction {
            order_id: None,
            do_not_inform_until: None,
            ..action
        };
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("order_id").is_none());
        assert!(json["do_not_inform_until"].is_null());
        assert_eq!(json["schema"], 1);
    }

    #[test]
    fn derived_ids_are_stable_and_unambiguous() {
        assert_eq!(derive_id("m", &["a", "b"]), derive_id("m", &["a", "b"]));
        assert_ne!(derive_id("m", &["ab", ""]), derive_id("m", &["a", "b"]));
        assert!(derive_id("o", &["x"]).starts_with("o-"));
    }
}
