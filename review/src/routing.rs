//! Named queues and the rules that route each new case to one of them.
//!
//! Review tools route work by what it is (a removal order, a trusted flagger's notice, a
//! match on a given list or label) to the people trained and allowed to see it. This module
//! is the pure part: the queue definitions with the roles that may see each queue, the
//! ordered rules (first match wins, then the default queue), their validation and bounds.
//! The store keeps the current set versioned in Redis and records each case's queue when the
//! case is created (`store/queues.rs`).
//!
//! A queue decides who sees a case, never when it is due: the legal clock is started from
//! the source alone (`sla.rs`) before any rule is looked at, and the urgency order of the
//! queue page and of "claim next" is the same rank-then-age order whatever the queue.

use crate::model::{Case, MatchRecord, Role, Source};
use serde::{Deserialize, Serialize};

/// The queue every complaint goes to, whatever the rules say (TCO Art. 10, DSA Art. 20):
/// complaints are decided apart from first decisions.
pub const COMPLAINTS: &str = "complaints";
/// The queue of QA second reviews: its roles decide who may do them.
pub const QA: &str = "qa";
/// The default queue of the built-in configuration.
pub const GENERAL: &str = "general";
/// At most this many queues.
pub const MAX_QUEUES: usize = 32;
/// At most this many rules (each case creation evaluates them in order).
pub const MAX_RULES: usize = 200;
/// At most this many characters in a condition's value.
const MAX_VALUE: usize = 200;
/// The QA share of a queue unless configured.
pub const DEFAULT_QA_PERCENT: f64 = 5.0;

/// The source names rules and filters use.
pub const SOURCES: [&str; 6] = [
    "hash_match",
    "removal_order",
    "trusted_notice",
    "notice",
    "au_removal_notice",
    "complaint",
];

/// The roles a queue may be opened to (admins see every queue).
pub const QUEUE_ROLES: [Role; 4] = [
    Role::Moderator,
    Role::SeniorModerator,
    Role::Legal,
    Role::Auditor,
];

/// A named queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueDef {
    /// Its name: lower-case letters, digits, `-` and `_`, at most 40 characters.
    pub name: String,
    /// What the UI shows.
    pub title: String,
    /// The roles that see its cases (besides admins).
    pub roles: Vec<Role>,
    /// The share of its final decisions sent to a QA second review, in percent.
    #[serde(default = "default_qa")]
    pub qa_percent: f64,
}

fn default_qa() -> f64 {
    DEFAULT_QA_PERCENT
}

/// What a rule looks at; an absent condition matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The case's source (one of [`SOURCES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A list one of its matches is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// A label one of its matches carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The most severe of its matches' severities (`critical`, `high`, `medium`, `low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The jurisdiction its source names (an order's issuing Member State, `AU`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// The content's language (BCP 47 primary subtag, `de` matches `de-AT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// One routing rule: cases meeting every condition go to `queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The conditions.
    #[serde(default)]
    pub when: Conditions,
    /// The queue's name.
    pub queue: String,
}

/// The queues and rules in force, with their version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Increased by one with every change (0: the built-in configuration, never saved).
    #[serde(default)]
    pub version: u64,
    /// The queues.
    pub queues: Vec<QueueDef>,
    /// The rules, evaluated in order.
    pub rules: Vec<Rule>,
    /// Where a case goes that no rule matches.
    pub default_queue: String,
}

/// What the rules look at, taken from a new case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteInput {
    /// The source name (one of [`SOURCES`]).
    pub source: &'static str,
    /// Lists of its matches.
    pub lists: Vec<String>,
    /// Labels of its matches.
    pub labels: Vec<String>,
    /// The most severe severity of its matches.
    pub severity: Option<String>,
    /// The jurisdiction its source names.
    pub jurisdiction: Option<String>,
    /// The content's language, when intake knows it.
    pub language: Option<String>,
}

/// Where a case went, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The queue's name.
    pub queue: String,
    /// The rule that matched (index from 0), `None` for a complaint or the default.
    pub rule: Option<usize>,
}

/// Why a configuration is refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct RoutingError {
    /// The field (`queues[2].name`, `rules[0].queue`).
    pub field: String,
    /// Why.
    pub reason: String,
}

