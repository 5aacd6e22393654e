//! Names of topics and consumer groups that no other test (or test process) uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no other test uses: `prefix`, then this process's id, a per-process counter and the
/// current time in nanoseconds, joined by `-`.
///
/// Use one per test for topics and consumer groups, so tests sharing a broker (in parallel, or
/// an external broker across runs) never see each other's messages or group members.
/// Characters Kafka does not allow in topic names (anything but ASCII letters, digits, `.`, `_`
/// and `-`) are replaced in `prefix` by `-`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{}-{count}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_names_differ_and_are_valid_topic_names() {
        let names: HashSet<String> = (0..1000).map(|_| unique_name("posts")).collect();
        assert_eq!(names.len(), 1000);
        for name in &names {
            assert!(name.starts_with(&format!("posts-{}-", std::process::id())));
            assert!(name.len() < 249, "Kafka's limit on topic names");
        }
        let name = unique_name("a b/c");
        assert!(name.starts_with("a-b-c-"), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        );
    }
}
