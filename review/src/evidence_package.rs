//! The evidence package for an authority: one tar archive with everything about a case that a
//! court or a competent authority may ask for (TCO Art. 6(1)(b): preserved for administrative
//! or judicial review and for investigations).
//!
//! ```text
//! README.txt                  what each file is
//! case.json                   the case: subject (platform, post, media, URL), sources, decision
//! matches.json                its hash matches (lists, entries, distances, hashes)
//! post-text.json              the post's text as ingested (bounded), while it is kept
//! evidence/manifest.json      each item: source URL, SHA-256, content type, size, capture time
//! evidence/<sha256>           each original, decrypted and checked against its digest
//! audit/entries.json          the case's and its actions' audit entries, each with the chain
//!                             hash before it and its own: SHA-256(prev ‖ entry) = hash
//! audit/chain.json            the sealed head and the verification of the whole trail
//! annex-i/order.json          the removal order as received (raw body, digest, receipt time)
//! annex-ii/reply.json, .txt   the Annex II reply, once every URL of the order was removed or
//!                             disabled and enforced; else annex-ii/pending.json: why not yet
//! annex-iii/draft.json        the Annex III draft, when the order lacks information
//! ```
//!
//! A case joined by several orders has one directory per order under each annex
//! (`annex-i/<order id>/order.json`, …) instead.
//!
//! Building a package is itself audited (`evidence.exported`).

use crate::annexes;
use crate::audit::{self, AuditEntry};
use crate::model::Source;
use crate::store::evidence::ItemStatus;
use crate::store::{ReviewStore, StoreError};
use serde_json::json;
use takedown_evidence::{EvidenceError, EvidenceStore};

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Redis failed or the case does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An original could not be read (missing, or it failed its integrity check).
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// Writing the archive failed.
    #[error("writing the archive: {0}")]
    Archive(#[from] std::io::Error),
}

const README: &str = "Takedown evidence package.\n\n\
case.json: the case. matches.json: its hash matches. post-text.json: the post's text, if kept.\n\
evidence/manifest.json: each captured item; evidence/<sha256>: the original bytes, whose\n\
SHA-256 is their file name.\n\
audit/entries.json: the audit entries of the case and its actions; for each, prev_hash and\n\
hash, where hash = SHA-256(prev_hash || len-prefixed id and fields) as in `takedown audit\n\
verify`. audit/chain.json: the sealed head of the whole trail and its verification.\n\
annex-i/order.json: the removal order as received (when the case comes from one).\n\
annex-ii/reply.json and reply.txt: the Annex II reply (Art. 3(6)) once every URL of the order\n\
was removed or disabled and enforced; annex-ii/pending.json otherwise, saying why not yet.\n\
annex-iii/draft.json: the Annex III draft when the order lacks information (Art. 3(8)).\n";

fn add(
    tar: &mut tar::Builder<Vec<u8>>,
    path: &str,
    bytes: &[u8],
    mtime: u64,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, bytes)
}

