//! Finding books: one book by its id, and a search by words of the title and author, a page at
//! a time — the domain side of v1's `GetBook` and `SearchBooks`, free of any protobuf type.
//!
//! Everything a search needs from a book is worked out once, when the index is built from the
//! catalog at start-up: the books are kept in search order (title lowercased, then id), each
//! with its title and author lowercased, and listed per category. A search lowercases only its
//! query and scans the candidates once, counting every match and keeping those of the page.
//!
//! # Matching
//!
//! The query is lowercased (Unicode, `str::to_lowercase`) and split at whitespace; a book
//! matches when every word is a substring of its lowercased title or of its lowercased author.
//! An empty query matches every book.
//!
//! # Pages
//!
//! A page holds `page_size` books (0 means [`DEFAULT_PAGE_SIZE`], more than [`MAX_PAGE_SIZE`]
//! means that); its `next_page_token` continues the same search only (see `page_token.rs`).

use std::collections::HashMap;
use std::ops::Range;

use crate::catalog::{Book, Catalog, Category};
use crate::error::Error;
use crate::error::non_negative;
use crate::page_token::{self, SearchFingerprint};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The page size of a search that leaves `page_size` at 0.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// The most books one page holds. Larger page sizes are clamped, as `Recommend` clamps
/// `max_results`.
pub const MAX_PAGE_SIZE: usize = 100;

/// A search as the client sent it (after the category is read).
#[derive(Clone, Copy, Debug)]
pub struct Search<'a> {
    /// Words to find in titles and authors.
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

/// A book with what a search compares, worked out once.
#[derive(Debug)]
struct Entry {
    book: Book,
    /// Lowercased title and author, split by a newline (which no query word contains, so a word
    /// cannot match across the two).
    haystack: String,
}

impl Entry {
    fn matches(&self, words: &[&str]) -> bool {
        words.iter().all(|word| self.haystack.contains(word))
    }
}

/// The catalog's books indexed for `GetBook` and `SearchBooks`.
#[derive(Debug)]
pub struct BookIndex {
    /// Every book, in search order: title lowercased, then id.
    entries: Vec<Entry>,
    /// Positions in `entries` of each category's books, in search order.
    by_category: [Vec<usize>; Category::ALL.len()],
    /// Position in `entries` of each id.
    by_id: HashMap<u32, usize>,
    /// Every book hashed, so tokens from another catalog are refused.
    catalog_fingerprint: SearchFingerprint,
}

impl BookIndex {
    /// Indexes every book of `catalog`.
    pub fn new(catalog: &Catalog) -> Self {
        let mut entries: Vec<Entry> = Category::ALL
            .iter()
            .flat_map(|category| catalog.books(*category))
            .map(|book| Entry {
                haystack: format!(
                    "{}\n{}",
                    book.title.to_lowercase(),
                    book.author.to_lowercase()
                ),
                book: book.clone(),
            })
            .collect();
        entries.sort_by_cached_key(|entry| (entry.book.title.to_lowercase(), entry.book.id));
        let mut by_category: [Vec<usize>; Category::ALL.len()] = Default::default();
        let mut by_id = HashMap::with_capacity(entries.len());
        let mut catalog_fingerprint = SearchFingerprint::new();
        for (position, entry) in entries.iter().enumerate() {
            let book = &entry.book;
            by_category[book.category.index()].push(position);
            by_id.insert(book.id, position);
            catalog_fingerprint
                .write(&book.id.to_be_bytes())
                .write(book.title.as_bytes())
                .write(&[0])
                .write(book.author.as_bytes())
                .write(&[0])
                .write(book.category.slug().as_bytes())
                .write(&book.year.to_be_bytes());
        }
        Self {
            entries,
            by_category,
            by_id,
            catalog_fingerprint,
        }
    }

    /// The book with catalog id `id`: ids must be positive, and one the catalog lacks is not
    /// found.
    pub fn get(&self, id: i64) -> Result<&Book, Error> {
        if id <= 0 {
            return Err(Error::NotPositive {
                field: "id",
                value: id,
            });
        }
        u32::try_from(id)
            .ok()
            .and_then(|id| self.by_id.get(&id))
            .map(|position| &self.entries[*position].book)
            .ok_or(Error::BookNotFound { id })
    }

