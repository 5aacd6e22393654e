//! URL and raw-text signals as python-threatexchange computes them, side by side.
//!
//! `tests/pytx/text_signals.py` (the venv of `scripts/pytx-venv`) runs pytx's own
//! `UrlMD5Signal.hash_from_str`, `common.normalize_string` and `RawTextSignal.matches_str` on
//! generated cases; ours must agree on every one: URL digests of odd URLs (case, empty queries
//! and fragments, missing `//`, no scheme), normalised texts (accents, ligatures, Greek,
//! punctuation, pytx's U+0001 quirk) and match verdicts of texts edited around the 5 % bound.

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use takedown_core::text_signal::{RawTextNeedle, normalize_text, url_md5};

#[path = "pytx/python.rs"]
mod python;
use python::pytx_python;

/// A small deterministic generator (xorshift), so the cases are the same on every run.
struct Cases(u64);

impl Cases {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn word(&mut self) -> String {
        let len = 1 + self.next(9);
        (0..len)
            .map(|_| (b'a' + self.next(26) as u8) as char)
            .collect()
    }

    fn sentence(&mut self, words: usize) -> String {
        let sep = [" ", ", ", " - ", ": ", "! ", " ... "];
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push_str(sep[self.next(sep.len())]);
            }
            let w = self.word();
            out.push_str(&if self.next(4) == 0 {
                w.to_uppercase()
            } else {
                w
            });
        }
        out
    }

    /// `text` with `edits` random single-letter edits (insert, delete, substitute).
    fn edited(&mut self, text: &str, edits: usize) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..edits {
            let at = self.next(chars.len().max(1));
            let letter = (b'a' + self.next(26) as u8) as char;
            match self.next(3) {
                0 => chars.insert(at, letter),
                1 if chars.len() > 1 => {
                    chars.remove(at);
                }
                _ => {
                    let at = at.min(chars.len() - 1);
                    chars[at] = letter;
                }
            }
        }
        chars.into_iter().collect()
    }
}

#[test]
fn url_digests_normalised_texts_and_text_verdicts_equal_pytx_s() {
    let mut cases = Cases(0x9e37_79b9_7f4a_7c15);
    let mut urls: Vec<String> = [
        "https://developers.facebook.com/docs/threat-exchange/reference/apis/",
        "HtTPs://wWw.faCeBook.cOM",
        "http://a.example/x?#",
        "http://a.example/x?q=1#",
        "http://a.example/#top",
        "http://a.example/x;p?#",
        "http:a.example",
        "http:/x",
        "http:",
        "a.example/x",
        "1http://a",
        "mailto:x@a.example",
        "ftp://files.example/a b",
        "https://outlet.example/ÄÖ/é?x=Ü",
        "https://a.example/path?q=a://b",
    ]
    .map(String::from)
    .to_vec();
    for _ in 0..200 {
        let scheme = ["http://", "https://", "HTTPS://", "", "ftp://"][cases.next(5)];
        let query = ["", "?", "?id=7", "#", "?#", "?a=1#frag", "/"][cases.next(7)];
        urls.push(format!(
            "{scheme}{}.{}/{}{query}",
            cases.word(),
            ["com", "example", "ORG"][cases.next(3)],
            cases.word()
        ));
    }
    let mut texts: Vec<String> = [
        "The Quick, brown FOX!",
        "ãóë café_x",
        "w0000000t",
        "ab\u{1}\u{1}c",
        "ﬁ ①",
        "Ελληνικά 123",
        "!!! ...",
        "Straße İstanbul ǅ",
        "日本語のテキスト",
    ]
    .map(String::from)
    .to_vec();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for _ in 0..400 {
        let words = 2 + cases.next(20);
        let entry = cases.sentence(words);
        // Around the bound: up to twice the edits 5 % of the length allows.
        let allowed = normalize_text(&entry).chars().count() / 20;
        let edits = cases.next(2 * allowed + 2);
        let post = cases.edited(&entry, edits);
        texts.push(entry.clone());
        pairs.push((entry, post));
    }

    let cases = json!({"urls": urls, "texts": texts, "pairs": pairs});
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pytx/text_signals.py");
    let mut child = Command::new(pytx_python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pytx's python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "text_signals.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pytx: Value = serde_json::from_slice(&out.stdout).unwrap();

    for (url, theirs) in urls.iter().zip(pytx["url_md5"].as_array().unwrap()) {
        assert_eq!(url_md5(url), theirs.as_str().unwrap(), "url_md5 of {url:?}");
    }
    for (text, theirs) in texts.iter().zip(pytx["normalized"].as_array().unwrap()) {
        assert_eq!(normalize_text(text), theirs.as_str().unwrap(), "{text:?}");
    }
    let verdicts = pytx["matches"].as_array().unwrap();
    let (mut matched, mut refused) = (0, 0);
    for ((entry, post), theirs) in pairs.iter().zip(verdicts) {
        let haystack: Vec<char> = normalize_text(post).chars().collect();
        let ours = RawTextNeedle::new(entry).is_some_and(|n| n.matches(&haystack));
        assert_eq!(
            Some(ours),
            theirs.as_bool(),
            "raw_text {entry:?} against {post:?}"
        );
        if ours {
            matched += 1;
        } else {
            refused += 1;
        }
    }
    // The cases straddle the bound: both verdicts occur often.
    assert!(
        matched > 100 && refused > 100,
        "{matched} matched, {refused} not"
    );
}
