//! Essay ids: short, URL-safe and unique, derived from file names.

use std::collections::HashSet;

use crate::text::names::{slugify, stable_hash};

/// Longest essay id; leaves room for `_<paragraph>-<window>` in a 32-byte passage id.
pub(crate) const MAX_ESSAY_ID: usize = 20;

/// Gives each essay a short, URL-safe, unique id from its file name.
///
/// Ids depend on the order files are offered in (a clash is settled in
/// favour of the first), so essays must be offered in [`super::scan`] order.
#[derive(Debug, Default)]
pub(crate) struct IdAllocator {
    taken: HashSet<String>,
}

impl IdAllocator {
    /// The id for the file at `rel_name` (relative to the corpus folder).
    pub fn allocate(&mut self, rel_name: &str) -> String {
        let stem = rel_name.rsplit_once('.').map_or(rel_name, |(s, _)| s);
        let mut slug = slugify(stem);
        if slug.len() > MAX_ESSAY_ID || slug.is_empty() {
            slug = hashed_slug(&slug, rel_name);
        }
        if !self.taken.insert(slug.clone()) {
            slug = hashed_slug(&slug, rel_name);
            while !self.taken.insert(slug.clone()) {
                slug = hashed_slug(&slug, &slug.clone());
            }
        }
        slug
    }
}

fn hashed_slug(slug: &str, key: &str) -> String {
    let prefix: String = slug.chars().take(MAX_ESSAY_ID - 5).collect();
    let prefix = prefix.trim_end_matches('-');
    let hash = stable_hash(key.as_bytes()) & 0xffff;
    if prefix.is_empty() {
        format!("e{hash:04x}")
    } else {
        format!("{prefix}-{hash:04x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_unique_and_url_safe() {
        let mut ids = IdAllocator::default();
        let a = ids.allocate("Federalist 10.md");
        assert_eq!(a, "federalist-10");
        let b = ids.allocate("federalist-10.txt");
        assert_ne!(a, b);
        let long = ids.allocate("a very long file name that goes on and on.md");
        assert!(long.len() <= MAX_ESSAY_ID, "{long}");
        let weird = ids.allocate("日本語.md");
        assert!(!weird.is_empty());
        for id in [a, b, long, weird] {
            assert!(id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
        }
    }
}
