//! Who may do what in the web UI (the role sets every handler checks) and what the layout shows
//! of the signed-in user. Shared by the moderator's and the supervisors' pages, so neither
//! imports the other.

use super::auth::Session;
use super::state::AppState;
use takedown_review::model::Role;

/// Roles that may read the queue and cases.
pub(crate) const READERS: &[Role] = &[
    Role::Moderator,
    Role::SeniorModerator,
    Role::Legal,
    Role::Auditor,
];
/// Roles that may claim and decide.
pub(crate) const DECIDERS: &[Role] = &[Role::Moderator, Role::SeniorModerator];
/// Roles that see the SLA dashboard.
pub(crate) const SUPERVISORS: &[Role] = &[Role::SeniorModerator, Role::Legal, Role::Auditor];
/// Roles that browse the audit log.
pub(crate) const AUDITORS: &[Role] = &[Role::Auditor, Role::Legal];
/// Roles that see the reports page (figures, downloads, the statements outbox).
pub(crate) const REPORTERS: &[Role] = &[Role::Legal, Role::Auditor];
/// Roles that may act on the statements outbox (queue a refused statement again).
pub(crate) const LEGAL: &[Role] = &[Role::Legal];
/// Roles that curate list entries.
pub(crate) const CURATORS: &[Role] = &[Role::SeniorModerator];

/// What the layout shows of the user.
pub(crate) struct Chrome {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub supervise: bool,
    pub audit: bool,
    pub lists: bool,
    pub admin: bool,
    pub reports: bool,
    /// The complaints and QA pages (whoever reads the queue).
    pub workflow: bool,
}

impl Chrome {
    pub fn of(s: &Session, state: &AppState) -> Self {
        Chrome {
            name: s.name.clone(),
            role: s.role_name(),
            csrf: s.csrf.clone(),
            supervise: s.can(SUPERVISORS),
            audit: s.can(AUDITORS),
            lists: state.cfg.lists.is_some() && s.can(CURATORS),
            admin: s.can(&[]),
            reports: state.cfg.reports.is_some() && s.can(REPORTERS),
            workflow: s.can(READERS),
        }
    }
}
