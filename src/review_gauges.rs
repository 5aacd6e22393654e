//! Gauges of the review state on the review role's `/metrics`: legal deadlines coming due,
//! escalations and breaches as the sweeper fires them, the takedown-action outbox, and the
//! statements of reasons waiting for the EU Transparency Database
//! (`takedown_sor_outbox_pending`, as last counted by a submission run, the reports page or,
//! when the replica has the report directory, its own poll: see `takedown_reports::pending`
//! and `takedown_reports::pending_count`).
//!
//! The stage counters (`takedown_messages_*`) say nothing about the law's clocks, yet the
//! alerts that matter most are "a removal order is about to miss its hour", "one did" and
//! "takedowns are not reaching the platform". Each review replica reads them from Redis every
//! [`POLL`] (a bounded range of the deadline set, the new entries of the SLA event stream, one
//! ZCARD); every replica sees the same values, so alerts aggregate with `max`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use redis::AsyncCommands;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use takedown_reports::mapping::Mapping;
use takedown_reports::pending_count::PendingCounter;
use takedown_review::sla::SlaClass;
use takedown_review::store::ReviewStore;

/// How often the gauges are refreshed.
pub const POLL: Duration = Duration::from_secs(15);
/// A breach deadline this close counts as "due soon".
pub const DUE_SOON: Duration = Duration::from_secs(15 * 60);
/// Most deadline-set entries read per poll (the earliest ones), so a poll stays cheap.
const MAX_DEADLINES: isize = 1_000;
/// Most SLA events read per poll; the rest are read at the next one.
const MAX_EVENTS: usize = 1_000;

/// Label of a gauge by SLA class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: String,
}

/// Label of a fired SLA event: its case's class and `escalation` or `breach`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    class: String,
    kind: String,
}

/// The review gauges and their registry.
pub struct ReviewGauges {
    registry: Mutex<Registry>,
    /// Open cases whose breach deadline is within [`DUE_SOON`], by class.
    due_soon: Family<ClassLabel, Gauge>,
    /// Deadlines already due that the sweeper has not fired yet (it is behind or stopped).
    overdue_unswept: Gauge,
    /// Escalations and breaches fired since this replica started, by class.
    sla_events: Family<EventLabel, Counter>,
    /// Takedown actions not yet acknowledged by Kafka.
    outbox: Gauge,
    /// Statements of reasons not yet stored nor refused by the Transparency Database.
    sor_pending: Gauge,
    /// The report directory's outbox, counted at each poll (only what was appended since).
    sor_counter: Option<Arc<Mutex<PendingCounter>>>,
}

impl Default for ReviewGauges {
    fn default() -> Self {
        let mut root = Registry::with_prefix("takedown");
        let g = ReviewGauges {
            registry: Mutex::new(Registry::default()),
            due_soon: Family::default(),
            overdue_unswept: Gauge::default(),
            sla_events: Family::default(),
            outbox: Gauge::default(),
            sor_pending: Gauge::default(),
            sor_counter: None,
        };
        root.register(
            "sor_outbox_pending",
            "Statements of reasons waiting for the DSA Transparency Database (as last counted)",
            g.sor_pending.clone(),
        );
        let registry = root.sub_registry_with_prefix("review");
        registry.register(
            "deadlines_due_soon",
            "Open cases whose breach deadline is within 15 minutes, by SLA class",
            g.due_soon.clone(),
        );
        registry.register(
            "deadlines_overdue_unswept",
            "Deadlines already due that the sweeper has not fired yet",
            g.overdue_unswept.clone(),
        );
        registry.register(
            "sla_events",
            "SLA escalations and breaches fired, by class and kind",
            g.sla_events.clone(),
        );
        registry.register(
            "outbox_pending",
            "Takedown actions not yet acknowledged by Kafka",
            g.outbox.clone(),
        );
        // Every series exists from the start at 0, so the first event is an increase.
        for class in SlaClass::ALL {
            for kind in ["escalation", "breach"] {
                let _series = g.sla_events.get_or_create(&EventLabel {
                    class: class.as_str().into(),
                    kind: kind.into(),
                });
            }
        }
        *g.registry.lock().expect("registry lock") = root;
        g
    }
}

