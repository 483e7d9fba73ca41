//! A book as the pages and the JSON API show it ([`BookView`]), from the catalog's
//! `v1::Book`, with what the templates ask of it: the year as a reader writes it, the
//! category's names, the generated cover.

use bookstore_proto::recommendations::v1;

use crate::category;
use crate::cover::{self, Cover};

/// A book as the pages and the JSON API show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BookView {
    /// Catalog id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Year of first publication; negative for BCE, 0 when unknown.
    pub year: i32,
    /// Category, as its URL slug in JSON.
    #[serde(serialize_with = "serialize_slug")]
    pub category: v1::Category,
}

fn serialize_slug<S: serde::Serializer>(
    category: &v1::Category,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(category::names_of(*category).map_or("", |named| &named.slug))
}

impl From<v1::Book> for BookView {
    fn from(book: v1::Book) -> Self {
        Self {
            id: book.id,
            title: book.title,
            author: book.author,
            year: book.year,
            category: v1::Category::try_from(book.category).unwrap_or_default(),
        }
    }
}

impl BookView {
    /// The year as a reader writes it: `1930`, `430 BCE`; `None` when unknown.
    pub fn year_label(&self) -> Option<String> {
        match self.year {
            0 => None,
            year if year < 0 => Some(format!("{} BCE", year.unsigned_abs())),
            year => Some(year.to_string()),
        }
    }

    /// The category's names, if the book has a category the marketplace knows.
    pub fn category_names(&self) -> Option<&'static category::Named> {
        category::names_of(self.category)
    }

    /// The book's generated cover: a few numbers, written out as an inline `<svg>` where a
    /// template puts it (`{{ book.cover()|safe }}`).
    pub fn cover(&self) -> Cover {
        cover::cover(self.id, &self.title, self.category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(year: i32) -> BookView {
        BookView::from(v1::Book {
            id: 1,
            title: "T".into(),
            author: "A".into(),
            category: v1::Category::History.into(),
            year,
        })
    }

    #[test]
    fn years_read_as_written() {
        assert_eq!(book(1930).year_label().as_deref(), Some("1930"));
        assert_eq!(book(-430).year_label().as_deref(), Some("430 BCE"));
        assert_eq!(book(0).year_label(), None);
        assert_eq!(
            book(i32::MIN).year_label().as_deref(),
            Some("2147483648 BCE")
        );
    }

    #[test]
    fn json_names_the_category_by_its_slug() {
        let json = serde_json::to_value(book(2000)).unwrap();
        assert_eq!(json["category"], "history");
        let unknown = BookView::from(v1::Book {
            category: 99,
            ..v1::Book::default()
        });
        assert_eq!(unknown.category, v1::Category::Unspecified);
        assert_eq!(serde_json::to_value(unknown).unwrap()["category"], "");
    }
}
