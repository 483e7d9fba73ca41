//! Choosing books: the domain logic both APIs share, free of any protobuf type so unit tests
//! call it directly.
//!
//! A request names a category and how many books it wants; the answer is
//! `min(wanted, MAX_RESULTS_CAP, books in category)` distinct books chosen uniformly at random,
//! as the tutorial's `random.sample` does. The recommender also finds books by id and by search
//! (`book_index.rs`, `search.rs`), through an index that refers to the catalog's books.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::book_index::BookIndex;
use crate::catalog::{Book, Catalog, Category};
use crate::error::Error;
use crate::search::{Search, SearchPage};

/// The most books one request returns. Larger requests are clamped, not refused: asking for
/// "as many as you have" is a reasonable request, and the cap keeps responses small.
pub const MAX_RESULTS_CAP: usize = 50;

/// What the v1 API returns when a request leaves `max_results` at 0.
pub const DEFAULT_MAX_RESULTS: usize = 3;

/// Where randomness comes from.
enum Randomness {
    /// The thread-local generator: no shared state on the hot path.
    PerThread,
    /// One seeded generator, for reproducible answers in tests and demos.
    Seeded(Box<Mutex<StdRng>>),
}

/// One version of the catalog, never changed once made: the books, their index, and the
/// database version they were read at. A change makes a new snapshot.
#[derive(Debug)]
pub struct CatalogSnapshot {
    catalog: Catalog,
    /// Built once from the catalog and referring to its books by position (no second copy).
    index: BookIndex,
    version: i64,
}

impl CatalogSnapshot {
    /// Indexes `catalog`, read at database `version` (0 for a catalog from a file).
    pub fn new(catalog: Catalog, version: i64) -> Self {
        Self {
            index: BookIndex::new(&catalog),
            catalog,
            version,
        }
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The database version the books were read at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The book with catalog id `id`: ids must be positive, and one the catalog lacks is not
    /// found.
    pub fn book(&self, id: i64) -> Result<&Book, Error> {
        self.index.get(&self.catalog, id)
    }

    /// One page of the books matching `search` (see [`crate::search`]).
    pub fn search(&self, search: &Search<'_>) -> Result<SearchPage<'_>, Error> {
        search.page(&self.index, &self.catalog)
    }
}

/// Picks random books from the current catalog snapshot, which a writer or the catalog's
/// synchroniser replaces whole (`publish`): a call reads one snapshot from start to end, and
/// never waits for a new one to be built.
pub struct Recommender {
    /// `None` until the first catalog is loaded (a database that was away at start).
    current: ArcSwapOption<CatalogSnapshot>,
    randomness: Randomness,
}

impl std::fmt::Debug for Recommender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current.load();
        f.debug_struct("Recommender")
            .field("books", &current.as_ref().map(|s| s.catalog.len()))
            .field("version", &current.as_ref().map(|s| s.version))
            .finish_non_exhaustive()
    }
}

impl Recommender {
    /// Recommends from `catalog`; with a `seed`, the sequence of answers is reproducible.
    pub fn new(catalog: Catalog, seed: Option<u64>) -> Self {
        let recommender = Self::without_catalog(seed);
        let _none = recommender.publish(CatalogSnapshot::new(catalog, 0));
        recommender
    }

    /// A recommender with no catalog yet: calls fail with [`Error::CatalogLoading`] until one
    /// is published.
    pub fn without_catalog(seed: Option<u64>) -> Self {
        let randomness = match seed {
            Some(seed) => Randomness::Seeded(Box::new(Mutex::new(StdRng::seed_from_u64(seed)))),
            None => Randomness::PerThread,
        };
        Self {
            current: ArcSwapOption::empty(),
            randomness,
        }
    }

    /// Makes `snapshot` the catalog every later call reads, returning the one it replaces (for
    /// the caller to free where freeing a large catalog blocks no one).
    pub fn publish(&self, snapshot: CatalogSnapshot) -> Option<Arc<CatalogSnapshot>> {
        self.current.swap(Some(Arc::new(snapshot)))
    }

    /// The catalog now.
    pub fn snapshot(&self) -> Result<Arc<CatalogSnapshot>, Error> {
        self.current.load_full().ok_or(Error::CatalogLoading)
    }

