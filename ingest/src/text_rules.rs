//! Text rules: regular expressions from the hash lists, searched for in each post's text.
//!
//! Lists carry `text_regex` entries next to their hashes (a known propaganda outlet's URL
//! pattern, a channel handle). The ingest stage applies every enabled rule of every block list
//! to the post's text and records each hit in `post-signals`, so the match stage can turn it
//! into a match like any hash. Rules change with list versions, so the compiled set is rebuilt
//! on each update (rules number in the hundreds, not millions) and swapped behind an `Arc`:
//! a post in flight keeps the set it started with.

use crate::list_feed::{ListSink, update_list};
use regex::{Regex, RegexSet, RegexSetBuilder};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use takedown_core::SignalType;
use takedown_core::messages::TextHit;
use takedown_hashlists::follow::ListUpdate;
use takedown_hashlists::model::{Change, Entry, ListId, ListKind, ListMeta, compile_rule};

/// Longest fragment of text a hit records; the post itself holds the rest.
pub const MAX_FRAGMENT_CHARS: usize = 200;

/// One compiled rule.
#[derive(Debug)]
struct Rule {
    list: ListId,
    key: String,
    regex: Regex,
}

/// Every rule in force, compiled together.
#[derive(Debug, Default)]
struct Compiled {
    set: Option<RegexSet>,
    rules: Vec<Rule>,
}

/// The patterns of one list, by entry key (enabled entries of block lists only).
#[derive(Debug, Default)]
struct ListRules {
    patterns: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    lists: HashMap<ListId, ListRules>,
}

/// The text rules in force, kept current by [`crate::list_feed::follow`].
#[derive(Debug, Clone, Default)]
pub struct TextRules {
    state: Arc<RwLock<State>>,
    compiled: Arc<RwLock<Arc<Compiled>>>,
}

fn is_rule(e: &Entry, now_ms: i64) -> bool {
    e.signal_type == SignalType::TextRegex && !e.is_disabled_at(now_ms)
}

impl TextRules {
    /// Number of rules in force.
    pub fn len(&self) -> usize {
        self.current().rules.len()
    }

