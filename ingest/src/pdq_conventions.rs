//! Which PDQ conventions the loaded lists need, so ingest hashes each image only as needed.
//!
//! Each list records the PDQ convention its hashes were made with (reference 512×512
//! pre-resize, or full size as python-threatexchange/HMA; see
//! [`takedown_core::PdqConvention`]). Hashing an image twice costs a second full PDQ pass, so
//! ingest does it only where both conventions are in use among the loaded lists and the image
//! is over 512 pixels on a side (smaller images hash alike under both). With no list loaded,
//! the configured convention is used.

use crate::list_feed::{ListSink, update_list};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use takedown_core::PdqConvention;
use takedown_hashlists::follow::ListUpdate;
use takedown_hashlists::model::{ListId, ListMeta};

/// The PDQ convention of every loaded list, kept current by [`crate::list_feed::follow`].
#[derive(Debug, Clone, Default)]
pub struct PdqConventions {
    lists: Arc<RwLock<HashMap<ListId, PdqConvention>>>,
}

impl PdqConventions {
    /// Records `list`'s convention (on every update, so a changed one takes effect).
    pub fn set(&self, list: &ListId, convention: PdqConvention) {
        let mut lists = self.lists.write().expect("conventions lock");
        lists.insert(list.clone(), convention);
    }

    /// What to compute: the primary convention and whether to compute the other one too.
    /// `configured` is the primary when it is in use or when no list is loaded.
    pub fn needed(&self, configured: PdqConvention) -> (PdqConvention, bool) {
        let lists = self.lists.read().expect("conventions lock");
        let uses = |c| lists.values().any(|&l| l == c);
        let (reference, full) = (
            uses(PdqConvention::Reference),
            uses(PdqConvention::FullSize),
        );
        match (reference, full) {
            (true, true) => (configured, true),
            (true, false) => (PdqConvention::Reference, false),
            (false, true) => (PdqConvention::FullSize, false),
            (false, false) => (configured, false),
        }
    }
}

impl ListSink for PdqConventions {
    fn apply(&self, update: &ListUpdate, meta: &ListMeta) {
        self.set(update_list(update), meta.pdq_convention);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PdqConvention::{FullSize, Reference};

    #[test]
    fn both_only_when_both_are_in_use() {
        let c = PdqConventions::default();
        assert_eq!(
            c.needed(Reference),
            (Reference, false),
            "no lists: configured"
        );
        assert_eq!(c.needed(FullSize), (FullSize, false));
        let (a, b) = (ListId::parse("a").unwrap(), ListId::parse("b").unwrap());
        c.set(&a, FullSize);
        assert_eq!(
            c.needed(Reference),
            (FullSize, false),
            "only full-size lists"
        );
        c.set(&b, Reference);
        assert_eq!(c.needed(Reference), (Reference, true));
        assert_eq!(c.needed(FullSize), (FullSize, true));
        c.set(&a, Reference);
        assert_eq!(
            c.needed(FullSize),
            (Reference, false),
            "a changed convention counts"
        );
    }
}
