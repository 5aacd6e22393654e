//! Intake records: removal orders, notices, complaints and Australian removal notices, each
//! stored once with its raw body, SHA-256 and receipt time, and the cases they open.

use super::handle::{ReviewStore, StoreError, ms, with_prelude};
use crate::au_notice::{AuNoticeRecord, AuRemovalNotice};
use crate::flaggers::{FlaggerStatus, TrustedFlagger};
use crate::intake::{Complaint, IntakeRecord, Notice};
use crate::model::{Case, CaseState, Source, Subject, derive_id, rank};
use crate::sla::{Embargo, SlaClass};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use takedown_core::clock::Clock;
use time::OffsetDateTime;

/// Stores a received record (a removal order, notice or complaint) once. KEYS: audit, seq,
/// record. ARGV: record id, now, actor, audit action, then field/value pairs (one named
/// `sha256`). Returns 1 if stored, 0 if it existed.
static CREATE_RECORD: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
audit(ARGV[1], ARGV[3], ARGV[2], ARGV[4], '{}',
  cjson.encode({sha256 = redis.call('HGET', KEYS[3], 'sha256')}), '')
return 1
"#,
    )
});

/// A stored removal order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Our id.
    pub order_id: String,
    /// The API token (authority) that sent it.
    pub submitted_by: String,
    /// Receipt time (Art. 3(5)).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 of the raw body, hex.
    pub sha256: String,
    /// The validated order.
    pub order: crate::order::RemovalOrder,
    /// One case per URL.
    pub case_ids: Vec<String>,
}

pub(crate) fn sha256_hex(raw: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(raw))
}

impl ReviewStore {
    /// Stores a removal order immutably (raw body, digest, receipt time) and opens one case
    /// per URL, due one period after receipt; an insufficient order's cases start suspended.
    pub async fn receive_order(
        &self,
        raw: &[u8],
        order: crate::order::RemovalOrder,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(OrderRecord, bool), StoreError> {
        let sha = sha256_hex(raw);
        let order_id = derive_id("ro", &[submitted_by, &order.section_a.reference]);
        let mut case_ids = Vec::new();
        let mut cases = Vec::new();
        for url in &order.urls {
            let id = derive_id("o", &[&order_id, url]);
            let mut sla = self.opts.sla.start(SlaClass::RemovalOrder, received_at)?;
            let mut state = CaseState::Open;
            if order.insufficient() {
                sla.suspend(received_at)?;
                state = CaseState::Suspended;
            }
            cases.push(Case {
                id: id.clone(),
                subject: Subject {
                    platform: String::new(),
                    post_id: None,
                    media_id: None,
                    url: Some(url.clone()),
                    language: None,
                },
                sources: vec![Source::RemovalOrder {
                    order_id: order_id.clone(),
                    reference: order.section_a.reference.clone(),
                    issuing_state: order.section_a.issuing_member_state.clone(),
                    cross_border: order.cross_border(),
                }],
                state,
                rank: rank(SlaClass::RemovalOrder, None, false),
                senior_only: false,
                threat_to_life: false,
                sla,
                embargo: order.do_not_inform.then(|| Embargo::new(received_at)),
                decision: None,
                history: vec![],
                preservation: None,
                evidence_holds: Vec::new(),
                created_at: self.clock.now(),
                first_claimed_at: None,
            });
            case_ids.push(id);
        }
        let record = OrderRecord {
            order_id: order_id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha.clone(),
            order,
            case_ids,
        };
        let received = self
            .receive_once(
                "order",
                &order_id,
                submitted_by,
                raw,
                &sha,
                received_at,
                record,
                &cases,
            )
            .await?;
        self.ledger_order(&received.0).await?;
        Ok(received)
    }

    /// A stored order.
    pub async fn order(&self, order_id: &str) -> Result<OrderRecord, StoreError> {
        self.record(&format!("order:{order_id}")).await
    }

    /// The raw body of a stored order and its SHA-256, as received.
    pub async fn order_raw(&self, order_id: &str) -> Result<(Vec<u8>, String), StoreError> {
        let (raw, sha): (Option<Vec<u8>>, Option<String>) = redis::pipe()
            .hget(self.key(&format!("order:{order_id}")), "raw")
            .hget(self.key(&format!("order:{order_id}")), "sha256")
            .query_async(&mut self.conn.clone())
            .await?;
        match (raw, sha) {
            (Some(raw), Some(sha)) => Ok((raw, sha)),
            _ => Err(StoreError::NotFound(format!("order {order_id}"))),
        }
    }

    /// Stores a received submission once under `<kind>:<id>` (raw body, digest, receipt time,
    /// JSON record), audited as `<kind>.received`, and opens its cases. A repeated submission
    /// changes nothing: the stored record comes back, with `false`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn receive_once<R: Serialize + serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
        actor: &str,
        raw: &[u8],
        sha: &str,
        received_at: OffsetDateTime,
        record: R,
        cases: &[Case],
    ) -> Result<(R, bool), StoreError> {
        let key = format!("{kind}:{id}");
        let [audit, seq] = self.audit_keys();
        let stored: i64 = CREATE_RECORD
            .key(audit)
            .key(seq)
            .key(self.key(&key))
            .arg(id)
            .arg(ms(self.clock.now()))
            .arg(actor)
            .arg(format!("{kind}.received"))
            .arg("raw")
            .arg(raw)
            .arg("sha256")
            .arg(sha)
            .arg("received_at")
            .arg(ms(received_at))
            .arg("record")
            .arg(serde_json::to_string(&record)?)
            .invoke_async(&mut self.conn.clone())
            .await?;
        if stored != 1 {
            return Ok((self.record(&key).await?, false));
        }
        for case in cases {
            self.create_case(case, actor).await?;
            // Each URL's content is evidence (TCO Art. 6); complaints reopen a case whose
            // evidence already exists.
            if kind != "complaint"
                && let Some(url) = &case.subject.url
            {
                self.enqueue_capture(&case.id, url).await?;
            }
        }
        Ok((record, true))
    }