fn refuse(field: impl Into<String>, reason: impl Into<String>) -> Result<(), RoutingError> {
    Err(RoutingError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// The source name of a case: its first source's kind.
pub fn source_name(case: &Case) -> &'static str {
    match case.sources.first() {
        Some(Source::HashMatch) | None => "hash_match",
        Some(Source::RemovalOrder { .. }) => "removal_order",
        Some(Source::Notice {
            trusted_flagger: true,
            ..
        }) => "trusted_notice",
        Some(Source::Notice { .. }) => "notice",
        Some(Source::AuRemovalNotice { .. }) => "au_removal_notice",
        Some(Source::Complaint { .. }) => "complaint",
    }
}

/// The rank of a severity: lower is more severe (unknown names after `low`).
fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

impl RouteInput {
    /// What the rules see of `case` with its `matches`.
    pub fn of(case: &Case, matches: &[MatchRecord]) -> RouteInput {
        let mut input = RouteInput {
            source: source_name(case),
            language: case.subject.language.clone(),
            jurisdiction: case.sources.iter().find_map(|s| match s {
                Source::RemovalOrder { issuing_state, .. } => Some(issuing_state.clone()),
                Source::AuRemovalNotice { .. } => Some("AU".into()),
                _ => None,
            }),
            ..RouteInput::default()
        };
        for m in matches {
            if !input.lists.contains(&m.list_id) {
                input.lists.push(m.list_id.clone());
            }
            for l in &m.labels {
                if !input.labels.contains(l) {
                    input.labels.push(l.clone());
                }
            }
            let more = match &input.severity {
                None => true,
                Some(s) => severity_rank(&m.severity) < severity_rank(s),
            };
            if more {
                input.severity = Some(m.severity.clone());
            }
        }
        input
    }
}

impl Conditions {
    /// Whether every condition holds for `input`.
    pub fn matches(&self, input: &RouteInput) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have == Some(w.as_str()),
        };
        let any = |want: &Option<String>, have: &[String]| match want {
            None => true,
            Some(w) => have.contains(w),
        };
        let language = match (&self.language, &input.language) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(w), Some(h)) => {
                let primary = h.split(['-', '_']).next().unwrap_or_default();
                primary.eq_ignore_ascii_case(w) || h.eq_ignore_ascii_case(w)
            }
        };
        eq(&self.source, Some(input.source))
            && any(&self.list, &input.lists)
            && any(&self.label, &input.labels)
            && eq(&self.severity, input.severity.as_deref())
            && eq(&self.jurisdiction, input.jurisdiction.as_deref())
            && language
    }

    /// Whether no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == Conditions::default()
    }

    fn values(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("source", &self.source),
            ("list", &self.list),
            ("label", &self.label),
            ("severity", &self.severity),
            ("jurisdiction", &self.jurisdiction),
            ("language", &self.language),
        ]
    }
}

