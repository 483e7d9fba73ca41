//! The pages, as askama templates checked at compile time (`templates/`). Values are
//! HTML-escaped by askama, so titles from the catalog cannot inject markup.

use askama::Template;
use bookstore_proto::recommendations::v1;

use crate::category;
use crate::upstream::BookView;

/// A category link in the navigation bar.
#[derive(Debug)]
pub struct NavCategory {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether the page shows this category.
    pub current: bool,
}

fn navigation(current: Option<v1::Category>) -> Vec<NavCategory> {
    category::all()
        .map(|c| NavCategory {
            slug: category::slug(c),
            name: category::display_name(c),
            current: Some(c) == current,
        })
        .collect()
}

/// The homepage: one category's recommendations (the tutorial's page, with navigation).
#[derive(Template, Debug)]
#[template(path = "homepage.html")]
pub struct HomePage {
    categories: Vec<NavCategory>,
    heading: String,
    books: Vec<BookView>,
    unavailable: Option<&'static str>,
}

impl HomePage {
    /// Recommendations of `category`.
    pub fn new(category: v1::Category, books: Vec<BookView>) -> Self {
        Self {
            categories: navigation(Some(category)),
            heading: category::display_name(category),
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
    categories: Vec<NavCategory>,
    title: &'static str,
    message: String,
}

impl ErrorPage {
    /// A page titled `title` explaining `message`.
    pub fn new(title: &'static str, message: String) -> Self {
        Self {
            categories: navigation(None),
            title,
            message,
        }
    }
}
