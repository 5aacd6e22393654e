//! URL and raw-text signals as python-threatexchange (pytx) defines them.
//!
//! Shared lists made with pytx or HMA carry `url`, `url_md5` and `raw_text` entries next to
//! their hashes. A list is only useful if we match them exactly as the tool that made it would,
//! so the rules here follow pytx's `signal_type/{url,url_md5,raw_text}.py` and
//! `common.{normalize_url,normalize_string}`:
//!
//! - `url`: equal strings, no normalisation (pytx compares `signal == haystack`);
//! - `url_md5`: MD5 (lowercase hex) of the URL lowercased, re-serialised as Python's `urlparse`
//!   / `geturl` would, with the first `scheme://` removed;
//! - `raw_text`: both sides normalised (lowercase, compatibility decomposition without combining
//!   marks, letters and digits only), then a Levenshtein distance of at most 5 % of the
//!   entry's normalised length.
//!
//! pytx's repeat-squashing step is written `re.sub("(.)(\1)+", "\1\1", s)` without a raw
//! string, so its `\1` is the control character U+0001, not a back-reference: it deletes a
//! character followed by U+0001 and leaves real repeats alone. We do the same, so a list's
//! verdicts do not change when it moves between the tools.

use md5::{Digest, Md5};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

/// pytx's default `raw_text` threshold: the distance may be this percentage of the entry's
/// normalised length.
pub const RAW_TEXT_PCT_DIFF: f64 = 5.0;

/// pytx's `common.normalize_string`: lowercase, NFKD without combining characters, pytx's
/// U+0001 quirk, then only Unicode letters and digits.
pub fn normalize_text(text: &str) -> String {
    let decomposed: Vec<char> = text
        .to_lowercase()
        .nfkd()
        .filter(|c| canonical_combining_class(*c) == 0)
        .collect();
    let mut out = String::with_capacity(decomposed.len());
    for (i, c) in decomposed.iter().enumerate() {
        // `(.)(\x01)+` → `\x01\x01`: the character before a run of U+0001 goes (and the
        // U+0001s are not letters, so they go below too).
        if decomposed.get(i + 1) == Some(&'\u{1}') {
            continue;
        }
        if is_word_char(*c) {
            out.push(*c);
        }
    }
    out
}

/// Python's `\w` minus `_`: letters and numbers (combining marks are not letters there).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(c)
}

/// A `raw_text` entry ready to be compared: its normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTextNeedle {
    normalized: Vec<char>,
}

impl RawTextNeedle {
    /// The needle of an entry's text; `None` when it normalises to nothing (it would match
    /// every text without letters or digits).
    pub fn new(entry_text: &str) -> Option<RawTextNeedle> {
        let normalized: Vec<char> = normalize_text(entry_text).chars().collect();
        (!normalized.is_empty()).then_some(RawTextNeedle { normalized })
    }

    /// Length of the normalised text, in characters (never 0: [`RawTextNeedle::new`] refuses
    /// an empty one).
    pub fn char_len(&self) -> usize {
        self.normalized.len()
    }

    /// The largest distance that still matches (pytx: `len - len * (100 - 5) / 100`, in
    /// floating point as there).
    pub fn max_distance(&self) -> f64 {
        let len = self.normalized.len() as f64;
        len - len * (100.0 - RAW_TEXT_PCT_DIFF) / 100.0
    }

    /// Whether `haystack`, already normalised ([`normalize_text`]) and split into chars,
    /// matches: the length difference and then the Levenshtein distance within
    /// [`RawTextNeedle::max_distance`].
    pub fn matches(&self, haystack: &[char]) -> bool {
        let max = self.max_distance();
        if self.normalized.len().abs_diff(haystack.len()) as f64 > max {
            return false;
        }
        // No distance above `max` matters, so the computation stops early past it.
        levenshtein_within(&self.normalized, haystack, max.floor() as usize).is_some()
    }
}

/// The Levenshtein distance between `a` and `b` if it is at most `limit`.
fn levenshtein_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        row[0] = i + 1;
        let mut best = row[0];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            row[j + 1] = substitution.min(prev[j + 1] + 1).min(row[j] + 1);
            best = best.min(row[j + 1]);
        }
        if best > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

/// pytx's `common.normalize_url`: the URL lowercased, as `urlparse(url).geturl()` writes it
/// back, without its first `scheme://`.
pub fn normalize_url(url: &str) -> String {
    let lower = url.to_lowercase();
    let rebuilt = python_geturl(&lower);
    let scheme = python_scheme(&lower);
    rebuilt.replacen(&format!("{scheme}://"), "", 1)
}

/// `url_md5` of a URL as pytx computes it: MD5 of [`normalize_url`]'s UTF-8, lowercase hex.
pub fn url_md5(url: &str) -> String {
    hex::encode(Md5::digest(normalize_url(url).as_bytes()))
}

/// The scheme `urlsplit` finds: the text before the first `:` when it starts with a letter
/// and holds only letters, digits, `+`, `-` and `.`; otherwise none.
fn python_scheme(url: &str) -> &str {
    let Some((scheme, _)) = url.split_once(':') else {
        return "";
    };
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if valid { scheme } else { "" }
}

/// Schemes Python's `urllib.parse` writes with `//` even when the URL had none.
const USES_NETLOC: [&str; 27] = [
    "",
    "ftp",
    "http",
    "gopher",
    "nntp",
    "telnet",
    "imap",
    "wais",
    "file",
    "mms",
    "https",
    "shttp",
    "snews",
    "prospero",
    "rtsp",
    "rtsps",
    "rtspu",
    "rsync",
    "svn",
    "svn+ssh",
    "sftp",
    "nfs",
    "git",
    "git+ssh",
    "ws",
    "wss",
    "itms-services",
];

