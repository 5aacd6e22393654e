//! The mappings the law leaves open, in one configurable place: which DSA category and
//! keywords a list label stands for, what content type and automated system a signal is, and
//! which decisions get a statement of reasons. Defaults and their reasons are in
//! `docs/reports.md`.

use crate::event::SourceKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A DSA category (`STATEMENT_CATEGORY_*`) with its keywords (`KEYWORD_*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRef {
    /// The category key.
    pub category: String,
    /// The keyword keys (`category_specification`).
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl CategoryRef {
    /// Category 10, sub-category 10d: terrorist content.
    pub fn terrorist() -> CategoryRef {
        CategoryRef {
            category: "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY".into(),
            keywords: vec!["KEYWORD_TERRORIST_CONTENT".into()],
        }
    }
}

/// The configurable mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mapping {
    /// List or notice label → category. The first label (in the case's order) that has an
    /// entry decides; otherwise [`Mapping::default_category`].
    pub labels: BTreeMap<String, CategoryRef>,
    /// The category of a case no label maps (Takedown's lists are terrorist content).
    pub default_category: CategoryRef,
    /// The category of removal orders (TCO: always terrorist content).
    pub order_category: CategoryRef,
    /// Whether decisions taken on an authority's order get a statement (Art. 17(5) exempts
    /// them; default false).
    pub statements_for_orders: bool,
    /// `automated_decision` for a match a person reviewed: `AUTOMATED_DECISION_NOT_AUTOMATED`
    /// (default) or `AUTOMATED_DECISION_PARTIALLY`.
    pub reviewed_match_decision: String,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            labels: BTreeMap::new(),
            default_category: CategoryRef::terrorist(),
            order_category: CategoryRef::terrorist(),
            statements_for_orders: false,
            reviewed_match_decision: "AUTOMATED_DECISION_NOT_AUTOMATED".into(),
        }
    }
}

impl Mapping {
    /// The category of an item with these labels from this source.
    pub fn category(&self, source: SourceKind, labels: &[String]) -> &CategoryRef {
        if source == SourceKind::RemovalOrder {
            return &self.order_category;
        }
        labels
            .iter()
            .find_map(|l| self.labels.get(l))
            .unwrap_or(&self.default_category)
    }
}

/// The automated system a signal type belongs to, as reports name it (Part 8 rows).
pub fn system_of(signal: &str) -> &'static str {
    match signal {
        "pdq" => "PDQ",
        "vpdq" => "vPDQ",
        "md5" | "sha256" | "sha512" => "MD5/SHA-256",
        "dhash" | "phash" => "dHash/pHash",
        "text_regex" => "Text rules",
        _ => "Other",
    }
}

/// The automated systems in report order.
pub const SYSTEMS: [&str; 6] = [
    "PDQ",
    "vPDQ",
    "MD5/SHA-256",
    "dHash/pHash",
    "Text rules",
    "Other",
];

/// `CONTENT_TYPE_*` keys for an item: text rules mean text, perceptual image hashes an
/// image, vPDQ a video; an exact file hash or a bare URL says nothing about the type, so
/// `CONTENT_TYPE_OTHER`.
pub fn content_types(signals: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut push = |t| {
        if !out.contains(&t) {
            out.push(t)
        }
    };
    for s in signals {
        match s.as_str() {
            "text_regex" => push("CONTENT_TYPE_TEXT"),
            "pdq" | "dhash" | "phash" => push("CONTENT_TYPE_IMAGE"),
            "vpdq" => push("CONTENT_TYPE_VIDEO"),
            _ => {}
        }
    }
    if out.is_empty() {
        out.push("CONTENT_TYPE_OTHER");
    }
    out.sort_unstable();
    out
}

/// `source_type` of a statement, or `None` when the decision gets none by default (orders,
/// complaints: the contested decision had its own).
pub fn source_type(source: SourceKind) -> Option<&'static str> {
    match source {
        SourceKind::HashMatch => Some("SOURCE_VOLUNTARY"),
        SourceKind::Notice => Some("SOURCE_ARTICLE_16"),
        SourceKind::TrustedNotice => Some("SOURCE_TRUSTED_FLAGGER"),
        SourceKind::OtherNotification => Some("SOURCE_TYPE_OTHER_NOTIFICATION"),
        SourceKind::RemovalOrder | SourceKind::Complaint => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_in_order_and_orders_are_terrorist() {
        let mut m = Mapping::default();
        let violence = CategoryRef {
            category: "STATEMENT_CATEGORY_VIOLENCE".into(),
            keywords: vec!["KEYWORD_INCITEMENT_VIOLENCE_HATRED".into()],
        };
        m.labels
            .insert("violent-extremism".into(), violence.clone());
        let labels = vec!["other".to_string(), "violent-extremism".to_string()];
        assert_eq!(m.category(SourceKind::HashMatch, &labels), &violence);
        assert_eq!(
            m.category(SourceKind::RemovalOrder, &labels),
            &CategoryRef::terrorist()
        );
        assert_eq!(
            m.category(SourceKind::Notice, &[]),
            &CategoryRef::terrorist()
        );
    }

    #[test]
    fn content_types_and_systems() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(content_types(&s(&["pdq", "md5"])), ["CONTENT_TYPE_IMAGE"]);
        assert_eq!(
            content_types(&s(&["text_regex", "vpdq"])),
            ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO"]
        );
        assert_eq!(content_types(&s(&["sha256"])), ["CONTENT_TYPE_OTHER"]);
        assert_eq!(content_types(&[]), ["CONTENT_TYPE_OTHER"]);
        assert_eq!(system_of("sha256"), "MD5/SHA-256");
        assert_eq!(system_of("text_regex"), "Text rules");
        assert_eq!(source_type(SourceKind::RemovalOrder), None);
        assert_eq!(source_type(SourceKind::HashMatch), Some("SOURCE_VOLUNTARY"));
    }
}
