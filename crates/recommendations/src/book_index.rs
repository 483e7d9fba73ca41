//! The catalog's books indexed for `GetBook` and `SearchBooks`, worked out once at start-up:
//! the books in search order (title lowercased, then id), each as its place in the catalog — not
//! a second copy of the book — with its title and author lowercased, listed per category and
//! found by id.
//!
//! Because the index refers to the catalog rather than holding books, every method that
//! returns books takes the catalog the index was built from; the
//! [`Recommender`](crate::Recommender) keeps the two together. (Moving the books into the index
//! instead would make `Recommend` read them through it; this way it reads the catalog as it
//! always has.)

use std::collections::HashMap;
use std::ops::Range;

use crate::catalog::{Book, Catalog, Category};
use crate::error::Error;
use crate::query::Query;

/// Where a book is in the catalog, with what a search compares, worked out once.
#[derive(Debug)]
struct Entry {
    /// The book's category.
    category: Category,
    /// The book's position in its category's list in the catalog.
    position: usize,
    /// Lowercased title and author, split by a newline (which no query word contains, so a word
    /// cannot match across the two).
    haystack: Box<str>,
}

impl Entry {
    /// The book, in the catalog the index was built from.
    fn book<'a>(&self, catalog: &'a Catalog) -> &'a Book {
        &catalog.books(self.category)[self.position]
    }
}

/// A catalog's books indexed by id and for search (see the module docs).
#[derive(Debug)]
pub(crate) struct BookIndex {
    /// Every book, in search order: title lowercased, then id.
    entries: Vec<Entry>,
    /// Positions in `entries` of each category's books, in search order.
    by_category: [Vec<usize>; Category::ALL.len()],
    /// Position in `entries` of each id.
    by_id: HashMap<u32, usize>,
}

impl BookIndex {
    /// Indexes every book of `catalog`.
    pub(crate) fn new(catalog: &Catalog) -> Self {
        let mut entries: Vec<Entry> = Category::ALL
            .iter()
            .flat_map(|category| {
                let books = catalog.books(*category).iter().enumerate();
                books.map(|(position, book)| Entry {
                    category: *category,
                    position,
                    haystack: format!(
                        "{}\n{}",
                        book.title.to_lowercase(),
                        book.author.to_lowercase()
                    )
                    .into_boxed_str(),
                })
            })
            .collect();
        entries.sort_by_cached_key(|entry| {
            let book = entry.book(catalog);
            (book.title.to_lowercase(), book.id)
        });
        let mut by_category: [Vec<usize>; Category::ALL.len()] = Default::default();
        let mut by_id = HashMap::with_capacity(entries.len());
        for (position, entry) in entries.iter().enumerate() {
            let book = entry.book(catalog);
            by_category[book.category.index()].push(position);
            by_id.insert(book.id, position);
        }
        Self {
            entries,
            by_category,
            by_id,
        }
    }

    /// The book with catalog id `id` in `catalog` (the one indexed): ids must be positive, and
    /// one the catalog lacks is not found.
    pub(crate) fn get<'a>(&self, catalog: &'a Catalog, id: i64) -> Result<&'a Book, Error> {
        if id <= 0 {
            return Err(Error::NotPositive {
                field: "id",
                value: id,
            });
        }
        u32::try_from(id)
            .ok()
            .and_then(|id| self.by_id.get(&id))
            .map(|position| self.entries[*position].book(catalog))
            .ok_or(Error::BookNotFound { id })
    }

    /// The books of `category` (or every book) in `catalog` numbered in `window`, in search
    /// order, and how many there are: an empty query's results, sliced from the lists without
    /// looking at a book.
    pub(crate) fn list<'a>(
        &self,
        catalog: &'a Catalog,
        category: Option<Category>,
        window: Range<usize>,
    ) -> (Vec<&'a Book>, usize) {
        let within = |length: usize| window.start.min(length)..window.end.min(length);
        match category {
            Some(category) => {
                let positions = &self.by_category[category.index()];
                let page = positions[within(positions.len())].iter();
                let page = page.map(|position| self.entries[*position].book(catalog));
                (page.collect(), positions.len())
            }
            None => {
                let page = self.entries[within(self.entries.len())].iter();
                let page = page.map(|entry| entry.book(catalog));
                (page.collect(), self.entries.len())
            }
        }
    }

    /// The books of `category` (or every book) in `catalog` matching `query` whose match
    /// number falls in `window`, in search order, and how many match in all: one pass over the
    /// candidates, at most [`MAX_QUERY_WORDS`](crate::search::MAX_QUERY_WORDS) substring tests
    /// per book.
    pub(crate) fn find<'a>(
        &self,
        catalog: &'a Catalog,
        category: Option<Category>,
        query: &Query,
        window: Range<usize>,
    ) -> (Vec<&'a Book>, usize) {
        let (entries, total) = match category {
            Some(category) => matching(
                self.by_category[category.index()]
                    .iter()
                    .map(|position| &self.entries[*position]),
                query,
                window,
            ),
            None => matching(self.entries.iter(), query, window),
        };
        let books = entries.iter().map(|entry| entry.book(catalog)).collect();
        (books, total)
    }
}

