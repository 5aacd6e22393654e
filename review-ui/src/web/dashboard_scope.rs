//! Which cases the SLA dashboard counts for its viewer: those of the queues the viewer's role
//! may see (as the queue page shows them), and of one queue when `?queue=` chooses it. So a
//! supervisor can watch one queue's deadlines, and each urgency bar's link, carrying the
//! queue, lands on exactly the cases the bar counted.
//!
//! Open cases are matched with the queue page's own [`Filter`]; decided cases (the audit
//! trail's decisions) by the queue each case was routed to, read for at most the decisions
//! the dashboard's scan of the audit trail found (itself bounded).

use super::auth::Session;
use super::snapshot::Filter;
use super::state::{AppState, WebError};
use std::collections::{HashMap, HashSet};
use takedown_review::model::Role;
use takedown_review::routing::RoutingConfig;
use takedown_review::store::ReviewStore;

/// The dashboard's scope: the viewer's access and the chosen queue.
pub(crate) struct Scope {
    /// The queue page's filter for the same cases: the chosen queue, every status, the
    /// viewer's access.
    pub filter: Filter,
    config: RoutingConfig,
    role: Role,
    /// The chosen queue, if any.
    queue: Option<String>,
}

impl Scope {
    /// The scope of `session` with the queue `chosen` (`None` or empty: every queue it may
    /// see). A queue the viewer may not see, or that does not exist, is "not found" alike.
    pub async fn of(
        state: &AppState,
        session: &Session,
        chosen: Option<&str>,
    ) -> Result<Scope, WebError> {
        let config = state.store.routing().await?;
        let queue = chosen.map(str::trim).filter(|q| !q.is_empty());
        if let Some(q) = queue
            && !config.visible(session.role).iter().any(|d| d.name == q)
        {
            return Err(WebError::NotFound(format!("no queue named {q:?}")));
        }
        let mut query = HashMap::from([("status".to_string(), "all".to_string())]);
        if let Some(q) = queue {
            query.insert("queue".into(), q.to_string());
        }
        let mut filter = Filter::from_query(&query);
        filter.access = super::queues::restricted(state, session).await?;
        Ok(Scope {
            filter,
            role: session.role,
            queue: queue.map(str::to_string),
            config,
        })
    }

    /// `&queue=…` for the links of the page (empty without a chosen queue).
    pub fn query(&self) -> String {
        match &self.queue {
            Some(q) => format!(
                "&queue={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ),
            None => String::new(),
        }
    }

    /// The queues the viewer may see, for the selector: (name, title, chosen).
    pub fn options(&self) -> Vec<(String, String, bool)> {
        self.config
            .visible(self.role)
            .into_iter()
            .map(|q| {
                let chosen = self.queue.as_deref() == Some(q.name.as_str());
                (q.name.clone(), q.title.clone(), chosen)
            })
            .collect()
    }

    /// The chosen queue's title (empty for every queue).
    pub fn title(&self) -> String {
        (self.queue.as_deref())
            .and_then(|q| self.config.queue(q))
            .map(|q| q.title.clone())
            .unwrap_or_default()
    }

    /// Whether a decided case routed to `route` counts: a queue the viewer may see, and the
    /// chosen one if any (by the name the queue filter compares).
    fn counts(&self, route: Option<&str>) -> bool {
        self.config.may_see(route, self.role)
            && self
                .queue
                .as_deref()
                .is_none_or(|q| route.unwrap_or(takedown_review::routing::GENERAL) == q)
    }

    /// Which of the decided `cases` count, or `None` when every one does (no queue chosen
    /// and a viewer who sees every queue): their routes read in pipelined chunks.
    pub async fn decided<'a>(
        &self,
        store: &ReviewStore,
        cases: impl Iterator<Item = &'a str>,
    ) -> Result<Option<HashSet<String>>, WebError> {
        if self.queue.is_none() && self.config.sees_all(self.role) {
            return Ok(None);
        }
        let ids: Vec<&str> = {
            let mut seen = HashSet::new();
            cases.filter(|c| seen.insert(*c)).collect()
        };
        let mut keep = HashSet::new();
        for chunk in ids.chunks(1000) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.hget(store.key(&format!("case:{id}")), "route");
            }
            let routes: Vec<Option<String>> = pipe.query_async(&mut store.connection()).await?;
            for (id, route) in chunk.iter().zip(routes) {
                if self.counts(route.as_deref()) {
                    keep.insert(id.to_string());
                }
            }
        }
        Ok(Some(keep))
    }
}
