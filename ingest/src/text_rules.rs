//! Text rules: the lists' entries that match a post's text rather than its media.
//!
//! Lists carry `text_regex` entries next to their hashes (a known propaganda outlet's URL
//! pattern, a channel handle), and lists made with python-threatexchange carry `url`,
//! `url_md5` and `raw_text` entries, matched as pytx matches them
//! ([`takedown_core::text_signal`]): a URL in the post's text equal to a `url` entry, or whose
//! pytx URL MD5 is a `url_md5` entry, and a post text within 5 % of a `raw_text` entry. The
//! ingest stage applies every enabled entry of every block list to the post and records each
//! hit in `post-signals`, so the match stage can turn it into a match like any hash. Entries
//! change with list versions, so the compiled set is rebuilt on each update and swapped behind
//! an `Arc`: a post in flight keeps the set it started with. Regular expressions number in the
//! hundreds; URLs and texts are looked up by hash and by length, so lists of them can be large.

use crate::list_feed::{ListSink, update_list};
use regex::{Regex, RegexSet, RegexSetBuilder};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use takedown_core::SignalType;
use takedown_core::messages::TextHit;
use takedown_core::text_signal::{RawTextNeedle, normalize_text, url_md5};
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

/// Where an entry is: its list and key.
type Place = (ListId, String);

/// Every rule in force, compiled together.
#[derive(Debug, Default)]
struct Compiled {
    set: Option<RegexSet>,
    rules: Vec<Rule>,
    /// `url` entries by their URL.
    urls: HashMap<String, Vec<Place>>,
    /// `url_md5` entries by their digest.
    url_md5s: HashMap<String, Vec<Place>>,
    /// `raw_text` entries, shortest normalised text first.
    texts: Vec<(RawTextNeedle, Place)>,
}

/// The text entries of one list, by entry key (enabled entries of block lists only).
#[derive(Debug, Default)]
struct ListRules {
    entries: BTreeMap<String, (SignalType, String)>,
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

/// The signal types matched against a post's text.
const TEXT_TYPES: [SignalType; 4] = [
    SignalType::TextRegex,
    SignalType::Url,
    SignalType::UrlMd5,
    SignalType::RawText,
];

fn is_rule(e: &Entry, now_ms: i64) -> bool {
    TEXT_TYPES.contains(&e.signal_type) && !e.is_disabled_at(now_ms)
}

impl TextRules {
    /// Number of entries in force (regular expressions, URLs, URL digests and texts).
    pub fn len(&self) -> usize {
        let c = self.current();
        c.rules.len()
            + c.urls.values().map(Vec::len).sum::<usize>()
            + c.url_md5s.values().map(Vec::len).sum::<usize>()
            + c.texts.len()
    }

    /// Whether no rule is in force.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> Arc<Compiled> {
        self.compiled.read().expect("rules lock").clone()
    }