/// The chain hashes around each entry about `subjects`: (entry, prev hash, hash).
async fn chained(
    store: &ReviewStore,
    subjects: &[String],
) -> Result<Vec<(AuditEntry, String, String)>, StoreError> {
    let mut out = Vec::new();
    let mut prev = [0u8; 32];
    let mut after: Option<String> = None;
    loop {
        let page = audit::read(store, after.as_deref(), 5000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for e in page {
            let next = audit::link(&prev, &e);
            let subject = e.fields.iter().find(|(k, _)| k == "subject");
            if subject.is_some_and(|(_, s)| subjects.contains(s)) {
                out.push((e, hex::encode(prev), hex::encode(next)));
            }
            prev = next;
        }
    }
    Ok(out)
}

/// Builds the package of `case_id` for `actor`, as tar bytes; Annex II names the hosting
/// service provider `provider_name` and is signed by `actor`.
pub async fn build(
    store: &ReviewStore,
    evidence: &EvidenceStore,
    case_id: &str,
    actor: &str,
    provider_name: &str,
) -> Result<Vec<u8>, PackageError> {
    let view = store.case(case_id).await?;
    let now = store.clock().now();
    let mtime = now.unix_timestamp().max(0) as u64;
    let mut tar = tar::Builder::new(Vec::new());
    add(&mut tar, "README.txt", README.as_bytes(), mtime)?;
    let json = |v: &serde_json::Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    add(&mut tar, "case.json", &json(&json!(view.case)), mtime)?;
    add(&mut tar, "matches.json", &json(&json!(view.matches)), mtime)?;
    if let Some(text) = store.post_text(case_id).await? {
        add(&mut tar, "post-text.json", &json(&json!(text)), mtime)?;
    }

    let items = store.evidence_items(case_id).await?;
    let mut manifest = Vec::new();
    for (key, item) in &items {
        manifest.push(json!({"key": key, "item": item}));
        if let (ItemStatus::Captured, Some(sha)) = (item.status, &item.sha256) {
            let (_, bytes) = evidence.original(sha).await?;
            add(&mut tar, &format!("evidence/{sha}"), &bytes, mtime)?;
        }
    }
    add(
        &mut tar,
        "evidence/manifest.json",
        &json(&json!(manifest)),
        mtime,
    )?;

    let mut subjects = vec![case_id.to_string()];
    subjects.extend(
        view.case
            .decision
            .iter()
            .filter_map(|d| d.action_id.clone()),
    );
    subjects.extend(view.case.history.iter().filter_map(|d| d.action_id.clone()));
    let entries: Vec<_> = chained(store, &subjects)
        .await?
        .into_iter()
        .map(|(e, prev, hash)| {
            let fields: serde_json::Map<String, serde_json::Value> = e
                .fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            json!({"id": e.id, "fields": fields, "prev_hash": prev, "hash": hash})
        })
        .collect();
    add(
        &mut tar,
        "audit/entries.json",
        &json(&json!(entries)),
        mtime,
    )?;
    let verification = audit::verify(store).await?;
    let head = audit::head(store).await?;
    let chain = json!({
        "head": head.map(|(id, hash)| json!({"id": id, "hash": hash})),
        "entries": verification.entries,
        "sealed_ok": verification.sealed_ok,
        "unsealed": verification.unsealed,
        "problems": verification.problems,
    });
    add(&mut tar, "audit/chain.json", &json(&chain), mtime)?;

    let orders: Vec<&String> = view
        .case
        .sources
        .iter()
        .filter_map(|s| match s {
            Source::RemovalOrder { order_id, .. } => Some(order_id),
            _ => None,
        })
        .collect();
    for order_id in &orders {
        // One order: `annex-i/order.json`; several: `annex-i/<order id>/order.json`.
        let path = |annex: &str, file: &str| match orders.len() {
            1 => format!("{annex}/{file}"),
            _ => format!("{annex}/{order_id}/{file}"),
        };
        let record = store.order(order_id).await?;
        let (raw, sha) = store.order_raw(order_id).await?;
        let order = json!({
            "order_id": order_id,
            "received_at": record.received_at,
            "sha256": sha,
            "raw": String::from_utf8_lossy(&raw),
            "validated": record.order,
        });
        add(
            &mut tar,
            &path("annex-i", "order.json"),
            &json(&order),
            mtime,
        )?;
        match annexes::annex_ii(store, &record, provider_name, actor).await? {
            Ok(reply) => {
                add(
                    &mut tar,
                    &path("annex-ii", "reply.json"),
                    &json(&json!(reply)),
                    mtime,
                )?;
                let text = reply.to_text(&record.order.section_a);
                add(
                    &mut tar,
                    &path("annex-ii", "reply.txt"),
                    text.as_bytes(),
                    mtime,
                )?;
            }
            Err(problems) => {
                let pending = json!({"order_id": order_id, "not_yet": problems});
                add(
                    &mut tar,
                    &path("annex-ii", "pending.json"),
                    &json(&pending),
                    mtime,
                )?;
            }
        }
        if let Some(draft) = annexes::annex_iii_draft(&record, now) {
            add(
                &mut tar,
                &path("annex-iii", "draft.json"),
                &json(&json!(draft)),
                mtime,
            )?;
        }
    }
    store
        .audit_evidence(
            case_id,
            actor,
            "evidence.exported",
            &json!({"items": items.len()}),
            "evidence package",
        )
        .await?;
    Ok(tar.into_inner()?)
}