/// What `urlparse(url).geturl()` gives for a lowercased URL: the same text, except that an
/// empty fragment (`#` at the end) and an empty query (`?` right before it or at the end) are
/// dropped, as `urlunsplit` writes them only when non-empty, and that `http:x` becomes
/// `http:///x` (a netloc scheme is written with `//`). (`urlparse` keeps `;params` and the
/// rest as given.)
fn python_geturl(url: &str) -> String {
    let scheme = python_scheme(url);
    let rest = if scheme.is_empty() {
        url
    } else {
        &url[scheme.len() + 1..]
    };
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = String::with_capacity(url.len() + 3);
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(':');
        if USES_NETLOC.contains(&scheme) && !before_query.starts_with("//") {
            out.push_str("//");
            if !before_query.is_empty() && !before_query.starts_with('/') {
                out.push('/');
            }
        }
    }
    out.push_str(before_query);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_normalised_as_pytx_does() {
        // Expected values worked out by hand from pytx's steps.
        assert_eq!(normalize_text("The Quick, brown FOX!"), "thequickbrownfox");
        assert_eq!(normalize_text("ãóë café_x"), "aoecafex");
        assert_eq!(
            normalize_text("w0000000t"),
            "w0000000t",
            "real repeats stay"
        );
        assert_eq!(normalize_text("ab\u{1}\u{1}c"), "ac", "pytx's U+0001 quirk");
        assert_eq!(normalize_text("ﬁ ①"), "fi1", "compatibility decomposition");
        assert_eq!(normalize_text("Ελληνικά 123"), "ελληνικα123");
        assert_eq!(normalize_text("!!! ..."), "");
    }

    #[test]
    fn raw_text_matches_within_five_percent_of_the_entry() {
        // 40 normalised characters: at most 2.0 edits.
        let entry = "abcdefghij".repeat(4);
        let needle = RawTextNeedle::new(&entry).unwrap();
        assert_eq!(needle.char_len(), 40);
        assert!((needle.max_distance() - 2.0).abs() < 1e-9);
        let chars = |s: &str| normalize_text(s).chars().collect::<Vec<_>>();
        assert!(needle.matches(&chars(&entry.to_uppercase())));
        let mut two = entry.clone();
        two.replace_range(0..1, "x");
        two.replace_range(20..21, "y");
        assert!(needle.matches(&chars(&two)), "two substitutions");
        let mut three = two.clone();
        three.replace_range(30..31, "z");
        assert!(!needle.matches(&chars(&three)), "three substitutions");
        assert!(needle.matches(&chars(&entry[..38])), "two deletions");
        assert!(!needle.matches(&chars(&entry[..37])), "three deletions");
        assert!(!needle.matches(&chars(&format!("{entry} and much more text"))));
        assert!(RawTextNeedle::new("?!").is_none());
    }

    #[test]
    fn levenshtein_counts_insertions_deletions_and_substitutions() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(levenshtein_within(&c("kitten"), &c("sitting"), 10), Some(3));
        assert_eq!(levenshtein_within(&c("kitten"), &c("sitting"), 3), Some(3));
        assert_eq!(levenshtein_within(&c("kitten"), &c("sitting"), 2), None);
        assert_eq!(levenshtein_within(&c(""), &c("abc"), 5), Some(3));
        assert_eq!(levenshtein_within(&c("abc"), &c(""), 5), Some(3));
        assert_eq!(levenshtein_within(&c("flaw"), &c("lawn"), 5), Some(2));
        // A deletion and an insertion inside the strings, not at their start.
        assert_eq!(levenshtein_within(&c("abcd"), &c("abd"), 5), Some(1));
        assert_eq!(levenshtein_within(&c("abd"), &c("abcd"), 5), Some(1));
    }

    #[test]
    fn url_md5_is_pytx_s() {
        // pytx's own example: md5(b"developers.facebook.com/docs/threat-exchange/reference/apis/").
        let url = "https://developers.facebook.com/docs/threat-exchange/reference/apis/";
        assert_eq!(
            normalize_url(url),
            "developers.facebook.com/docs/threat-exchange/reference/apis/"
        );
        // hashlib.md5 of that normalised URL, computed with Python.
        assert_eq!(url_md5(url), "95c3a3934d38b06959d4f6d5bfe48a79");
        assert_eq!(
            normalize_url("HtTPs://wWw.faCeBook.cOM"),
            "www.facebook.com"
        );
        assert_eq!(normalize_url("http://a.example/x?#"), "a.example/x");
        assert_eq!(normalize_url("http://a.example/x?q=1#"), "a.example/x?q=1");
        assert_eq!(normalize_url("http://a.example/#top"), "a.example/#top");
        assert_eq!(normalize_url("a.example/x"), "a.example/x", "no scheme");
        assert_eq!(
            normalize_url("1http://a"),
            "1httpa",
            "not a scheme: the first :// goes"
        );
        // As Python's urlparse(…).geturl() writes them (checked with CPython).
        assert_eq!(normalize_url("http:a.example"), "/a.example");
        assert_eq!(normalize_url("http://a.example/x;p?#"), "a.example/x;p");
        assert_eq!(normalize_url("mailto:x@a.example"), "mailto:x@a.example");
        assert_eq!(
            normalize_url("http:"),
            "",
            "nothing after the scheme: nothing added"
        );
    }
}
