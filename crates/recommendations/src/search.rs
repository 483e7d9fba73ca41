//! Finding books by words of their title and author, a page at a time — the domain side of
//! v1's `SearchBooks`, free of any protobuf type.
//!
//! A search makes its query canonical (`query.rs`, which also describes matching and the
//! query's limits: [`MAX_QUERY_CHARS`] characters, [`MAX_QUERY_WORDS`] different words), reads
//! its page token, and takes its page from the catalog's index (`book_index.rs`). An empty
//! query is a listing: the page is a slice of the category's list, or of every book, with no
//! scan. Any other query scans the candidates once, counting every match and keeping those of
//! the page.
//!
//! # Pages
//!
//! A page holds `page_size` books (0 means [`DEFAULT_PAGE_SIZE`], more than [`MAX_PAGE_SIZE`]
//! means that), ordered by lowercased title, then id; its `next_page_token` continues the same
//! search only (see `page_token.rs`).

use crate::book_index::BookIndex;
use crate::catalog::{Book, Catalog, Category};
use crate::error::{Error, non_negative};
use crate::page_token::{self, SearchFingerprint};
use crate::query::Query;
pub use crate::query::{MAX_QUERY_CHARS, MAX_QUERY_WORDS};

/// The page size of a search that leaves `page_size` at 0.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// The most books one page holds. Larger page sizes are clamped, as `Recommend` clamps
/// `max_results`.
pub const MAX_PAGE_SIZE: usize = 100;

/// A search as the client sent it (after the category is read).
#[derive(Clone, Copy, Debug)]
pub struct Search<'a> {
    /// Words to find in titles and authors: at most [`MAX_QUERY_CHARS`] characters and
    /// [`MAX_QUERY_WORDS`] different words, or the search is refused.
    pub query: &'a str,
    /// Only this category, or every category.
    pub category: Option<Category>,
    /// Books per page as sent: 0 for the default, negative is refused.
    pub page_size: i64,
    /// Empty for the first page, else the previous page's `next_page_token`.
    pub page_token: &'a str,
}

/// One page of a search's results.
#[derive(Debug)]
pub struct SearchPage<'a> {
    /// This page's books, in search order.
    pub books: Vec<&'a Book>,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
    /// How many books match, in all pages together.
    pub total_size: usize,
}

impl Search<'_> {
    /// This search's page of the books of `catalog`, through its `index` (see the module docs).
    pub(crate) fn page<'a>(
        &self,
        index: &BookIndex,
        catalog: &'a Catalog,
    ) -> Result<SearchPage<'a>, Error> {
        let query = Query::parse(self.query)?;
        let page_size = page_size(self.page_size)?;
        let fingerprint = SearchFingerprint::new().of_search(query.words(), self.category);
        let offset = page_token::read(self.page_token, fingerprint)?;
        let window = offset..offset.saturating_add(page_size);
        let (books, total_size) = if query.is_empty() {
            index.list(catalog, self.category, window)
        } else {
            index.find(catalog, self.category, &query, window)
        };
        let next = offset + books.len();
        Ok(SearchPage {
            books,
            next_page_token: (next < total_size).then(|| page_token::write(next, fingerprint)),
            total_size,
        })
    }
}