    pub(crate) async fn record<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<T, StoreError> {
        let record: Option<String> = self.conn.clone().hget(self.key(key), "record").await?;
        let record = record.ok_or_else(|| StoreError::NotFound(key.replace(':', " ")))?;
        Ok(serde_json::from_str(&record)?)
    }

    /// Stores a DSA Art. 16 notice once and opens its case. `flagger` is the registry entry
    /// the notice came from (see [`crate::flaggers`]): only an active one makes it a
    /// `trusted_notice` (24 h, before hash matches), counted in the flagger's `received`
    /// set; without one, or for a suspended flagger, it is an ordinary notice (48 h).
    /// Returns the record (the original one for a repeated notice) and whether it was new.
    pub async fn receive_notice(
        &self,
        raw: &[u8],
        mut notice: Notice,
        flagger: Option<&TrustedFlagger>,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<Notice>, bool), StoreError> {
        notice.flagger_id = flagger.map(|f| f.id.clone());
        notice.trusted_flagger = flagger.is_some_and(|f| f.status == FlaggerStatus::Active);
        let id = crate::intake::notice_id(submitted_by, &notice);
        let class = if notice.trusted_flagger {
            SlaClass::TrustedNotice
        } else {
            SlaClass::Notice
        };
        let counted = notice.flagger_id.clone().filter(|_| notice.trusted_flagger);
        let case = self.new_case(
            derive_id("n", &[&id]),
            Subject {
                platform: notice.platform.clone(),
                post_id: notice.post_id.clone(),
                media_id: notice.media_id.clone(),
                url: Some(notice.url.clone()),
                language: None,
            },
            Source::Notice {
                notice_id: id.clone(),
                trusted_flagger: notice.trusted_flagger,
                flagger_id: notice.flagger_id.clone(),
            },
            class,
            received_at,
        )?;
        let (record, new) = self
            .receive_intake("notice", id, raw, notice, case, submitted_by, received_at)
            .await?;
        if new && let Some(flagger) = counted {
            let _: i64 = self
                .conn
                .clone()
                .zadd(
                    super::flaggers::counter_key(self, &flagger, "received"),
                    &record.id,
                    ms(received_at),
                )
                .await?;
        }
        Ok((record, new))
    }