impl Default for RoutingConfig {
    /// The built-in configuration: a general queue for everyone who reviews, the complaints
    /// queue for senior moderators and legal, the QA queue for moderators and seniors; no
    /// rules.
    fn default() -> Self {
        let queue = |name: &str, title: &str, roles: &[Role]| QueueDef {
            name: name.into(),
            title: title.into(),
            roles: roles.to_vec(),
            qa_percent: DEFAULT_QA_PERCENT,
        };
        RoutingConfig {
            version: 0,
            queues: vec![
                queue(GENERAL, "General", &QUEUE_ROLES),
                queue(
                    COMPLAINTS,
                    "Complaints",
                    &[Role::SeniorModerator, Role::Legal, Role::Auditor],
                ),
                queue(
                    QA,
                    "QA second review",
                    &[Role::Moderator, Role::SeniorModerator],
                ),
            ],
            rules: vec![],
            default_queue: GENERAL.into(),
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl RoutingConfig {
    /// The queue named `name`.
    pub fn queue(&self, name: &str) -> Option<&QueueDef> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The queue a case recorded as `name` counts in now: itself, or the default queue if it
    /// was deleted since (or the case predates routing).
    pub fn effective<'a>(&'a self, name: Option<&str>) -> &'a str {
        name.and_then(|n| self.queue(n))
            .map_or(self.default_queue.as_str(), |q| q.name.as_str())
    }

    /// Where a new case goes: complaints to [`COMPLAINTS`], otherwise the first rule whose
    /// conditions hold, otherwise the default queue.
    pub fn route(&self, input: &RouteInput) -> Routed {
        if input.source == "complaint" {
            return Routed {
                queue: COMPLAINTS.into(),
                rule: None,
            };
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.when.matches(input) {
                return Routed {
                    queue: rule.queue.clone(),
                    rule: Some(i),
                };
            }
        }
        Routed {
            queue: self.default_queue.clone(),
            rule: None,
        }
    }

    /// Whether `role` sees the cases of queue `name` (as [`Self::effective`] resolves it).
    pub fn may_see(&self, name: Option<&str>, role: Role) -> bool {
        if role == Role::Admin {
            return true;
        }
        self.queue(self.effective(name))
            .is_some_and(|q| q.roles.contains(&role))
    }

    /// The queues `role` sees.
    pub fn visible(&self, role: Role) -> Vec<&QueueDef> {
        self.queues
            .iter()
            .filter(|q| role == Role::Admin || q.roles.contains(&role))
            .collect()
    }

    /// Whether `role` sees every queue (then nothing needs hiding from it).
    pub fn sees_all(&self, role: Role) -> bool {
        self.visible(role).len() == self.queues.len()
    }

    /// The QA share of queue `name`, as a fraction from 0 to 1.
    pub fn qa_share(&self, name: Option<&str>) -> f64 {
        self.queue(self.effective(name))
            .map_or(DEFAULT_QA_PERCENT, |q| q.qa_percent)
            / 100.0
    }

    /// Checks names, references, roles, shares and bounds; the error names the field.
    pub fn validate(&self) -> Result<(), RoutingError> {
        if self.queues.len() > MAX_QUEUES {
            return refuse("queues", format!("at most {MAX_QUEUES} queues"));
        }
        if self.rules.len() > MAX_RULES {
            return refuse("rules", format!("at most {MAX_RULES} rules"));
        }
        for (i, q) in self.queues.iter().enumerate() {
            let f = |name: &str| format!("queues[{i}].{name}");
            if !is_name(&q.name) {
                return refuse(
                    f("name"),
                    "lower-case letters, digits, - and _, 1 to 40 characters",
                );
            }
            if self.queues[..i].iter().any(|o| o.name == q.name) {
                return refuse(f("name"), format!("{:?} is named twice", q.name));
            }
            let title = q.title.trim();
            if title.is_empty() || title.chars().count() > 80 {
                return refuse(f("title"), "1 to 80 characters");
            }
            if q.roles.is_empty() {
                return refuse(f("roles"), "at least one role");
            }
            if let Some(r) = q.roles.iter().find(|r| !QUEUE_ROLES.contains(r)) {
                return refuse(
                    f("roles"),
                    format!(
                        "{r:?} cannot be given a queue (moderator, senior_moderator, legal, auditor)"
                    ),
                );
            }
            if !(0.0..=100.0).contains(&q.qa_percent) {
                return refuse(f("qa_percent"), "from 0 to 100");
            }
        }
        for required in [COMPLAINTS, QA] {
            if self.queue(required).is_none() {
                return refuse(
                    "queues",
                    format!("the {required:?} queue cannot be removed"),
                );
            }
        }
        if self.queue(&self.default_queue).is_none() {
            return refuse("default_queue", "must name one of the queues");
        }
        if [COMPLAINTS, QA].contains(&self.default_queue.as_str()) {
            return refuse(
                "default_queue",
                "the complaints and QA queues cannot be the default",
            );
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let f = |name: &str| format!("rules[{i}].{name}");
            if self.queue(&rule.queue).is_none() {
                return refuse(f("queue"), format!("no queue named {:?}", rule.queue));
            }
            if [COMPLAINTS, QA].contains(&rule.queue.as_str()) {
                return refuse(
                    f("queue"),
                    "complaints go to their queue by themselves; QA takes no cases",
                );
            }
            for (name, value) in rule.when.values() {
                if let Some(v) = value {
                    if v.trim().is_empty() || v.trim() != v {
                        return refuse(f(&format!("when.{name}")), "empty or with spaces around");
                    }
                    if v.chars().count() > MAX_VALUE {
                        return refuse(
                            f(&format!("when.{name}")),
                            format!("at most {MAX_VALUE} characters"),
                        );
                    }
                }
            }
            if let Some(s) = &rule.when.source
                && !SOURCES.contains(&s.as_str())
            {
                return refuse(f("when.source"), format!("one of {}", SOURCES.join(", ")));
            }
            if rule.when.source.as_deref() == Some("complaint") {
                return refuse(f("when.source"), "complaints always go to their own queue");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