/// The entries of `candidates` matching `query` whose match number falls in `window`, and how
/// many match in all.
fn matching<'a>(
    candidates: impl Iterator<Item = &'a Entry>,
    query: &Query,
    window: Range<usize>,
) -> (Vec<&'a Entry>, usize) {
    let mut page = Vec::new();
    let mut total = 0;
    for entry in candidates.filter(|entry| query.matches(&entry.haystack)) {
        if window.contains(&total) {
            page.push(entry);
        }
        total += 1;
    }
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(books: &[&Book]) -> Vec<u32> {
        books.iter().map(|book| book.id).collect()
    }

    #[test]
    fn gets_books_by_id() {
        let catalog = Catalog::built_in().unwrap();
        let index = BookIndex::new(&catalog);
        assert_eq!(index.get(&catalog, 1).unwrap().title, "The Maltese Falcon");
        for book in Category::ALL.iter().flat_map(|c| catalog.books(*c)) {
            let found = index.get(&catalog, book.id.into()).unwrap();
            assert!(std::ptr::eq(found, book), "the catalog's own book");
        }
        let missing = index.get(&catalog, 4_242).unwrap_err();
        assert_eq!(missing.to_string(), "no book with id 4242");
        let huge = index.get(&catalog, i64::MAX).unwrap_err();
        assert!(matches!(huge, Error::BookNotFound { id: i64::MAX }));
        assert_eq!(
            index.get(&catalog, 0).unwrap_err().to_string(),
            "id must be positive, got 0"
        );
        assert!(matches!(
            index.get(&catalog, -3),
            Err(Error::NotPositive { value: -3, .. })
        ));
    }

    /// Many books of one category, titles repeating in other cases, and a few of another.
    fn repetitive_catalog() -> Catalog {
        let book = |id: u32, category: &str| {
            let title = if id.is_multiple_of(2) {
                "apple"
            } else {
                "Apple"
            };
            format!(
                "[[book]]\nid = {id}\ntitle = \"{title} {}\"\nauthor = \"A\"\ncategory = \"{category}\"\nyear = 1\n",
                (150 - id) / 4
            )
        };
        let text: String = (1..=150)
            .map(|id| book(id, if id % 10 == 0 { "history" } else { "mystery" }))
            .collect();
        Catalog::parse(&text, "test").unwrap()
    }

    #[test]
    fn listing_gives_what_scanning_with_an_empty_query_gives() {
        let empty = Query::parse("").unwrap();
        let mut categories = vec![None];
        categories.extend(Category::ALL.map(Some));
        for catalog in [Catalog::built_in().unwrap(), repetitive_catalog()] {
            let index = BookIndex::new(&catalog);
            for category in &categories {
                for window in [0..1, 0..20, 3..10, 19..39, 60..160, 149..249, 500..600] {
                    let (listed, listed_total) = index.list(&catalog, *category, window.clone());
                    let (found, found_total) =
                        index.find(&catalog, *category, &empty, window.clone());
                    assert_eq!(listed_total, found_total, "{category:?} {window:?}");
                    assert_eq!(ids(&listed), ids(&found), "{category:?} {window:?}");
                }
            }
            let (all, total) = index.list(&catalog, None, 0..usize::MAX);
            assert_eq!((all.len(), total), (catalog.len(), catalog.len()));
            let keys: Vec<_> = all
                .iter()
                .map(|book| (book.title.to_lowercase(), book.id))
                .collect();
            assert!(keys.is_sorted(), "title order, then id: {keys:?}");
        }
    }

    #[test]
    fn finding_counts_every_match_and_keeps_the_window() {
        let catalog = repetitive_catalog();
        let index = BookIndex::new(&catalog);
        let query = Query::parse("APPLE 3").unwrap();
        let (page, total) = index.find(&catalog, Some(Category::Mystery), &query, 2..4);
        let mut expected: Vec<&Book> = catalog
            .books(Category::Mystery)
            .iter()
            .filter(|book| book.title.to_lowercase().contains("apple") && book.title.contains('3'))
            .collect();
        expected.sort_by_key(|book| (book.title.to_lowercase(), book.id));
        assert!(expected.len() > 4);
        assert_eq!(total, expected.len());
        assert_eq!(ids(&page), ids(&expected[2..4]));
    }
}
