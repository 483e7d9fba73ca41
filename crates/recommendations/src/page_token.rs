//! `SearchBooks` page tokens: `<offset>.<fingerprint>` — where the next page starts, and 16 hex
//! digits hashing the search the token belongs to (the query's canonical words and the
//! category; see [`SearchFingerprint`]). `ListBooks` tokens have the same form, the offset being
//! the last id listed.
//!
//! So a token sent with another query or category is refused rather than silently followed
//! (AIP-158).
//! Queries with the same canonical words (see `query.rs`: differing only in case, spacing,
//! word order, repeated words, or words contained in another word of the query) find the same
//! books, so they are the same search and share tokens; the page size may change from page to
//! page. Tokens do not expire, and they outlive changes to the catalog: a search page continues
//! at its offset in the catalog of the moment (a book added or removed before it moves the
//! others by one, so one may be skipped or shown twice — rather than every reader's next page
//! failing after each write, or on a replica a second behind). Only the
//! canonical form written here is read back, so a token is either one this service wrote or
//! refused.

use crate::catalog::Category;
use crate::error::{Error, PageTokenProblem};

/// The token of the page starting at match number `offset` of the search with `fingerprint`.
pub(crate) fn write(offset: usize, fingerprint: u64) -> String {
    format!("{offset}.{fingerprint:016x}")
}

/// Where the page of `token` starts (0 for the empty token of a first page), if it is a token
/// of the search with `fingerprint`. A token never points at match 0 (that page has the empty
/// token), so `0.…` is malformed.
pub(crate) fn read(token: &str, fingerprint: u64) -> Result<usize, Error> {
    if token.is_empty() {
        return Ok(0);
    }
    let (offset, hash) = token.split_once('.').ok_or_else(malformed)?;
    let canonical = offset.bytes().all(|byte| byte.is_ascii_digit())
        && !offset.starts_with('0')
        && hash.len() == 16
        && hash
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
    if !canonical {
        return Err(malformed());
    }
    // An empty or overlong offset fails to parse; 16 hex digits always fit a u64.
    let offset: usize = offset.parse().map_err(|_| malformed())?;
    let hash = u64::from_str_radix(hash, 16).map_err(|_| malformed())?;
    if hash != fingerprint {
        return Err(Error::InvalidPageToken {
            problem: PageTokenProblem::OtherSearch,
        });
    }
    Ok(offset)
}

/// The error for a token this service did not write.
pub(crate) fn malformed() -> Error {
    Error::InvalidPageToken {
        problem: PageTokenProblem::Malformed,
    }
}

/// A hash binding tokens to one search: 64-bit FNV-1a, which is the same in every
/// build and on every machine, so a token stays valid across restarts and replicas serving the
/// same catalog (std's `DefaultHasher` promises neither).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SearchFingerprint(u64);

impl SearchFingerprint {
    /// The hash of nothing yet.
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Hashes `bytes` in.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> &mut Self {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// The fingerprint of a search for `words` (canonical, so in one order) in `category` of
    /// the catalog hashed so far.
    pub(crate) fn of_search(
        mut self,
        words: &[impl AsRef<str>],
        category: Option<Category>,
    ) -> u64 {
        self.write(category.map_or("*", Category::slug).as_bytes());
        for word in words {
            // A separator, so ["ab", "c"] and ["a", "bc"] differ.
            self.write(&[0]).write(word.as_ref().as_bytes());
        }
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(token: &str, fingerprint: u64) -> Option<PageTokenProblem> {
        match read(token, fingerprint) {
            Ok(_) => None,
            Err(Error::InvalidPageToken { problem }) => Some(problem),
            Err(error) => panic!("{error:?}"),
        }
    }

    #[test]
    fn reads_what_it_writes() {
        assert_eq!(read("", 7).unwrap(), 0);
        for (offset, fingerprint) in [(1, 0), (20, 0xdead_beef), (usize::MAX, u64::MAX)] {
            assert_eq!(
                read(&write(offset, fingerprint), fingerprint).unwrap(),
                offset
            );
        }
        assert_eq!(write(40, 0xab), "40.00000000000000ab");
    }

    #[test]
    fn refuses_tokens_of_other_searches() {
        let token = write(20, 1);
        assert_eq!(problem(&token, 2), Some(PageTokenProblem::OtherSearch));
    }

    #[test]
    fn refuses_anything_but_the_canonical_form() {
        let hash = "00000000000000ab";
        for token in [
            "x".to_owned(),
            "20".to_owned(),
            ".".to_owned(),
            format!("0.{hash}"),
            format!("020.{hash}"),
            format!("+20.{hash}"),
            format!("-20.{hash}"),
            format!(".{hash}"),
            format!("20.{}", hash.to_uppercase()),
            format!("20.{hash}0"),
            format!("20.{}", &hash[1..]),
            format!("20. {}", &hash[1..]),
            format!("20.{hash}.1"),
            format!("{}0.{hash}", usize::MAX),
            format!("٢.{hash}"),
        ] {
            assert_eq!(
                problem(&token, 0xab),
                Some(PageTokenProblem::Malformed),
                "{token}"
            );
        }
    }

    #[test]
    fn every_search_has_its_own_fingerprint() {
        let catalog = *SearchFingerprint::new().write(b"catalog");
        let searches = [
            (vec![], None),
            (vec![], Some(Category::Mystery)),
            (vec!["dune"], None),
            (vec!["dune"], Some(Category::ScienceFiction)),
            (vec!["ab", "c"], None),
            (vec!["a", "bc"], None),
            (vec!["abc"], None),
        ];
        let fingerprints: std::collections::HashSet<u64> = searches
            .iter()
            .map(|(words, category)| catalog.of_search(words, *category))
            .collect();
        assert_eq!(fingerprints.len(), searches.len());
        let other_catalog = *SearchFingerprint::new().write(b"catalog2");
        assert_ne!(
            catalog.of_search(&["dune"], None),
            other_catalog.of_search(&["dune"], None)
        );
    }
}
