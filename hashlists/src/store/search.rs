//! Searching one list's entries by key prefix (`pdq:ab12…`, or a bare hex prefix of any
//! signal type) and label, a page at a time, for the curators' list browser.
//!
//! The entries hash has no secondary index, so a search is an `HSCAN` with a key pattern,
//! resumed from a cursor: one call looks at no more than a given budget of fields and returns
//! the cursor to continue from, so no request walks a whole large list. It reads the
//! materialised entries: a version committed but not yet materialised (seconds, while an
//! import finishes) is not seen until it is.

use super::handle::{Store, StoreError, decode_entry};
use crate::model::{Entry, ListId};

/// What a search looks for (empty = anything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryQuery {
    /// The start of the entry key (`pdq:ab12`), or of its value alone (`ab12`): lowercase
    /// letters, digits, `:` `_` `-` only.
    pub key_prefix: String,
    /// A label, or the start of one (`gifct:` for a family).
    pub label: String,
}

/// One page of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryPage {
    /// Matching entries, in the hash's (arbitrary but stable) scan order.
    pub entries: Vec<Entry>,
    /// The cursor to continue from; 0 when the list has been searched to its end.
    pub cursor: u64,
    /// Fields looked at (approximately: Redis returns whole batches).
    pub scanned: u64,
}

impl EntryQuery {
    /// The `HSCAN MATCH` pattern, or an error naming the bad prefix.
    fn pattern(&self) -> Result<String, StoreError> {
        let p = self.key_prefix.trim();
        if !p
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b":_-".contains(&b))
        {
            return Err(StoreError::InvalidValue(format!(
                "hash prefix {p:?}: use lowercase hex, optionally after the signal type (pdq:ab12)"
            )));
        }
        Ok(match p {
            "" => "*".into(),
            p if p.contains(':') => format!("{p}*"),
            p => format!("*:{p}*"),
        })
    }

    fn matches(&self, e: &Entry) -> bool {
        self.label.is_empty() || e.labels.iter().any(|l| l.starts_with(&self.label))
    }
}

impl Store {
    /// About `want` (at most about twice that) entries of `list` matching `query`, from
    /// `cursor` (0 = the start), looking at no more than about `budget` fields.
    pub async fn search_entries(
        &self,
        list: &ListId,
        query: &EntryQuery,
        cursor: u64,
        want: usize,
        budget: u64,
    ) -> Result<EntryPage, StoreError> {
        let pattern = query.pattern()?;
        // Batches of about `want` fields: a page holds at most about twice `want` entries
        // (Redis cannot stop inside a batch and resume there).
        let batch_size = want.max(10) as u64;
        let keys = self.keys(list);
        let mut conn = self.conn.clone();
        let mut page = EntryPage {
            cursor,
            ..EntryPage::default()
        };
        loop {
            let (next, batch): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
                .arg(&keys.entries)
                .arg(page.cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(batch_size)
                .query_async(&mut conn)
                .await?;
            // COUNT is about how many fields Redis looks at, matching or not.
            page.scanned += batch_size.max(batch.len() as u64);
            for (_, json) in batch {
                let e = decode_entry(&keys.entries, &json)?;
                if query.matches(&e) {
                    page.entries.push(e);
                }
            }
            page.cursor = next;
            if next == 0 || page.entries.len() >= want || page.scanned >= budget {
                return Ok(page);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_become_safe_patterns() {
        let q = |p: &str| EntryQuery {
            key_prefix: p.into(),
            label: String::new(),
        };
        assert_eq!(q("").pattern().unwrap(), "*");
        assert_eq!(q("pdq:ab").pattern().unwrap(), "pdq:ab*");
        assert_eq!(q("ab12").pattern().unwrap(), "*:ab12*");
        for bad in ["a*", "a?", "[ab]", "AB", "a b", "a\\b"] {
            assert!(q(bad).pattern().is_err(), "{bad}");
        }
    }
}
