//! Rules shared by every intake parser that the mutation run (`docs/testing.md`) showed no
//! test pinned: a URL may use its whole byte limit and no more, and its host may neither start
//! with a dot nor end with two.

use super::*;

#[test]
fn a_url_may_use_its_whole_limit() {
    let url = |len: usize| format!("https://example.org/{}", "a".repeat(len - 20));
    assert_eq!(url(2048).len(), 2048);
    assert_eq!(check_url(&url(2048), 2048), Ok(()));
    assert_eq!(
        check_url(&url(2049), 2048),
        Err("longer than the limit for a URL")
    );
}

#[test]
fn hosts_neither_start_with_a_dot_nor_end_with_two() {
    for bad in [
        "https://.example.org/a",
        "https://example.org../a",
        "https:///a",
    ] {
        assert_eq!(
            check_url(bad, 2048),
            Err("an absolute http(s) URL with a host"),
            "{bad}"
        );
    }
    assert_eq!(check_url("https://example.org./a", 2048), Ok(()));
}