/// The page size to use for `requested`: 0 means the default, larger than the cap means the cap.
pub fn page_size(requested: i64) -> Result<usize, Error> {
    Ok(match non_negative("page_size", requested)? {
        0 => DEFAULT_PAGE_SIZE,
        size => usize::try_from(size).map_or(MAX_PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE)),
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog with its index, as the recommender holds them.
    struct Indexed {
        catalog: Catalog,
        index: BookIndex,
    }

    impl Indexed {
        fn new(catalog: Catalog) -> Self {
            let index = BookIndex::new(&catalog);
            Self { catalog, index }
        }

        fn search(&self, search: &Search<'_>) -> Result<SearchPage<'_>, Error> {
            search.page(&self.index, &self.catalog)
        }
    }

    fn index() -> Indexed {
        Indexed::new(Catalog::built_in().unwrap())
    }

    fn search(query: &str, category: Option<Category>) -> Search<'_> {
        Search {
            query,
            category,
            page_size: 0,
            page_token: "",
        }
    }

    fn titles<'a>(page: &SearchPage<'a>) -> Vec<&'a str> {
        page.books.iter().map(|book| book.title.as_str()).collect()
    }

    #[test]
    fn every_word_must_match_title_or_author_in_any_case() {
        let index = index();
        let page = index.search(&search("  DUNE   herbert ", None)).unwrap();
        assert_eq!(titles(&page), ["The Dune Chronicles"]);
        let page = index.search(&search("herbert falcon", None)).unwrap();
        assert_eq!(page.total_size, 0);
        assert!(page.books.is_empty() && page.next_page_token.is_none());
        // A word may not straddle title and author.
        let page = index.search(&search("falcondashiell", None)).unwrap();
        assert_eq!(page.total_size, 0);
    }

    #[test]
    fn results_are_in_title_order_then_id() {
        let index = index();
        let page = index
            .search(&Search {
                page_size: 1_000,
                ..search("", None)
            })
            .unwrap();
        assert_eq!(page.books.len(), MAX_PAGE_SIZE.min(page.total_size));
        let keys: Vec<_> = page
            .books
            .iter()
            .map(|book| (book.title.to_lowercase(), book.id))
            .collect();
        assert!(keys.is_sorted(), "{keys:?}");
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(101).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(page_size(i64::MAX).unwrap(), MAX_PAGE_SIZE);
        let error = page_size(-1).unwrap_err();
        assert_eq!(error.to_string(), "page_size must not be negative, got -1");
    }

    #[test]
    fn tokens_continue_their_own_search_only() {
        let index = index();
        let mystery = |query, page_size, page_token| Search {
            page_size,
            page_token,
            ..search(query, Some(Category::Mystery))
        };
        let first = index.search(&mystery("the", 2, "")).unwrap();
        let token = first.next_page_token.clone().unwrap();
        // The same words in another case and spacing are the same search; page sizes may change.
        let second = index.search(&mystery(" THE", 50, &token)).unwrap();
        assert_eq!(second.books.len(), first.total_size - 2);
        assert!(second.next_page_token.is_none());
        let other_searches = [search("the", None), search("a", Some(Category::Mystery))];
        for other in other_searches {
            let error = index
                .search(&Search {
                    page_token: &token,
                    ..other
                })
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                "page_token belongs to a search with another query or category; send it with the query and category it came from, or leave it empty for the first page"
            );
        }
        // A token past the results (the catalog lost books since) is an empty last page.
        let (_, fingerprint) = token.split_once('.').unwrap();
        let past = format!("{}.{fingerprint}", first.total_size);
        let page = index.search(&mystery("the", 2, &past)).unwrap();
        assert!(page.books.is_empty() && page.next_page_token.is_none());
        assert_eq!(page.total_size, first.total_size);
    }

    #[test]
    fn tokens_outlive_a_change_of_the_catalog() {
        let book = |id: u32, title: &str| {
            format!(
                "[[book]]\nid = {id}\ntitle = \"{title}\"\nauthor = \"A\"\ncategory = \"mystery\"\nyear = 1\n"
            )
        };
        let catalog = |text: &str| Indexed::new(Catalog::parse(text, "test").unwrap());
        let before = catalog(&(book(1, "A") + &book(2, "B") + &book(4, "C")));
        let after = catalog(&(book(1, "A") + &book(3, "AA") + &book(2, "B") + &book(4, "C")));
        let first = before
            .search(&Search {
                page_size: 1,
                ..search("", None)
            })
            .unwrap();
        let token = first.next_page_token.unwrap();
        // The next page starts at the same offset in the new catalog's order, where the book
        // added since ("AA") now is.
        let next = after
            .search(&Search {
                page_size: 1,
                page_token: &token,
                ..search("", None)
            })
            .unwrap();
        let titles: Vec<&str> = next.books.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(titles, ["AA"]);
        assert_eq!(next.total_size, 4);
    }

    #[test]
    fn queries_with_the_same_canonical_words_share_tokens() {
        let index = index();
        let first = |query| {
            let first = Search {
                page_size: 1,
                ..search(query, None)
            };
            index.search(&first).unwrap().next_page_token.unwrap()
        };
        let next = |query, token: &str| {
            let next = Search {
                page_size: 1,
                page_token: token,
                ..search(query, None)
            };
            index.search(&next).map(|page| page.books[0].id)
        };
        let groups: [&[&str]; 3] = [
            &["the", "the the", "THE  the\tThe"],
            &["christie", "chris christie", "CHRISTIE christ ie c"],
            &["of the", "the of", "OF of THE the"],
        ];
        for group in groups {
            let token = first(group[0]);
            let second = next(group[0], &token).unwrap();
            for query in group {
                assert_eq!(first(query), token, "{query:?}");
                assert_eq!(next(query, &token).unwrap(), second, "{query:?}");
            }
        }
        // A word that is not part of another still makes another search.
        assert!(matches!(
            next("the ring", &first("the")),
            Err(Error::InvalidPageToken { .. })
        ));
    }

    #[test]
    fn at_most_16_different_words() {
        let index = index();
        let letters: Vec<String> = ('a'..='q').map(String::from).collect();
        let sixteen = letters[..16].join(" ");
        let page = index.search(&search(&sixteen, None)).unwrap();
        assert!(page.books.iter().all(|book| {
            let haystack = format!("{} {}", book.title, book.author).to_lowercase();
            letters[..16]
                .iter()
                .all(|letter| haystack.contains(letter.as_str()))
        }));
        let error = index.search(&search(&letters.join(" "), None)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "query must have at most 16 different words, got 17"
        );
        let repeated = format!("{sixteen} {}", sixteen.to_uppercase());
        assert!(index.search(&search(&repeated, None)).is_ok());
    }
}