impl ReviewGauges {
    /// Counts the statements outbox of the report directory `dir` at each poll and publishes
    /// the count (`takedown_reports::pending`), so the gauge is fresh without a submission run
    /// or a page view. Each poll reads only what the ledger and the outbox gained since.
    pub fn with_reports(mut self, dir: &Path, mapping: Mapping) -> Self {
        self.sor_counter = Some(Arc::new(Mutex::new(PendingCounter::new(dir, mapping))));
        self
    }

    /// The gauges in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(
            &mut out,
            &self.registry.lock().expect("registry lock"),
        )
        .expect("writing to a String cannot fail");
        out
    }

    /// Refreshes the gauges from `store` every [`POLL`] until `stop` turns true; a failed
    /// read is logged and retried at the next poll.
    pub async fn run(&self, store: ReviewStore, mut stop: tokio::sync::watch::Receiver<bool>) {
        // Count events from now on: the stream's history was counted by earlier replicas.
        let mut last_event = match last_event_id(&store).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "Reading the SLA event stream failed.");
                "0-0".to_string()
            }
        };
        loop {
            if let Err(e) = self.poll(&store, &mut last_event).await {
                tracing::warn!(error = %e, "Refreshing the review gauges failed.");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// One refresh.
    pub async fn poll(
        &self,
        store: &ReviewStore,
        last_event: &mut String,
    ) -> Result<(), takedown_review::store::StoreError> {
        let mut conn = store.connection();
        let now = store.clock().now();
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let soon_ms = now_ms + DUE_SOON.as_millis() as i64;
        let due: Vec<(String, f64)> = conn
            .zrangebyscore_limit_withscores(
                store.key("deadlines"),
                "-inf",
                soon_ms,
                0,
                MAX_DEADLINES,
            )
            .await?;
        let mut overdue = 0;
        let mut soon: std::collections::HashMap<SlaClass, i64> = Default::default();
        for (member, score) in &due {
            if (*score as i64) <= now_ms {
                overdue += 1;
            } else if let Some(case) = member.strip_suffix("|breach").and_then(case_of)
                && let Ok(view) = store.case(case).await
            {
                *soon.entry(view.case.sla.class).or_default() += 1;
            }
        }
        self.overdue_unswept.set(overdue);
        for class in SlaClass::ALL {
            self.due_soon
                .get_or_create(&ClassLabel {
                    class: class.as_str().into(),
                })
                .set(soon.get(&class).copied().unwrap_or(0));
        }

        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(store.key("sla_events"))
            .arg(format!("({last_event}"))
            .arg("+")
            .arg("COUNT")
            .arg(MAX_EVENTS)
            .query_async(&mut conn)
            .await?;
        for entry in reply.ids {
            *last_event = entry.id.clone();
            let field = |name: &str| -> Option<String> { entry.get(name) };
            let (Some(case), Some(kind)) = (field("case"), field("kind")) else {
                continue;
            };
            let kind = if kind == "breach" {
                "breach"
            } else {
                "escalation"
            };
            let class = match store.case(&case).await {
                Ok(view) => view.case.sla.class.as_str().to_string(),
                Err(_) => "unknown".to_string(),
            };
            self.sla_events
                .get_or_create(&EventLabel {
                    class,
                    kind: kind.into(),
                })
                .inc();
        }

        let pending: i64 = conn.zcard(store.key("outbox")).await?;
        self.outbox.set(pending);
        if let Some(counter) = self.sor_counter.clone() {
            let counted = tokio::task::spawn_blocking(move || {
                counter.lock().expect("counter lock").refresh()
            })
            .await;
            match counted {
                Ok(Ok(r)) => {
                    if r.bad_lines > 0 {
                        tracing::warn!(
                            lines = r.bad_lines,
                            "Lines of the report directory that are neither events nor outcomes were skipped."
                        );
                    }
                    let prefix = &store.options().prefix;
                    takedown_reports::pending::publish(&mut conn, prefix, r.pending, now_ms)
                        .await?;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "Counting the statements outbox failed."),
                Err(e) => tracing::warn!(error = %e, "The statements outbox count stopped."),
            }
        }
        // Published by whoever last counted the statements outbox (0 before any count).
        let sor = takedown_reports::pending::read(&mut conn, &store.options().prefix).await?;
        self.sor_pending
            .set(sor.map_or(0, |(n, _at)| i64::try_from(n).unwrap_or(i64::MAX)));
        Ok(())
    }
}

/// The case id of a deadline-set member's prefix `<case>|<run>`.
fn case_of(prefix: &str) -> Option<&str> {
    prefix.rsplit_once('|').map(|(case, _run)| case)
}

async fn last_event_id(store: &ReviewStore) -> Result<String, redis::RedisError> {
    let reply: redis::streams::StreamRangeReply = store
        .connection()
        .xrevrange_count(store.key("sla_events"), "+", "-", 1)
        .await?;
    Ok(reply
        .ids
        .first()
        .map_or_else(|| "0-0".to_string(), |e| e.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_member_names_its_case() {
        // Members are `<case>|<run>|<kind>` (review/src/store/handle.rs, deadline_member).
        assert_eq!(case_of("m-abc|2"), Some("m-abc"));
        assert_eq!(case_of("no-run"), None);
    }

    #[tokio::test]
    async fn a_poll_counts_the_report_directory_and_publishes_the_count() {
        use takedown_reports::event::{Decision, Effect, Event, SourceKind};
        use takedown_reports::outbox::{Outbox, Outcome};
        let redis = takedown_local_services::RedisServer::start().unwrap();
        let start = time::macros::datetime!(2026-05-04 10:00 UTC);
        let clock = Arc::new(takedown_core::clock::ManualClock::new(start));
        let store = ReviewStore::connect(&redis.url(), Default::default(), clock.clone())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let removed = |case: &str| {
            Event::Decision(Decision {
                case_id: case.into(),
                seq: 0,
                at: start,
                received_at: start,
                due_at: None,
                in_time: true,
                source: SourceKind::HashMatch,
                issuing_state: None,
                effect: Effect::Removed,
                territories: vec![],
                legal_grounds: vec!["art2_7_a".into()],
                tos: false,
                labels: vec![],
                signals: vec!["pdq".into()],
                media: true,
                automated_decision: false,
                contested: None,
                contested_source: None,
            })
        };
        let ledger = takedown_reports::ledger::Ledger::open(dir.path()).unwrap();
        ledger.append(&[removed("a"), removed("b")]).unwrap();
        let g = ReviewGauges::default().with_reports(dir.path(), Mapping::default());
        let mut last = "0-0".to_string();
        g.poll(&store, &mut last).await.unwrap();
        assert!(g.render().contains("\ntakedown_sor_outbox_pending 2\n"));
        // A third decision archived and the first stored: 2 - 1 + 1, without any page view or
        // submission run; every replica reads the published count.
        ledger.append(&[removed("c")]).unwrap();
        Outbox::open(dir.path())
            .unwrap()
            .record(&[(
                "td_a_0".into(),
                Outcome::Stored {
                    uuid: None,
                    permalink: None,
                },
            )])
            .unwrap();
        clock.advance(time::Duration::seconds(15));
        g.poll(&store, &mut last).await.unwrap();
        assert!(g.render().contains("\ntakedown_sor_outbox_pending 2\n"));
        ledger.append(&[removed("d")]).unwrap();
        clock.advance(time::Duration::seconds(15));
        g.poll(&store, &mut last).await.unwrap();
        assert!(g.render().contains("\ntakedown_sor_outbox_pending 3\n"));
        let mut conn = store.connection();
        let published = takedown_reports::pending::read(&mut conn, &store.options().prefix)
            .await
            .unwrap();
        let at_ms = (start + time::Duration::seconds(30)).unix_timestamp() * 1000;
        assert_eq!(published, Some((3, at_ms)));
        // A replica without the directory shows what was published.
        let other = ReviewGauges::default();
        other.poll(&store, &mut last).await.unwrap();
        assert!(other.render().contains("\ntakedown_sor_outbox_pending 3\n"));
    }

    #[test]
    fn renders_the_gauges_under_the_review_prefix() {
        let g = ReviewGauges::default();
        g.outbox.set(3);
        g.sor_pending.set(7);
        let text = g.render();
        assert!(text.contains("takedown_review_outbox_pending 3"), "{text}");
        // The statements gauge is named as the monitoring's alert expects.
        assert!(text.contains("\ntakedown_sor_outbox_pending 7\n"), "{text}");
        assert!(
            text.contains(
                "takedown_review_sla_events_total{class=\"removal_order\",kind=\"breach\"} 0"
            ),
            "{text}"
        );
    }
}
