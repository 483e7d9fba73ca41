//! The pages, as askama templates checked at compile time (`templates/`). Values are
//! HTML-escaped by askama, so titles from the catalog cannot inject markup.

use askama::Template;
use bookstore_proto::recommendations::v1;

use crate::category;
use crate::upstream::BookView;

/// The navigation bar: every category, one of them perhaps the current page's. The names
/// are built once (`category::named`), not per page.
#[derive(Debug)]
pub struct Navigation {
    current: Option<v1::Category>,
}

impl Navigation {
    fn new(current: Option<v1::Category>) -> Self {
        Self { current }
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
}

/// The homepage: one category's recommendations (the tutorial's page, with navigation).
#[derive(Template, Debug)]
#[template(path = "homepage.html")]
pub struct HomePage {
    navigation: Navigation,
    heading: &'static str,
    books: Vec<BookView>,
    unavailable: Option<&'static str>,
}

impl HomePage {
    /// Recommendations of `category`.
    pub fn new(category: v1::Category, books: Vec<BookView>) -> Self {
        Self {
            navigation: Navigation::new(Some(category)),
            heading: category::names_of(category).map_or("", |named| named.name.as_str()),
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

/// An error page.
#[derive(Template, Debug)]
#[template(path = "error.html")]
pub struct ErrorPage {
    navigation: Navigation,
    title: &'static str,
    message: String,
}

impl ErrorPage {
    /// A page titled `title` explaining `message`.
    pub fn new(title: &'static str, message: String) -> Self {
        Self {
            navigation: Navigation::new(None),
            title,
            message,
        }
    }
}
