//! The pages, as askama templates checked at compile time (`templates/`). Values are
//! HTML-escaped by askama, so titles from the catalog and words from a search cannot inject
//! markup. Every page extends `base.html`: the header (site name, search form), the category
//! navigation and one `<main>` with one `<h1>`; [`Layout`] is what that frame needs.

use askama::Template;
use bookstore_proto::recommendations::v1;

use crate::book_view::BookView;
use crate::category::{self, Named};
use crate::upstream::SearchResults;

/// The most characters a search may have (the catalog's limit on `SearchBooks`).
pub const MAX_QUERY_CHARS: usize = 200;

/// What every page's frame shows: the navigation bar, with perhaps the current page's
/// category, and the search box, with perhaps the words being searched for. The category
/// names are built once (`category::named`), not per page.
#[derive(Debug, Default)]
pub struct Layout {
    current: Option<v1::Category>,
    query: String,
}

impl Layout {
    /// The frame of a page about `current`, if any, showing `query` in the search box.
    pub fn new(current: Option<v1::Category>, query: String) -> Self {
        Self { current, query }
    }

    /// The links, in the API's order: `(slug, name, whether it is the current page)`.
    pub fn links(&self) -> impl Iterator<Item = (&'static str, &'static str, bool)> + '_ {
        category::named().iter().map(|named| {
            (
                named.slug.as_str(),
                named.name.as_str(),
                Some(named.category) == self.current,
            )
        })
    }

    /// The search box's length limit.
    pub fn max_query_chars(&self) -> usize {
        MAX_QUERY_CHARS
    }
}

/// The homepage: three recommendations of one category (the tutorial's page).
#[derive(Template, Debug)]
#[template(path = "homepage.html")]
pub struct HomePage {
    layout: Layout,
    heading: &'static str,
    slug: &'static str,
    books: Vec<BookView>,
    unavailable: Option<&'static str>,
}

impl HomePage {
    /// Recommendations of `category`.
    pub fn new(category: v1::Category, books: Vec<BookView>) -> Self {
        let named = category::names_of(category);
        Self {
            layout: Layout::default(),
            heading: named.map_or("", |named| named.name.as_str()),
            slug: named.map_or("", |named| named.slug.as_str()),
            books,
            unavailable: None,
        }
    }

    /// The page when recommendations cannot be fetched: still a page, with a notice.
    pub fn unavailable(category: v1::Category, notice: &'static str) -> Self {
        Self {
            unavailable: Some(notice),
            ..Self::new(category, Vec::new())
        }
    }
}

/// A book's page, with more books of its category.
#[derive(Template, Debug)]
#[template(path = "book.html")]
pub struct BookPage {
    layout: Layout,
    book: BookView,
    more: Vec<BookView>,
    more_unavailable: Option<&'static str>,
}

impl BookPage {
    /// `book`, with `more` of its category or, if they could not be fetched, a notice.
    pub fn new(book: BookView, more: Result<Vec<BookView>, &'static str>) -> Self {
        let (more, more_unavailable) = match more {
            Ok(more) => (more, None),
            Err(notice) => (Vec::new(), Some(notice)),
        };
        Self {
            layout: Layout::default(),
            book,
            more,
            more_unavailable,
        }
    }
}

/// The search page: a hint with no query, else a page of results.
#[derive(Template, Debug)]
#[template(path = "search.html")]
pub struct SearchPage {
    layout: Layout,
    query: String,
    page_token: String,
    results: Option<SearchResults>,
}

impl SearchPage {
    /// The page before anything is searched for.
    pub fn hint() -> Self {
        Self {
            layout: Layout::default(),
            query: String::new(),
            page_token: String::new(),
            results: None,
        }
    }

    /// The page of `results` for `query` that `page_token` named (empty for the first).
    pub fn results(query: String, page_token: String, results: SearchResults) -> Self {
        Self {
            layout: Layout::new(None, query.clone()),
            query,
            page_token,
            results: Some(results),
        }
    }
}

/// A category's page: every book in it, a page at a time.
#[derive(Template, Debug)]
#[template(path = "category.html")]
pub struct CategoryPage {
    layout: Layout,
    category: &'static Named,
    page_token: String,
    results: SearchResults,
}

impl CategoryPage {
    /// The page of `category`'s `results` that `page_token` named (empty for the first).
    pub fn new(category: &'static Named, page_token: String, results: SearchResults) -> Self {
        Self {
            layout: Layout::new(Some(category.category), String::new()),
            category,
            page_token,
            results,
        }
    }
}

/// An error page.
#[derive(Template, Debug)]
#[template(path = "error.html")]
pub struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

impl ErrorPage {
    /// A page headed `heading` explaining `message`.
    pub fn new(heading: &'static str, message: String) -> Self {
        Self {
            layout: Layout::default(),
            heading,
            message,
        }
    }
}
