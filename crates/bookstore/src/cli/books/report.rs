//! What the `books` commands print: a book as a block of fields, a page of books as a table
//! with a line saying how many there are and where the next page starts, a deletion as one
//! line; and each as JSON with the API's field names (the category as its slug).

use std::io::{self, Write};

use bookstore_proto::catalog::v1::Book;
use bookstore_proto::recommendations::v1::Category;
use marketplace::category::slug;
use serde::Serialize;

use crate::cli::output::{Report, table};

/// One book, as the commands show it.
#[derive(Debug, Serialize)]
pub(super) struct BookView {
    name: String,
    title: String,
    author: String,
    category: String,
    year: i32,
    etag: String,
}

impl From<Book> for BookView {
    fn from(book: Book) -> Self {
        let category =
            Category::try_from(book.category).map_or_else(|_| book.category.to_string(), slug);
        Self {
            name: book.name,
            title: book.title,
            author: book.author,
            category,
            year: book.year,
            etag: book.etag,
        }
    }
}

impl Report for BookView {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.name)?;
        for (field, value) in [
            ("title", self.title.as_str()),
            ("author", &self.author),
            ("category", &self.category),
            ("year", &self.year.to_string()),
            ("etag", &self.etag),
        ] {
            writeln!(out, "  {field:<8}  {value}")?;
        }
        Ok(())
    }
}

/// Books of one page (or of every page, with `--all`).
#[derive(Debug, Serialize)]
pub(super) struct BookPage {
    /// The filter, for the text's words only.
    #[serde(skip)]
    category: Option<Category>,
    pub(super) books: Vec<BookView>,
    pub(super) next_page_token: String,
    pub(super) total_size: i32,
}

impl BookPage {
    /// No books yet, of `category` (or of any).
    pub(super) fn new(category: Option<Category>) -> Self {
        Self {
            category,
            books: Vec::new(),
            next_page_token: String::new(),
            total_size: 0,
        }
    }
}

impl Report for BookPage {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let kind = self
            .category
            .map_or_else(String::new, |category| format!("{} ", slug(category)));
        if self.books.is_empty() {
            return writeln!(out, "No {kind}books.");
        }
        let rows: Vec<Vec<String>> = self
            .books
            .iter()
            .map(|book| {
                vec![
                    book.name.clone(),
                    book.title.clone(),
                    book.author.clone(),
                    book.category.clone(),
                    book.year.to_string(),
                ]
            })
            .collect();
        let header = ["NAME", "TITLE", "AUTHOR", "CATEGORY", "YEAR"];
        table(out, &header, &[false, false, false, false, true], &rows)?;
        let shown = self.books.len();
        let total = usize::try_from(self.total_size).unwrap_or(0).max(shown);
        let plural = if total == 1 { "" } else { "s" };
        let mut summary = if shown == total {
            format!("{total} {kind}book{plural}")
        } else {
            format!("{shown} of {total} {kind}book{plural}")
        };
        if !self.next_page_token.is_empty() {
            summary += &format!("; next page: --page-token {}", self.next_page_token);
        }
        writeln!(out, "{summary}")
    }
}

/// A book that was deleted.
#[derive(Debug, Serialize)]
pub(super) struct Deleted {
    pub(super) name: String,
    pub(super) deleted: bool,
}

impl Report for Deleted {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Deleted {}.", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(id: u32, title: &str) -> BookView {
        BookView::from(Book {
            name: format!("books/{id}"),
            title: title.to_owned(),
            author: "Agatha Christie".to_owned(),
            category: Category::Mystery.into(),
            year: 1934,
            etag: "00ff".to_owned(),
        })
    }

    fn text(report: &impl Report) -> String {
        let mut out = Vec::new();
        report.write_text(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_book_is_a_block_of_fields_and_json_with_the_apis_names() {
        let book = book(7, "Murder on the Orient Express");
        assert_eq!(
            text(&book),
            "books/7\n  title     Murder on the Orient Express\n  author    Agatha Christie\n  \
             category  mystery\n  year      1934\n  etag      00ff\n"
        );
        assert_eq!(
            serde_json::to_value(&book).unwrap(),
            serde_json::json!({
                "name": "books/7", "title": "Murder on the Orient Express",
                "author": "Agatha Christie", "category": "mystery", "year": 1934, "etag": "00ff",
            })
        );
    }

    #[test]
    fn a_page_says_how_many_books_there_are_and_where_the_next_page_starts() {
        let mut page = BookPage::new(Some(Category::Mystery));
        assert_eq!(text(&page), "No mystery books.\n");
        page.books = vec![book(7, "Murder on the Orient Express"), book(12, "Poirot")];
        page.total_size = 5;
        page.next_page_token = "abc".to_owned();
        let text = text(&page);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "  NAME      TITLE                         AUTHOR           CATEGORY  YEAR"
        );
        assert_eq!(
            lines[2],
            "  books/12  Poirot                        Agatha Christie  mystery   1934"
        );
        assert_eq!(
            lines[3],
            "2 of 5 mystery books; next page: --page-token abc"
        );
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["next_page_token"], "abc");
        assert_eq!(json["total_size"], 5);
        assert_eq!(json["books"][1]["name"], "books/12");
        assert!(json.get("category").is_none());
    }
}