    /// Whether no rule is in force.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> Arc<Compiled> {
        self.compiled.read().expect("rules lock").clone()
    }

    /// Every rule that matches `text`, one hit per rule, with the first matching fragment.
    pub fn hits(&self, text: &str) -> Vec<TextHit> {
        let compiled = self.current();
        let Some(set) = &compiled.set else {
            return Vec::new();
        };
        set.matches(text)
            .iter()
            .filter_map(|i| {
                let rule = &compiled.rules[i];
                let found = rule.regex.find(text)?;
                Some(TextHit {
                    list_id: rule.list.to_string(),
                    rule: rule.key.clone(),
                    matched: found.as_str().chars().take(MAX_FRAGMENT_CHARS).collect(),
                })
            })
            .collect()
    }

    /// Applies one list update and recompiles the rules in force.
    pub fn apply_update(&self, update: &ListUpdate, meta: &ListMeta, now_ms: i64) {
        let mut state = self.state.write().expect("rules lock");
        let list = update_list(update).clone();
        if meta.kind == ListKind::Allow {
            // Allow lists say which images are benign; they carry no text rules to enforce.
            state.lists.remove(&list);
        } else {
            let rules = state.lists.entry(list).or_default();
            match update {
                ListUpdate::Full { entries, .. } => {
                    rules.patterns = entries
                        .iter()
                        .filter(|e| is_rule(e, now_ms))
                        .map(|e| (e.key(), e.value.clone()))
                        .collect();
                }
                ListUpdate::Changes { changes, .. } => {
                    for change in changes {
                        match change {
                            Change::Deleted { key } => {
                                rules.patterns.remove(key);
                            }
                            other => {
                                if let Some(e) = other.entry() {
                                    if is_rule(e, now_ms) {
                                        rules.patterns.insert(e.key(), e.value.clone());
                                    } else {
                                        rules.patterns.remove(&e.key());
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let compiled = compile(&state);
        *self.compiled.write().expect("rules lock") = Arc::new(compiled);
    }
}

/// Compiles every rule. A pattern that no longer compiles (it was validated on import, so only
/// a store written by something else could hold one) is skipped with an error in the log.
fn compile(state: &State) -> Compiled {
    let mut rules = Vec::new();
    for (list, list_rules) in &state.lists {
        for (key, pattern) in &list_rules.patterns {
            match compile_rule(pattern) {
                Ok(regex) => rules.push(Rule {
                    list: list.clone(),
                    key: key.clone(),
                    regex,
                }),
                Err(e) => {
                    tracing::error!(list = %list, rule = %key, error = %e, "Skipping a text rule that does not compile.")
                }
            }
        }
    }
    if rules.is_empty() {
        return Compiled::default();
    }
    let set = RegexSetBuilder::new(rules.iter().map(|r| r.regex.as_str()))
        .case_insensitive(true)
        .size_limit(64 << 20)
        .dfa_size_limit(64 << 20)
        .build();
    match set {
        Ok(set) => Compiled {
            set: Some(set),
            rules,
        },
        Err(e) => {
            tracing::error!(rules = rules.len(), error = %e, "The text rules do not compile together; text rules are off until the lists change.");
            Compiled::default()
        }
    }
}

impl ListSink for TextRules {
    fn apply(&self, update: &ListUpdate, meta: &ListMeta) {
        self.apply_update(update, meta, takedown_hashlists::store::now_ms());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> Entry {
        Entry::new(SignalType::TextRegex, pattern).unwrap()
    }

    fn full(list: &ListId, entries: Vec<Entry>) -> ListUpdate {
        ListUpdate::Full {
            list: list.clone(),
            version: 1,
            entries,
        }
    }

    #[test]
    fn rules_hit_once_each_case_insensitively_and_follow_changes() {
        let list = ListId::parse("urls").unwrap();
        let meta = ListMeta::new(list.clone(), "urls");
        let rules = TextRules::default();
        let outlet = rule(r"https?://(www\.)?outlet\.example/\S*");
        let handle = rule(r"@propaganda_[a-z]+");
        let md5 = Entry::new(SignalType::Md5, "d35c785545392755e7e4164457657269").unwrap();
        rules.apply_update(
            &full(&list, vec![outlet.clone(), handle.clone(), md5]),
            &meta,
            0,
        );
        assert_eq!(rules.len(), 2, "hash entries are not text rules");

        let text =
            "Read HTTPS://outlet.example/a and https://outlet.example/b, follow @Propaganda_News";
        let mut hits = rules.hits(text);
        hits.sort_by(|a, b| a.rule.cmp(&b.rule));
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].rule, handle.key());
        assert_eq!(hits[0].matched, "@Propaganda_News");
        assert_eq!(hits[1].rule, outlet.key());
        assert_eq!(hits[1].matched, "HTTPS://outlet.example/a");
        assert!(
            rules
                .hits("nothing to see at https://news.example/")
                .is_empty()
        );

        let deleted = ListUpdate::Changes {
            list: list.clone(),
            from: 1,
            to: 2,
            changes: vec![Change::Deleted { key: outlet.key() }],
        };
        rules.apply_update(&deleted, &meta, 0);
        let hits = rules.hits(text);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].rule, handle.key());
    }

    #[test]
    fn allow_lists_and_disabled_rules_do_not_apply() {
        let allow_id = ListId::parse("benign").unwrap();
        let mut allow = ListMeta::new(allow_id.clone(), "benign");
        allow.kind = ListKind::Allow;
        let rules = TextRules::default();
        rules.apply_update(&full(&allow_id, vec![rule("hello")]), &allow, 0);
        assert!(rules.hits("hello world").is_empty());

        let block_id = ListId::parse("block").unwrap();
        let block = ListMeta::new(block_id.clone(), "block");
        let mut disabled = rule("hello");
        disabled.disabled = Some(takedown_hashlists::model::Disabled {
            reason: "false positive".into(),
            actor: "t".into(),
            at_ms: 0,
            until_ms: Some(1_000),
        });
        rules.apply_update(&full(&block_id, vec![disabled]), &block, 500);
        assert!(rules.hits("hello world").is_empty());
        // The same rule once its disablement has lapsed.
        rules.apply_update(&full(&block_id, vec![rule("hello")]), &block, 2_000);
        assert_eq!(rules.hits("hello world").len(), 1);
    }

    #[test]
    fn long_fragments_are_cut() {
        let list = ListId::parse("long").unwrap();
        let meta = ListMeta::new(list.clone(), "long");
        let rules = TextRules::default();
        rules.apply_update(&full(&list, vec![rule("a+")]), &meta, 0);
        let hit = &rules.hits(&"a".repeat(1000))[0];
        assert_eq!(hit.matched.chars().count(), MAX_FRAGMENT_CHARS);
    }
}