    /// One page of the books matching `search` (see the module docs).
    pub fn search(&self, search: &Search<'_>) -> Result<SearchPage<'_>, Error> {
        let length = search.query.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(Error::QueryTooLong {
                length,
                max: MAX_QUERY_CHARS,
            });
        }
        let page_size = page_size(search.page_size)?;
        let query = search.query.to_lowercase();
        let words: Vec<&str> = query.split_whitespace().collect();
        let fingerprint = self.catalog_fingerprint.of_search(&words, search.category);
        let offset = page_token::read(search.page_token, fingerprint)?;
        let window = offset..offset.saturating_add(page_size);
        let (books, total_size) = match search.category {
            Some(category) => page(
                self.by_category[category.index()]
                    .iter()
                    .map(|position| &self.entries[*position]),
                &words,
                window,
            ),
            None => page(self.entries.iter(), &words, window),
        };
        // Tokens this index issues point inside the results of their own search.
        if offset > 0 && offset >= total_size {
            return Err(page_token::malformed());
        }
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

/// The books of `candidates` matching `words` whose match number falls in `window`, and how
/// many match in all.
fn page<'a>(
    candidates: impl Iterator<Item = &'a Entry>,
    words: &[&str],
    window: Range<usize>,
) -> (Vec<&'a Book>, usize) {
    let mut books = Vec::new();
    let mut total = 0;
    for entry in candidates.filter(|entry| entry.matches(words)) {
        if window.contains(&total) {
            books.push(&entry.book);
        }
        total += 1;
    }
    (books, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> BookIndex {
        BookIndex::new(&Catalog::built_in().unwrap())
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
    fn gets_books_by_id() {
        let index = index();
        assert_eq!(index.get(1).unwrap().title, "The Maltese Falcon");
        let missing = index.get(4_242).unwrap_err();
        assert_eq!(missing.to_string(), "no book with id 4242");
        let huge = index.get(i64::MAX).unwrap_err();
        assert!(matches!(huge, Error::BookNotFound { id: i64::MAX }));
        assert_eq!(
            index.get(0).unwrap_err().to_string(),
            "id must be positive, got 0"
        );
        assert!(matches!(
            index.get(-3),
            Err(Error::NotPositive { value: -3, .. })
        ));
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
        // A token with the right fingerprint but past the results was never written.
        let (_, fingerprint) = token.split_once('.').unwrap();
        let past = format!("{}.{fingerprint}", first.total_size);
        let error = index.search(&mystery("the", 2, &past)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("page_token is not a token this service issued")
        );
    }

    #[test]
    fn tokens_of_another_catalog_are_refused() {
        let book = |id: u32, title: &str| {
            format!(
                "[[book]]\nid = {id}\ntitle = \"{title}\"\nauthor = \"A\"\ncategory = \"mystery\"\nyear = 1\n"
            )
        };
        let catalog = |text: &str| BookIndex::new(&Catalog::parse(text, "test").unwrap());
        let before = catalog(&(book(1, "A") + &book(2, "B")));
        let after = catalog(&(book(1, "A") + &book(3, "AA") + &book(2, "B")));
        let first = before
            .search(&Search {
                page_size: 1,
                ..search("", None)
            })
            .unwrap();
        let token = first.next_page_token.unwrap();
        assert!(
            before
                .search(&Search {
                    page_token: &token,
                    ..search("", None)
                })
                .is_ok()
        );
        let error = after
            .search(&Search {
                page_token: &token,
                ..search("", None)
            })
            .unwrap_err();
        assert!(matches!(error, Error::InvalidPageToken { .. }));
    }

    #[test]
    fn long_queries_are_refused_by_characters_not_bytes() {
        let index = index();
        let longest = "é".repeat(MAX_QUERY_CHARS);
        assert!(index.search(&search(&longest, None)).is_ok());
        let error = index.search(&search(&(longest + "é"), None)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "query must be at most 200 characters, got 201"
        );
    }
}
