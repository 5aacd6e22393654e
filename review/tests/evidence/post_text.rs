//! The post's text travels with a match into the case, is kept once, goes into the evidence
//! package and is purged when the case's retention ends, even for a case without media.

use super::{package_files, rig};
use crate::support::*;
use takedown_core::messages::PostText;
use takedown_local_services::RedisServer;
use takedown_review::evidence_package;
use takedown_review::model::{DecisionInput, Outcome};
use time::Duration;

#[tokio::test]
async fn the_post_text_is_kept_once_packaged_and_purged_with_the_case() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let mut first = a_match("p-text", "m1", "gifct", "00ff", "low");
    first.post_text = Some(PostText {
        text: "join us https://evil.example/x".into(),
        cut_from: None,
    });
    let (case, _) = r.store.ingest_match(&first).await.unwrap();
    // A second match of the same post and media carries other text: the first copy stays.
    let mut second = a_match("p-text", "m1", "tat", "0f0f", "low");
    second.post_text = Some(PostText {
        text: "something else".into(),
        cut_from: Some(12_000),
    });
    let (same, _) = r.store.ingest_match(&second).await.unwrap();
    assert_eq!(same, case);
    let kept = r.store.post_text(&case).await.unwrap().unwrap();
    assert_eq!(kept.text, "join us https://evil.example/x");
    assert_eq!(kept.cut_from, None);

    let files = package_files(
        evidence_package::build(&r.store, &r.evidence, &case, "legal1", "Example Host")
            .await
            .unwrap(),
    );
    let packaged: serde_json::Value = serde_json::from_str(&files["post-text.json"]).unwrap();
    assert_eq!(packaged["text"], "join us https://evil.example/x");

    // Not terrorist content: the text goes after 30 days, like media would.
    r.store.claim_next("mod", false).await.unwrap();
    let ntc = DecisionInput {
        outcome: Outcome::NotTerroristContent { exemption: None },
        grounds: vec![],
        tos_clauses: vec![],
        justification: "news report".into(),
    };
    r.store.decide(&case, "mod", &ntc).await.unwrap();
    assert!(r.worker.retention_due(100).await.unwrap().is_empty());
    assert!(r.store.post_text(&case).await.unwrap().is_some());
    r.clock.set(T0 + Duration::days(30));
    assert_eq!(
        r.worker.retention_due(100).await.unwrap(),
        vec![case.clone()]
    );
    assert_eq!(r.store.post_text(&case).await.unwrap(), None);
    let trail = takedown_review::audit::for_subject(&r.store, &case, 100)
        .await
        .unwrap();
    let purge = trail
        .iter()
        .find(|e| {
            e.fields
                .iter()
                .any(|(k, v)| k == "action" && v == "evidence.purged")
        })
        .expect("purge audited");
    let after = &purge.fields.iter().find(|(k, _)| k == "after").unwrap().1;
    let after: serde_json::Value = serde_json::from_str(after).unwrap();
    assert_eq!(after["post_text"], true);
    assert_eq!(after["items"], 0);
}

#[tokio::test]
async fn a_match_without_text_keeps_none_and_schedules_no_retention() {
    let redis = RedisServer::start().unwrap();
    let r = rig(&redis, true).await;
    let (case, _) = r
        .store
        .ingest_match(&a_match("p-none", "m1", "gifct", "00ff", "low"))
        .await
        .unwrap();
    assert_eq!(r.store.post_text(&case).await.unwrap(), None);
    r.clock.set(T0 + Duration::days(365));
    assert!(r.worker.retention_due(100).await.unwrap().is_empty());
}
