//! The post's text on the case page: defanged, the spans a text rule matched marked, and
//! collapsed until the moderator opens it.
//!
//! Text is content too: propaganda and threats read as hard as they look. So the text is
//! never shown open (a `<details>` the moderator expands, key `t`), links in it cannot be
//! followed by accident (`hxxps[://]example[.]com`), and the text of the most severe cases is
//! blurred even when expanded, like media, until asked for.

use super::view::defang;
use takedown_review::model::MatchRecord;

/// The most severe list severity, whose text is blurred even when expanded.
const VEILED_SEVERITY: &str = "critical";

/// The post text as the case page shows it.
pub(crate) struct PostTextView {
    /// The text in pieces, each defanged, `true` for a piece a text rule matched.
    pub pieces: Vec<(String, bool)>,
    /// Characters kept.
    pub chars: usize,
    /// Characters the post had, when it was cut (0 otherwise).
    pub cut_from: usize,
}

impl PostTextView {
    /// The view of `text` for a case with `matches`.
    pub(crate) fn of(text: &takedown_core::messages::PostText, matches: &[MatchRecord]) -> Self {
        let spans: Vec<&str> = matches
            .iter()
            .filter(|m| is_text_rule(&m.entry))
            .map(|m| m.query_hash.as_str())
            .collect();
        PostTextView {
            pieces: split_marked(&text.text, &spans)
                .into_iter()
                .map(|(piece, marked)| (defang_text(piece), marked))
                .collect(),
            chars: text.text.chars().count(),
            cut_from: text.cut_from.unwrap_or(0),
        }
    }
}

/// Whether the case's text (the post's and the matched spans) stays blurred until the
/// moderator asks: a match on a list of the most severe kind.
pub(crate) fn veils_text(matches: &[MatchRecord]) -> bool {
    matches.iter().any(|m| m.severity == VEILED_SEVERITY)
}

/// Whether a list entry key names a text rule (its type prefix).
pub(crate) fn is_text_rule(entry: &str) -> bool {
    matches!(
        entry.split_once(':').map(|(t, _)| t),
        Some("text_regex" | "url" | "url_md5" | "raw_text")
    )
}

/// `text` cut into pieces at every occurrence of any of `spans` (the earliest first, the
/// longest at the same place; overlaps merged), each marked whether it is such an occurrence.
fn split_marked<'a>(text: &'a str, spans: &[&str]) -> Vec<(&'a str, bool)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for span in spans.iter().filter(|s| !s.is_empty()) {
        ranges.extend(text.match_indices(span).map(|(at, s)| (at, at + s.len())));
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end) in merged {
        if start > at {
            out.push((&text[at..start], false));
        }
        out.push((&text[start..end], true));
        at = end;
    }
    if at < text.len() || out.is_empty() {
        out.push((&text[at..], false));
    }
    out
}

/// `text` with every link in it defanged: each whitespace-separated word holding `://` or
/// starting with `www.`.
pub(crate) fn defang_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut word_start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = word_start.take() {
                out.push_str(&defang_word(&text[s..i]));
            }
            out.push(c);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(s) = word_start {
        out.push_str(&defang_word(&text[s..]));
    }
    out
}

fn defang_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if let Some(at) = lower.find("://") {
        // Keep what precedes the scheme (a bracket, a quote) as it is.
        let scheme_start = lower[..at]
            .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '-' && c != '.')
            .map_or(0, |i| i + 1);
        format!("{}{}", &word[..scheme_start], defang(&word[scheme_start..]))
    } else if lower.starts_with("www.") {
        defang(word)
    } else {
        word.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_text_are_defanged_and_other_words_kept() {
        assert_eq!(
            defang_text("join us at https://evil.example/path?q=1 now"),
            "join us at hxxps[://]evil[.]example/path?q=1 now"
        );
        assert_eq!(
            defang_text("(see HTTP://a.b.c) and www.x.org/y\n\nend."),
            "(see HXXP[://]a[.]b[.]c) and www[.]x[.]org/y\n\nend."
        );
        assert_eq!(defang_text("no links. just text"), "no links. just text");
        assert_eq!(defang_text("  "), "  ");
    }

    #[test]
    fn matched_spans_are_cut_out_merged_and_marked() {
        assert_eq!(
            split_marked("a bad word and a bad word", &["bad word"]),
            vec![
                ("a ", false),
                ("bad word", true),
                (" and a ", false),
                ("bad word", true)
            ]
        );
        // Overlapping spans become one; a span at the start and at the end.
        assert_eq!(
            split_marked("abcdef", &["abc", "bcd", "f"]),
            vec![("abcd", true), ("e", false), ("f", true)]
        );
        assert_eq!(split_marked("plain", &[]), vec![("plain", false)]);
        assert_eq!(split_marked("plain", &[""]), vec![("plain", false)]);
        assert_eq!(split_marked("", &["x"]), vec![("", false)]);
    }

    #[test]
    fn only_text_rule_entries_mark_spans() {
        assert!(is_text_rule("text_regex:(?i)attack"));
        assert!(is_text_rule("url:https://x.example/"));
        assert!(is_text_rule("url_md5:0123"));
        assert!(is_text_rule("raw_text:hello"));
        assert!(!is_text_rule("pdq:00ff"));
        assert!(!is_text_rule("md5:00ff"));
        assert!(!is_text_rule("text_regex"));
    }
}
