//! A `SearchBooks` query, checked against its limits and reduced to the words a book must
//! contain — the fewest that say the same thing, in one order, so that matching does no
//! needless work and queries that find the same books share page tokens.
//!
//! # Matching
//!
//! The query is lowercased (Unicode, `str::to_lowercase`) and split at whitespace; a book
//! matches when every word is a substring of its lowercased title or of its lowercased author.
//! An empty query matches every book.
//!
//! # Limits
//!
//! A query has at most [`MAX_QUERY_CHARS`] characters and at most [`MAX_QUERY_WORDS`]
//! different words (compared after lowercasing, so `the THE the` is one word); past either it
//! is refused with INVALID_ARGUMENT. The word cap bounds the substring tests a search makes per
//! book, which would otherwise grow to one per word of a 200-character query.
//!
//! # Canonical words
//!
//! Repeating a word, reordering words, or adding a word that is part of another word of the
//! query (`the` beside `theory`) does not change which books match, so the canonical words
//! are the different words, sorted, without those contained in another. Page tokens are bound
//! to these canonical words (see `page_token.rs`).

use crate::error::Error;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The most different words (after lowercasing) a query may have. Sixteen is far more than a
/// title-and-author search needs, and keeps a search's work per book small.
pub const MAX_QUERY_WORDS: usize = 16;

/// The canonical words of an accepted query (see the module docs).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Query {
    /// Lowercased, sorted, different, none contained in another.
    words: Vec<String>,
}

impl Query {
    /// Checks `query` against the limits and makes its words canonical.
    pub(crate) fn parse(query: &str) -> Result<Self, Error> {
        let length = query.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(Error::QueryTooLong {
                length,
                max: MAX_QUERY_CHARS,
            });
        }
        let lowercase = query.to_lowercase();
        let mut words: Vec<&str> = lowercase.split_whitespace().collect();
        words.sort_unstable();
        words.dedup();
        if words.len() > MAX_QUERY_WORDS {
            return Err(Error::TooManyWords {
                count: words.len(),
                max: MAX_QUERY_WORDS,
            });
        }
        // Different words, so one containing another is longer than it. At most 16² tests.
        let words = words
            .iter()
            .filter(|word| {
                !words
                    .iter()
                    .any(|other| other.len() > word.len() && other.contains(**word))
            })
            .map(|word| (*word).to_owned())
            .collect();
        Ok(Self { words })
    }

    /// The canonical words, in order.
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether the query has no words, and so matches every book.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether `haystack` (a book's lowercased title and author) contains every word.
    pub(crate) fn matches(&self, haystack: &str) -> bool {
        self.words
            .iter()
            .all(|word| haystack.contains(word.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(query: &str) -> Vec<String> {
        Query::parse(query).unwrap().words
    }

    #[test]
    fn words_are_lowercased_sorted_different_and_not_part_of_another() {
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words(" \t\n "), Vec::<String>::new());
        assert_eq!(words("  DUNE   herbert "), ["dune", "herbert"]);
        assert_eq!(words("herbert dune"), ["dune", "herbert"]);
        assert_eq!(words("the THE the"), ["the"]);
        assert_eq!(words("the theory of THEM"), ["of", "them", "theory"]);
        assert_eq!(words("a an and"), ["and"]);
        assert_eq!(words("BRONTË brontë"), ["brontë"]);
    }

    #[test]
    fn the_canonical_words_match_what_the_query_matches() {
        let haystack = "the theory of everything\nstephen hawking";
        for query in ["the theory", "THEORY the the", "hawking ever the", "x the"] {
            let every_word = query
                .to_lowercase()
                .split_whitespace()
                .all(|word| haystack.contains(word));
            assert_eq!(
                Query::parse(query).unwrap().matches(haystack),
                every_word,
                "{query}"
            );
        }
    }

    #[test]
    fn at_most_16_different_words() {
        let letters: Vec<String> = ('a'..='q').map(String::from).collect();
        assert_eq!(letters.len(), MAX_QUERY_WORDS + 1);
        let sixteen = letters[..MAX_QUERY_WORDS].join(" ");
        assert_eq!(words(&sixteen).len(), MAX_QUERY_WORDS);
        let error = Query::parse(&letters.join(" ")).unwrap_err();
        assert!(matches!(error, Error::TooManyWords { count: 17, max: 16 }));
        assert_eq!(
            error.to_string(),
            "query must have at most 16 different words, got 17"
        );
        // Repeats and case do not count; 100 one-letter words of 16 letters are 16 words.
        let repeated: Vec<&str> = (0..100).map(|n| letters[n % 16].as_str()).collect();
        assert_eq!(words(&repeated.join(" ").to_uppercase()).len(), 16);
        // Words inside another still count towards the limit, which is on what the client sent.
        let nested = format!("{} abcdefghijklmnopq", letters.join(" "));
        assert!(Query::parse(&nested).is_err());
    }

    #[test]
    fn long_queries_are_refused_by_characters_not_bytes() {
        let longest = "é".repeat(MAX_QUERY_CHARS);
        assert_eq!(words(&longest), std::slice::from_ref(&longest));
        let error = Query::parse(&(longest + "é")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "query must be at most 200 characters, got 201"
        );
    }
}
