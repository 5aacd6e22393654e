//! Searching one list's entries by key prefix (`pdq:ab12…`, or a bare hex prefix of any
//! signal type) and label, a page at a time, for the curators' list browser; or every list's,
//! one list after another in name order, each result naming its list.
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

/// Where a search over every list stands: the list it is in and the cursor within it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllCursor {
    /// The list to go on in (`None`: the first); a list since deleted resumes at the next
    /// one by name.
    pub list: Option<ListId>,
    /// The cursor within that list (0: its start).
    pub cursor: u64,
}

/// One page of a search over every list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllPage {
    /// Matching entries with their lists, list by list.
    pub entries: Vec<(ListId, Entry)>,
    /// Where to go on; `None` when every list has been searched to its end.
    pub next: Option<AllCursor>,
    /// Fields looked at, over all lists.
    pub scanned: u64,
}

impl Store {
    /// About `want` entries of any list matching `query`, from `from`, looking at no more
    /// than about `budget` fields in all (so one page never walks every list).
    pub async fn search_all_lists(
        &self,
        query: &EntryQuery,
        from: &AllCursor,
        want: usize,
        budget: u64,
    ) -> Result<AllPage, StoreError> {
        query.pattern()?;
        let lists = self.list_ids().await?;
        let start = match &from.list {
            None => 0,
            Some(l) => lists.partition_point(|x| x < l),
        };
        let mut out = AllPage::default();
        let mut cursor = match lists.get(start) {
            Some(l) if Some(l) == from.list.as_ref() => from.cursor,
            _ => 0,
        };
        for list in &lists[start..] {
            let page = self
                .search_entries(
                    list,
                    query,
                    cursor,
                    want - out.entries.len(),
                    budget - out.scanned,
                )
                .await?;
            out.scanned += page.scanned;
            out.entries
                .extend(page.entries.into_iter().map(|e| (list.clone(), e)));
            if page.cursor != 0 {
                out.next = Some(AllCursor {
                    list: Some(list.clone()),
                    cursor: page.cursor,
                });
                return Ok(out);
            }
            cursor = 0;
            if out.entries.len() >= want || out.scanned >= budget {
                // This list is done: go on at the next one, if any.
                let at = lists.partition_point(|x| x <= list);
                out.next = lists.get(at).map(|l| AllCursor {
                    list: Some(l.clone()),
                    cursor: 0,
                });
                return Ok(out);
            }
        }
        Ok(out)
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