    /// Every entry that matches a post with `text` and the URLs found in it, one hit per
    /// entry: for a regular expression the first matching fragment, for a URL or URL digest
    /// the URL, for a text the start of the post's text.
    pub fn hits(&self, text: &str, urls: &[String]) -> Vec<TextHit> {
        let compiled = self.current();
        let mut hits = Vec::new();
        let mut hit = |(list, key): &Place, matched: &str| {
            if !hits
                .iter()
                .any(|h: &TextHit| h.rule == *key && h.list_id == list.as_str())
            {
                hits.push(TextHit {
                    list_id: list.to_string(),
                    rule: key.clone(),
                    matched: matched.chars().take(MAX_FRAGMENT_CHARS).collect(),
                });
            }
        };
        if let Some(set) = &compiled.set {
            for i in set.matches(text).iter() {
                let rule = &compiled.rules[i];
                if let Some(found) = rule.regex.find(text) {
                    hit(&(rule.list.clone(), rule.key.clone()), found.as_str());
                }
            }
        }
        for url in urls {
            for place in compiled.urls.get(url).into_iter().flatten() {
                hit(place, url);
            }
            if !compiled.url_md5s.is_empty() {
                for place in compiled.url_md5s.get(&url_md5(url)).into_iter().flatten() {
                    hit(place, url);
                }
            }
        }
        if !compiled.texts.is_empty() {
            let haystack: Vec<char> = normalize_text(text).chars().collect();
            // Only needles whose length is within 5 % of the text's can match: those of at
            // least 100/105 of its length (and, past that, the needle's own bound decides).
            let shortest = (haystack.len() as f64 * 100.0 / 105.0).floor() as usize;
            let from = compiled
                .texts
                .partition_point(|(n, _)| n.char_len() < shortest);
            for (needle, place) in &compiled.texts[from..] {
                if needle.char_len() as f64 * 0.95 > haystack.len() as f64 + 1.0 {
                    break;
                }
                if needle.matches(&haystack) {
                    hit(place, text);
                }
            }
        }
        hits
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
                    rules.entries = entries
                        .iter()
                        .filter(|e| is_rule(e, now_ms))
                        .map(|e| (e.key(), (e.signal_type, e.value.clone())))
                        .collect();
                }
                ListUpdate::Changes { changes, .. } => {
                    for change in changes {
                        match change {
                            Change::Deleted { key } => {
                                rules.entries.remove(key);
                            }
                            other => {
                                if let Some(e) = other.entry() {
                                    if is_rule(e, now_ms) {
                                        rules
                                            .entries
                                            .insert(e.key(), (e.signal_type, e.value.clone()));
                                    } else {
                                        rules.entries.remove(&e.key());
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
    let mut lookups = Compiled::default();
    for (list, list_rules) in &state.lists {
        for (key, (signal_type, value)) in &list_rules.entries {
            let place = (list.clone(), key.clone());
            let pattern = match signal_type {
                SignalType::Url => {
                    lookups.urls.entry(value.clone()).or_default().push(place);
                    continue;
                }
                SignalType::UrlMd5 => {
                    let digest = value.to_ascii_lowercase();
                    lookups.url_md5s.entry(digest).or_default().push(place);
                    continue;
                }
                SignalType::RawText => {
                    // Validated on import: a text without letters or digits is refused there.
                    if let Some(needle) = RawTextNeedle::new(value) {
                        lookups.texts.push((needle, place));
                    }
                    continue;
                }
                _ => value,
            };
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
    lookups.texts.sort_by_key(|(needle, _)| needle.char_len());
    if rules.is_empty() {
        return lookups;
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
            ..lookups
        },
        Err(e) => {
            tracing::error!(rules = rules.len(), error = %e, "The regular expressions do not compile together; they are off until the lists change.");
            lookups
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
        let mut hits = rules.hits(text, &[]);
        hits.sort_by(|a, b| a.rule.cmp(&b.rule));
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].rule, handle.key());
        assert_eq!(hits[0].matched, "@Propaganda_News");
        assert_eq!(hits[1].rule, outlet.key());
        assert_eq!(hits[1].matched, "HTTPS://outlet.example/a");
        assert!(
            rules
                .hits("nothing to see at https://news.example/", &[])
                .is_empty()
        );

        let deleted = ListUpdate::Changes {
            list: list.clone(),
            from: 1,
            to: 2,
            changes: vec![Change::Deleted { key: outlet.key() }],
        };
        rules.apply_update(&deleted, &meta, 0);
        let hits = rules.hits(text, &[]);
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
        assert!(rules.hits("hello world", &[]).is_empty());

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
        assert!(rules.hits("hello world", &[]).is_empty());
        // The same rule once its disablement has lapsed.
        rules.apply_update(&full(&block_id, vec![rule("hello")]), &block, 2_000);
        assert_eq!(rules.hits("hello world", &[]).len(), 1);
    }

    #[test]
    fn pytx_urls_url_digests_and_texts_hit_as_pytx_matches_them() {
        let list = ListId::parse("pytx").unwrap();
        let meta = ListMeta::new(list.clone(), "pytx");
        let rules = TextRules::default();
        let url = Entry::new(SignalType::Url, "https://outlet.example/a").unwrap();
        // md5(b"outlet.example/b"), worked out with Python's hashlib: pytx's digest of
        // https://outlet.example/b (and of HTTP://Outlet.example/b? after its normalisation).
        let digest = Entry::new(SignalType::UrlMd5, "a10861707710d48a64a1fde28b318854").unwrap();
        let text = Entry::new(SignalType::RawText, "Join us, brothers: the call has come").unwrap();
        rules.apply_update(
            &full(&list, vec![url.clone(), digest.clone(), text.clone()]),
            &meta,
            0,
        );
        assert_eq!(rules.len(), 3);

        let urls = vec![
            "https://outlet.example/a".to_string(),
            "https://outlet.example/b".to_string(),
            "https://OUTLET.example/a".to_string(),
        ];
        let mut hits = rules.hits("see the links", &urls);
        hits.sort_by(|a, b| a.rule.cmp(&b.rule));
        let got: Vec<(&str, &str)> = hits
            .iter()
            .map(|h| (h.rule.as_str(), h.matched.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (url.key().as_str(), "https://outlet.example/a"),
                (digest.key().as_str(), "https://outlet.example/b"),
            ],
            "a url matches as written (not the upper-case host); its digest after pytx's \
             normalisation"
        );

        // 28 normalised characters: one edit allowed (28 × 5 % = 1.4).
        let post = "JOIN US brothers — the call has come!!";
        assert_eq!(rules.hits(post, &[])[0].rule, text.key());
        assert_eq!(
            rules
                .hits("Join us, brothers: the call has gone", &[])
                .len(),
            0
        );
        assert_eq!(
            rules
                .hits("Join us, brothers: the call has comes", &[])
                .len(),
            1
        );
        assert!(
            rules
                .hits("Join us, brothers: the call has come, now", &[])
                .is_empty()
        );

        let deleted = ListUpdate::Changes {
            list: list.clone(),
            from: 1,
            to: 2,
            changes: vec![Change::Deleted { key: text.key() }],
        };
        rules.apply_update(&deleted, &meta, 0);
        assert!(rules.hits(post, &[]).is_empty());
        assert_eq!(rules.len(), 2);
    }

    #[test]
    fn long_fragments_are_cut() {
        let list = ListId::parse("long").unwrap();
        let meta = ListMeta::new(list.clone(), "long");
        let rules = TextRules::default();
        rules.apply_update(&full(&list, vec![rule("a+")]), &meta, 0);
        let hit = &rules.hits(&"a".repeat(1000), &[])[0];
        assert_eq!(hit.matched.chars().count(), MAX_FRAGMENT_CHARS);
    }
}
