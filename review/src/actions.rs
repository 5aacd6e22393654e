//! Getting decisions out: takedown actions to Kafka and an optional webhook, reviewer
//! feedback to the hash lists.
//!
//! A decision only writes to Redis (its action goes to the `outbox` sorted set in the same
//! Lua step), so nothing is lost if Kafka or the webhook is down. The [`Publisher`] drains the
//! outboxes: each action is produced to the `takedowns` topic with an idempotent producer,
//! keyed by its content-derived action id, and marked `published_at` only once the broker
//! acknowledged it, so a crash or restart republishes (the same id; consumers dedupe on it)
//! and never skips. Acknowledged actions move to a webhook outbox when a webhook is
//! configured; deliveries are signed with HMAC-SHA256 and retried with growing backoff, the
//! schedule kept in Redis so it survives restarts. Final decisions on matched cases queue a
//! feedback job; each matched list entry gets one true or false positive in the hash-list
//! store (at least once: a crash between sending and marking can count one entry twice).

use crate::model::TakedownAction;
use crate::store::{ReviewStore, StoreError};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;
use takedown_hashlists::ListId;
use takedown_hashlists::store::Store as ListStore;
use tokio::sync::watch;

/// Why publishing stopped.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The review store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Kafka producer could not be created or a record was not acknowledged.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The hash-list store failed.
    #[error("hash lists: {0}")]
    Lists(#[from] takedown_hashlists::store::StoreError),
    /// The webhook client could not be built.
    #[error("webhook client: {0}")]
    Http(#[from] reqwest::Error),
    /// An action could not be encoded.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// A secret that never prints: `Debug` shows `Secret(redacted)`.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// Reads a secret from the environment variable `name`; `None` when unset or empty.
    pub fn from_env(name: &str) -> Option<Self> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Secret(v.into_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let (mut inner_pad, mut outer_pad) = ([0x36u8; 64], [0x5cu8; 64]);
    for i in 0..64 {
        inner_pad[i] ^= block[i];
        outer_pad[i] ^= block[i];
    }
    let inner = Sha256::new()
        .chain_update(inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// The signature header value for a webhook body sent at Unix time `t` (seconds):
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. The timestamp is signed with the body,
/// so a receiver that refuses signatures older than its replay window (see
/// [`verify_signature`]) cannot be fed a captured request again later.
pub fn signature(secret: &Secret, t: i64, body: &[u8]) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={t},v1={}", hex::encode(hmac_sha256(&secret.0, &signed)))
}

/// The replay window receivers should apply: a signature whose `t` is further than this from
/// their clock is refused.
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// Checks a signature header as a receiver should: well-formed, `t` within `window_secs` of
/// `now` (Unix seconds), and `v1` the HMAC of `"<t>." + body` (compared in constant time).
pub fn verify_signature(
    secret: &Secret,
    header: &str,
    body: &[u8],
    now: i64,
    window_secs: i64,
) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > window_secs {
        return false;
    }
    let expected = signature(secret, t, body);
    let expected = expected.rsplit("v1=").next().unwrap_or("");
    expected.len() == v1.len()
        && expected
            .bytes()
            .zip(v1.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The header carrying [`signature`].
pub const SIGNATURE_HEADER: &str = "x-takedown-signature";

/// Where and how to deliver actions by HTTP.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The URL actions are POSTed to.
    pub url: String,
    /// The HMAC key (from the environment only).
    pub secret: Secret,
    /// Attempts per pass before the action is rescheduled.
    pub attempts: u32,
    /// The first retry delay; it doubles per failure, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest delay between attempts.
    pub max_backoff: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl WebhookConfig {
    /// Defaults: 3 attempts per pass, 200 ms doubling up to 5 minutes, 10 s per request.
    pub fn new(url: &str, secret: Secret) -> Self {
        WebhookConfig {
            url: url.to_string(),
            secret,
            attempts: 3,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }

    fn delay(&self, failures: u32) -> Duration {
        self.backoff
            .saturating_mul(2u32.saturating_pow(failures.min(20)))
            .min(self.max_backoff)
    }
}

/// What the publisher connects to.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// The takedowns topic.
    pub topic: String,
    /// Extra producer settings.
    pub producer_settings: Vec<(String, String)>,
    /// Actions per pass.
    pub batch: usize,
    /// Longest sleep between passes.
    pub poll: Duration,
    /// The optional webhook.
    pub webhook: Option<WebhookConfig>,
}

impl PublisherConfig {
    /// Defaults: 1,000 actions per pass, 200 ms poll, no webhook.
    pub fn new(brokers: &str, topic: &str) -> Self {
        PublisherConfig {
            brokers: brokers.to_string(),
            topic: topic.to_string(),
            producer_settings: Vec::new(),
            batch: 1000,
            poll: Duration::from_millis(200),
            webhook: None,
        }
    }
}

/// Drains the action outbox to Kafka (and the webhook) and the feedback queue to the lists.
pub struct Publisher {
    store: ReviewStore,
    producer: FutureProducer,
    config: PublisherConfig,
    http: reqwest::Client,
    lists: Option<ListStore>,
}

impl Publisher {
    /// A publisher for `store`; `lists` receives reviewer feedback when given.
    pub fn new(
        store: ReviewStore,
        config: PublisherConfig,
        lists: Option<ListStore>,
    ) -> Result<Self, PublishError> {
        let mut producer = ClientConfig::new();
        producer
            .set("bootstrap.servers", &config.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5");
        for (k, v) in &config.producer_settings {
            producer.set(k, v);
        }
        let timeout = config
            .webhook
            .as_ref()
            .map_or(Duration::from_secs(10), |w| w.timeout);
        Ok(Publisher {
            store,
            producer: producer.create()?,
            http: reqwest::Client::builder().timeout(timeout).build()?,
            config,
            lists,
        })
    }

    /// Publishes up to one batch of pending actions, in outbox order; each is marked
    /// `published_at` once the broker acknowledged it. Returns how many were published.
    pub async fn publish_pending(&self) -> Result<usize, PublishError> {
        let pending = self.store.pending_actions(self.config.batch).await?;
        let mut payloads = Vec::with_capacity(pending.len());
        for action in &pending {
            payloads.push(serde_json::to_vec(action)?);
        }
        let sends = pending.iter().zip(&payloads).map(|(action, payload)| {
            self.producer.send(
                FutureRecord::to(&self.config.topic)
                    .key(action.action_id.as_bytes())
                    .payload(payload.as_slice()),
                Duration::from_secs(30),
            )
        });
        let results = futures_util::future::join_all(sends).await;
        let webhook = self.config.webhook.is_some();
        let mut published = 0;
        for (action, result) in pending.iter().zip(results) {
            match result {
                Ok(_) => {
                    let now = self.store.clock().now();
                    self.store
                        .mark_published(&action.action_id, now, webhook)
                        .await?;
                    published += 1;
                }
                Err((e, _)) => {
                    // Later actions wait for the next pass; the failed one stays first.
                    tracing::warn!(action_id = %action.action_id, error = %e,
                        "Takedown action not acknowledged by Kafka; it stays in the outbox.");
                    break;
                }
            }
        }
        Ok(published)
    }

    /// Delivers the webhook deliveries that are due; returns how many succeeded.
    pub async fn deliver_webhooks(&self) -> Result<usize, PublishError> {
        let Some(hook) = &self.config.webhook else {
            return Ok(0);
        };
        let mut delivered = 0;
        for (action, mut failures) in self.store.due_webhooks(self.config.batch).await? {
            let body = serde_json::to_vec(&action)?;
            let mut ok = false;
            for attempt in 0..hook.attempts.max(1) {
                if attempt > 0 {
                    tokio::time::sleep(hook.delay(failures)).await;
                }
                match self.post(hook, &action, &body).await {
                    Ok(()) => {
                        ok = true;
                        break;
                    }
                    Err(why) => {
                        failures += 1;
                        tracing::warn!(action_id = %action.action_id, attempt = failures,
                            "Webhook delivery failed: {why}.");
                    }
                }
            }
            if ok {
                self.store.webhook_delivered(&action.action_id).await?;
                delivered += 1;
            } else {
                let retry = self.store.clock().now()
                    + time::Duration::try_from(hook.delay(failures))
                        .unwrap_or(time::Duration::minutes(5));
                self.store.webhook_failed(&action.action_id, retry).await?;
            }
        }
        Ok(delivered)
    }

    /// One signed POST; `Err` says why it failed (status or transport error kind), never
    /// the secret.
    async fn post(
        &self,
        hook: &WebhookConfig,
        action: &TakedownAction,
        body: &[u8],
    ) -> Result<(), String> {
        let response = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-takedown-action-id", &action.action_id)
            .header(
                SIGNATURE_HEADER,
                signature(
                    &hook.secret,
                    self.store.clock().now().unix_timestamp(),
                    body,
                ),
            )
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timeout".to_string()
                } else if e.is_connect() {
                    "connection failed".to_string()
                } else {
                    "request failed".to_string()
                }
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", response.status().as_u16()))
        }
    }

    /// Sends queued reviewer feedback to the hash lists; returns how many entries got a
    /// verdict. Without a list store it does nothing.
    pub async fn send_feedback(&self) -> Result<usize, PublishError> {
        let Some(lists) = &self.lists else {
            return Ok(0);
        };
        let mut total = 0;
        for (job, case_id, verdict) in self.store.pending_feedback(self.config.batch).await? {
            let matches = match self.store.case(&case_id).await {
                Ok(view) => view.matches,
                Err(StoreError::NotFound(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            let mut sent = 0;
            for m in &matches {
                if self.store.feedback_was_sent(&job, &m.match_id).await? {
                    continue;
                }
                let list = match ListId::parse(&m.list_id) {
                    Ok(list) => list,
                    Err(e) => {
                        tracing::warn!(case_id, match_id = %m.match_id,
                            "Feedback skipped: {}.", e.0);
                        continue;
                    }
                };
                match lists.record_feedback(&list, &m.entry, verdict).await {
                    Ok(_) => sent += 1,
                    Err(takedown_hashlists::store::StoreError::InvalidValue(why)) => {
                        tracing::warn!(case_id, match_id = %m.match_id,
                            "Feedback skipped: {why}.");
                    }
                    Err(e) => return Err(e.into()),
                }
                self.store.feedback_sent(&job, &m.match_id).await?;
            }
            self.store.feedback_done(&job, &case_id, sent).await?;
            total += sent;
        }
        Ok(total)
    }

    /// Drains until `stop` turns true: publishes, delivers webhooks, sends feedback, then
    /// sleeps up to `poll`. Failures are logged and retried on the next pass.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let mut busy = false;
            match self.publish_pending().await {
                Ok(n) => busy |= n == self.config.batch,
                Err(e) => tracing::warn!("Publishing takedown actions failed: {e}."),
            }
            if let Err(e) = self.deliver_webhooks().await {
                tracing::warn!("Webhook pass failed: {e}.");
            }
            if let Err(e) = self.send_feedback().await {
                tracing::warn!("Sending reviewer feedback failed: {e}.");
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let h = |k: &[u8], m: &[u8]| hex::encode(hmac_sha256(k, m));
        assert_eq!(
            h(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            h(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            h(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn secrets_do_not_print_and_backoff_grows_to_its_cap() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(redacted)");
        let hook = WebhookConfig::new("http://127.0.0.1:1/", s);
        assert!(!format!("{hook:?}").contains("hunter2"));
        assert_eq!(hook.delay(0), Duration::from_millis(200));
        assert_eq!(hook.delay(3), Duration::from_millis(1600));
        assert_eq!(hook.delay(40), Duration::from_secs(300));
    }
}