    /// Stores an Australian removal notice once (raw body, SHA-256, receipt time) and opens
    /// one case per URL, all due one compliance period after the notice was given (see
    /// [`crate::au_notice`]). Returns the record (the original one for a repeated notice:
    /// same submitting account and reference) and whether it was new.
    pub async fn receive_au_notice(
        &self,
        raw: &[u8],
        notice: AuRemovalNotice,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(AuNoticeRecord, bool), StoreError> {
        let id = derive_id("aun", &[submitted_by, &notice.reference]);
        let profile = self.opts.sla.profile(SlaClass::AuRemovalNotice)?;
        let mut sla = self
            .opts
            .sla
            .start(SlaClass::AuRemovalNotice, notice.clock_start(received_at))?;
        sla.received_at = received_at;
        // Never shorter than the profile, so its escalations stay before the deadline.
        sla.period = notice.period(profile.due_after.0);
        let due_at = sla.due_at().unwrap_or(received_at);
        let mut cases = Vec::new();
        for url in &notice.urls {
            let mut case = self.new_case(
                derive_id("au", &[&id, url]),
                Subject {
                    platform: String::new(),
                    post_id: None,
                    media_id: None,
                    url: Some(url.clone()),
                    language: None,
                },
                Source::AuRemovalNotice {
                    reference: notice.reference.clone(),
                    notice_id: id.clone(),
                    section: Some(notice.section),
                },
                SlaClass::AuRemovalNotice,
                received_at,
            )?;
            case.sla = sla.clone();
            cases.push(case);
        }
        let record = AuNoticeRecord {
            id: id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha256_hex(raw),
            notice,
            due_at,
            case_ids: cases.iter().map(|c| c.id.clone()).collect(),
        };
        let sha = record.sha256.clone();
        self.receive_once(
            "au_notice",
            &id,
            submitted_by,
            raw,
            &sha,
            received_at,
            record,
            &cases,
        )
        .await
    }

    /// A stored Australian removal notice.
    pub async fn au_notice(&self, id: &str) -> Result<AuNoticeRecord, StoreError> {
        self.record(&format!("au_notice:{id}")).await
    }

    /// Stores a complaint against the decision on `contested` once and opens its case
    /// (two weeks). The caller checks that the decision can be contested
    /// ([`crate::intake::check_contested`]).
    pub async fn receive_complaint(
        &self,
        raw: &[u8],
        complaint: Complaint,
        contested: &Case,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<Complaint>, bool), StoreError> {
        let id = crate::intake::complaint_id(submitted_by, &complaint);
        let case = self.new_case(
            derive_id("c", &[&id]),
            contested.subject.clone(),
            Source::Complaint {
                complaint_id: id.clone(),
                against_case: contested.id.clone(),
            },
            SlaClass::Complaint,
            received_at,
        )?;
        self.receive_intake(
            "complaint",
            id,
            raw,
            complaint,
            case,
            submitted_by,
            received_at,
        )
        .await
    }

    /// Stores a notice or complaint (`kind`) once, with its raw body and that body's SHA-256,
    /// and opens its case; a repeat returns the original record and `false`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn receive_intake<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        id: String,
        raw: &[u8],
        body: T,
        case: Case,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<T>, bool), StoreError> {
        let record = IntakeRecord {
            id: id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha256_hex(raw),
            body,
            case_id: case.id.clone(),
        };
        let sha = record.sha256.clone();
        self.receive_once(
            kind,
            &id,
            submitted_by,
            raw,
            &sha,
            received_at,
            record,
            std::slice::from_ref(&case),
        )
        .await
    }

    /// A stored notice.
    pub async fn notice(&self, id: &str) -> Result<IntakeRecord<Notice>, StoreError> {
        self.record(&format!("notice:{id}")).await
    }

    /// A stored complaint.
    pub async fn complaint(&self, id: &str) -> Result<IntakeRecord<Complaint>, StoreError> {
        self.record(&format!("complaint:{id}")).await
    }

    pub(crate) fn new_case(
        &self,
        id: String,
        subject: Subject,
        source: Source,
        class: SlaClass,
        received_at: OffsetDateTime,
    ) -> Result<Case, StoreError> {
        Ok(Case {
            id,
            subject,
            sources: vec![source],
            state: CaseState::Open,
            rank: rank(class, None, false),
            senior_only: false,
            threat_to_life: false,
            sla: self.opts.sla.start(class, received_at)?,
            embargo: None,
            decision: None,
            history: vec![],
            preservation: None,
            evidence_holds: Vec::new(),
            created_at: self.clock.now(),
            first_claimed_at: None,
        })
    }
}
