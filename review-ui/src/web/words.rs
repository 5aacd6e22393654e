//! The words the pages use for the engine's codes.
//!
//! Moderators and compliance officers read these pages all day; `art2_7_a`,
//! `not_terrorist_content` or a nanosecond timestamp make them translate in their heads, and
//! a mistranslated ground is a wrong statement of reasons. Every code a page shows goes
//! through here: grounds with the wording of Art. 2(7) of Regulation 2021/784, outcomes,
//! sources, SLA classes and states in plain words, ids shortened (the full id stays in the
//! page for hover and copy), and one timestamp format.

use time::OffsetDateTime;

/// An Art. 2(7) ground code (`art2_7_a` … `art2_7_e`) in the Regulation's words.
pub(crate) fn ground(code: &str) -> &'static str {
    match code {
        "art2_7_a" => {
            "Art. 2(7)(a): incites the commission of terrorist offences, including by glorifying them"
        }
        "art2_7_b" => {
            "Art. 2(7)(b): solicits a person or group to commit or contribute to terrorist offences"
        }
        "art2_7_c" => {
            "Art. 2(7)(c): solicits a person or group to participate in the activities of a terrorist group"
        }
        "art2_7_d" => {
            "Art. 2(7)(d): instructs on making or using explosives, weapons or other hazardous substances, or other methods, for terrorist offences"
        }
        "art2_7_e" => "Art. 2(7)(e): threatens to commit a terrorist offence",
        _ => "a ground this version does not know",
    }
}

/// A decision outcome code in words.
pub(crate) fn outcome(code: &str) -> &str {
    match code {
        "remove" => "Removed",
        "disable" => "Access disabled in some territories",
        "restore" => "Restored",
        "not_terrorist_content" => "Not terrorist content",
        "escalate" => "Escalated to a senior moderator",
        "threat_to_life" => "Threat to life (authorities informed)",
        other => other,
    }
}

/// A purpose exemption (Art. 1(3)) code in words.
pub(crate) fn exemption(code: &str) -> &str {
    match code {
        "educational" => "educational purpose",
        "journalistic" => "journalistic purpose",
        "artistic" => "artistic purpose",
        "research" => "research purpose",
        "countering_terrorism" => "preventing or countering terrorism",
        other => other,
    }
}

/// A case source or SLA class code in words.
pub(crate) fn source(code: &str) -> &str {
    match code {
        "removal_order" => "Removal order (TCO, 1 h)",
        "trusted_notice" => "Trusted flagger notice",
        "notice" => "Notice",
        "hash_match" => "Hash-list match",
        "complaint" => "Complaint",
        "au_removal_notice" => "Australian removal notice",
        "netzdg_manifest" => "NetzDG, manifestly unlawful",
        "netzdg_other" => "NetzDG, other",
        other => other,
    }
}

/// A case or queue state code in words.
pub(crate) fn state(code: &str) -> &str {
    match code {
        "open" => "Open",
        "queued" => "Waiting",
        "escalated" => "Escalated",
        "claimed" => "Claimed",
        "decided" => "Decided",
        "suspended" => "Suspended (clarification asked)",
        "purged" => "Purged",
        other => other,
    }
}

/// A case id shortened for reading: its prefix and the first 8 characters of its hash
/// (`m-1a2b3c4d…`). Ids of another shape are left whole.
pub(crate) fn short_id(id: &str) -> String {
    match id.split_once('-') {
        Some((prefix, hash)) if hash.len() > 10 && hash.is_ascii() => {
            format!("{prefix}-{}…", &hash[..8])
        }
        _ => id.to_string(),
    }
}

/// A time in the one format the pages use, in UTC (`2026-06-01 12:00:05 UTC`); the page's
/// script shows it in the viewer's time zone and keeps this as the hover text.
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
    utc(t, ' ', " UTC")
}

/// A time as the `datetime` attribute of a `<time>` element (RFC 3339, whole seconds).
pub(crate) fn machine_time(t: OffsetDateTime) -> String {
    utc(t, 'T', "Z")
}

/// `t` in UTC to the second, date and time joined by `between`, followed by `zone`.
fn utc(t: OffsetDateTime, between: char, zone: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}{between}{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes_read_as_words() {
        assert!(ground("art2_7_a").contains("glorifying"));
        assert!(ground("art2_7_d").contains("explosives"));
        assert!(ground("art2_7_e").starts_with("Art. 2(7)(e)"));
        assert_eq!(outcome("not_terrorist_content"), "Not terrorist content");
        assert_eq!(source("hash_match"), "Hash-list match");
        assert_eq!(source("removal_order"), "Removal order (TCO, 1 h)");
        assert_eq!(state("suspended"), "Suspended (clarification asked)");
        assert_eq!(
            exemption("countering_terrorism"),
            "preventing or countering terrorism"
        );
        // Unknown codes are shown as they are, never hidden.
        assert_eq!(outcome("something_new"), "something_new");
    }

    #[test]
    fn ids_shorten_and_times_have_one_format() {
        assert_eq!(
            short_id("m-0123456789abcdef0123456789abcdef"),
            "m-01234567…"
        );
        assert_eq!(short_id("short"), "short");
        assert_eq!(short_id("o-abc"), "o-abc");
        let t = datetime!(2026-06-01 14:00:05.123456789 +02:00);
        assert_eq!(timestamp(t), "2026-06-01 12:00:05 UTC");
        assert_eq!(machine_time(t), "2026-06-01T12:00:05Z");
    }
}