    /// The database version of the catalog now, if one is loaded.
    pub fn version(&self) -> Option<i64> {
        self.current
            .load()
            .as_ref()
            .map(|snapshot| snapshot.version)
    }

    /// Up to `wanted` distinct random books from `category` (see the module docs for the cap),
    /// handed to `answer` while the snapshot they belong to is held.
    pub fn recommend<R>(
        &self,
        category: Category,
        wanted: u64,
        answer: impl FnOnce(Vec<&Book>) -> R,
    ) -> Result<R, Error> {
        // A guard, not a clone of the `Arc`: no shared counter is touched per call.
        let current = self.current.load();
        let snapshot = current.as_ref().ok_or(Error::CatalogLoading)?;
        let books = snapshot.catalog.books(category);
        let count = usize::try_from(wanted)
            .unwrap_or(usize::MAX)
            .min(MAX_RESULTS_CAP)
            .min(books.len());
        // Sampling `count` of `books.len()` costs O(count), whatever the category's size
        // (rand's `index::sample` picks Floyd's algorithm for small counts).
        let chosen = match &self.randomness {
            Randomness::PerThread => books.choose_multiple(&mut rand::rng(), count).collect(),
            Randomness::Seeded(rng) => {
                let mut rng = rng
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                books.choose_multiple(&mut *rng, count).collect()
            }
        };
        Ok(answer(chosen))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn recommender(seed: Option<u64>) -> Recommender {
        Recommender::new(Catalog::built_in().unwrap(), seed)
    }

    fn ids(recommender: &Recommender, category: Category, wanted: u64) -> Vec<u32> {
        recommender
            .recommend(category, wanted, |books| {
                books.iter().map(|b| b.id).collect()
            })
            .unwrap()
    }

    #[test]
    fn returns_min_of_wanted_and_available_distinct_books_of_the_category() {
        let recommender = recommender(None);
        for category in Category::ALL {
            let snapshot = recommender.snapshot().unwrap();
            let available = snapshot.catalog().books(category).len();
            for wanted in [0, 1, 3, 10, 1_000, u64::MAX] {
                let chosen = ids(&recommender, category, wanted);
                let expected = (wanted as usize).min(available).min(MAX_RESULTS_CAP);
                assert_eq!(chosen.len(), expected, "{category:?} x {wanted}");
                assert!(
                    chosen
                        .iter()
                        .all(|id| { snapshot.book((*id).into()).unwrap().category == category })
                );
                let distinct: HashSet<_> = chosen.iter().collect();
                assert_eq!(distinct.len(), chosen.len(), "distinct books");
            }
        }
    }

    #[test]
    fn a_seed_makes_answers_reproducible() {
        let answers = |r: &Recommender| -> Vec<u32> {
            (0..5).flat_map(|_| ids(r, Category::Mystery, 3)).collect()
        };
        assert_eq!(
            answers(&recommender(Some(7))),
            answers(&recommender(Some(7)))
        );
    }

    #[test]
    fn every_book_of_a_category_eventually_comes_up() {
        let recommender = recommender(Some(1));
        let mut seen = HashSet::new();
        for _ in 0..500 {
            seen.extend(ids(&recommender, Category::Mystery, 1));
        }
        let snapshot = recommender.snapshot().unwrap();
        assert_eq!(
            seen.len(),
            snapshot.catalog().books(Category::Mystery).len()
        );
    }

    #[test]
    fn without_a_catalog_calls_wait_for_one() {
        let recommender = Recommender::without_catalog(None);
        let error = recommender
            .recommend(Category::Mystery, 1, |_| ())
            .unwrap_err();
        assert!(matches!(error, Error::CatalogLoading));
        assert_eq!(recommender.version(), None);
        let catalog = Catalog::built_in().unwrap();
        recommender.publish(CatalogSnapshot::new(catalog.clone(), 5));
        assert_eq!(ids(&recommender, Category::Mystery, 2).len(), 2);
        let old = recommender.publish(CatalogSnapshot::new(Catalog::from_books([]), 6));
        assert_eq!(old.map(|old| old.version()), Some(5));
        assert_eq!(recommender.version(), Some(6));
        assert!(ids(&recommender, Category::Mystery, 2).is_empty());
    }
}
