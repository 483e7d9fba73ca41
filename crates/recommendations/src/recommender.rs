//! Choosing books: the domain logic both APIs share, free of any protobuf type so unit tests
//! call it directly.
//!
//! A request names a category and how many books it wants; the answer is
//! `min(wanted, MAX_RESULTS_CAP, books in category)` distinct books chosen uniformly at random,
//! as the tutorial's `random.sample` does. The recommender also finds books by id and by search
//! (`book_index.rs`, `search.rs`), through an index that refers to the catalog's books.

use std::sync::Mutex;

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

/// Picks random books from a catalog, and finds books in it by id and by search.
pub struct Recommender {
    catalog: Catalog,
    /// Built once from the catalog and referring to its books by position (no second copy);
    /// apart from it, so `recommend` reads the catalog as before.
    index: BookIndex,
    randomness: Randomness,
}

impl std::fmt::Debug for Recommender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recommender")
            .field("books", &self.catalog.len())
            .finish_non_exhaustive()
    }
}

impl Recommender {
    /// Recommends from `catalog`; with a `seed`, the sequence of answers is reproducible.
    pub fn new(catalog: Catalog, seed: Option<u64>) -> Self {
        let randomness = match seed {
            Some(seed) => Randomness::Seeded(Box::new(Mutex::new(StdRng::seed_from_u64(seed)))),
            None => Randomness::PerThread,
        };
        Self {
            index: BookIndex::new(&catalog),
            catalog,
            randomness,
        }
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
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

    /// Up to `wanted` distinct random books from `category` (see the module docs for the cap).
    pub fn recommend(&self, category: Category, wanted: u64) -> Vec<&Book> {
        let books = self.catalog.books(category);
        let count = usize::try_from(wanted)
            .unwrap_or(usize::MAX)
            .min(MAX_RESULTS_CAP)
            .min(books.len());
        match &self.randomness {
            Randomness::PerThread => books.choose_multiple(&mut rand::rng(), count).collect(),
            Randomness::Seeded(rng) => {
                let mut rng = rng
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                books.choose_multiple(&mut *rng, count).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn recommender(seed: Option<u64>) -> Recommender {
        Recommender::new(Catalog::built_in().unwrap(), seed)
    }

    #[test]
    fn returns_min_of_wanted_and_available_distinct_books_of_the_category() {
        let recommender = recommender(None);
        for category in Category::ALL {
            let available = recommender.catalog().books(category).len();
            for wanted in [0, 1, 3, 10, 1_000, u64::MAX] {
                let books = recommender.recommend(category, wanted);
                let expected = (wanted as usize).min(available).min(MAX_RESULTS_CAP);
                assert_eq!(books.len(), expected, "{category:?} x {wanted}");
                assert!(books.iter().all(|b| b.category == category));
                let ids: HashSet<_> = books.iter().map(|b| b.id).collect();
                assert_eq!(ids.len(), books.len(), "distinct books");
            }
        }
    }

    #[test]
    fn a_seed_makes_answers_reproducible() {
        let ids = |r: &Recommender| -> Vec<u32> {
            (0..5)
                .flat_map(|_| r.recommend(Category::Mystery, 3))
                .map(|b| b.id)
                .collect()
        };
        assert_eq!(ids(&recommender(Some(7))), ids(&recommender(Some(7))));
    }

    #[test]
    fn every_book_of_a_category_eventually_comes_up() {
        let recommender = recommender(Some(1));
        let mut seen = HashSet::new();
        for _ in 0..500 {
            seen.extend(
                recommender
                    .recommend(Category::Mystery, 1)
                    .iter()
                    .map(|b| b.id),
            );
        }
        assert_eq!(
            seen.len(),
            recommender.catalog().books(Category::Mystery).len()
        );
    }
}
