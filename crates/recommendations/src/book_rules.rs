//! What a catalog write must satisfy, checked before the database is asked: a title and an
//! author (not blank, at most [`MAX_TEXT_CHARS`]), a known category, a plausible year, and a
//! name of the form `books/{id}`. Each refusal names the request field it is about. (That no
//! two books share a title and author is the database's unique constraint: only it sees every
//! replica's writes.)

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::recommendations::v1 as recommendations;

use crate::catalog::Category;
use crate::database::{BookChanges, BookFields};
use crate::error::Error;
use crate::service::v1_category;

/// The longest title or author accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The earliest year accepted: older works have no agreed year of first publication.
pub const EARLIEST_YEAR: i32 = -3000;

/// The fields an update mask may name.
const MASKABLE: [&str; 4] = ["title", "author", "category", "year"];

/// The id in a book's resource name, `books/{id}`.
pub fn book_id(field: &'static str, name: &str) -> Result<u32, Error> {
    name.strip_prefix("books/")
        .filter(|id| id.bytes().all(|byte| byte.is_ascii_digit()) && !id.starts_with('0'))
        .and_then(|id| id.parse::<u32>().ok())
        .ok_or_else(|| Error::InvalidName {
            field,
            name: name.chars().take(64).collect(),
        })
}

/// The resource name of book `id`.
pub fn book_name(id: u32) -> String {
    format!("books/{id}")
}

/// The fields of a book to create.
pub fn new_book(book: Option<catalog::Book>) -> Result<BookFields, Error> {
    let book = book.ok_or_else(|| invalid("book", "is required"))?;
    Ok(BookFields {
        title: text("book.title", &book.title)?,
        author: text("book.author", &book.author)?,
        category: category(book.category)?,
        year: year(book.year)?,
    })
}

/// The id of the book to update and the changes `mask` selects from `book` (AIP-134: an empty
/// mask means every field set to a non-default value; `*` means every field).
pub fn changes(
    book: Option<catalog::Book>,
    mask: Option<prost_types::FieldMask>,
) -> Result<(u32, BookChanges), Error> {
    let book = book.ok_or_else(|| invalid("book", "is required"))?;
    let id = book_id("book.name", &book.name)?;
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    let paths: Vec<&str> = if paths.is_empty() {
        let set = [
            !book.title.is_empty(),
            !book.author.is_empty(),
            book.category != 0,
            book.year != 0,
        ];
        MASKABLE
            .iter()
            .zip(set)
            .filter(|(_, set)| *set)
            .map(|(path, _)| *path)
            .collect()
    } else if paths.iter().any(|path| path == "*") {
        MASKABLE.to_vec()
    } else {
        paths.iter().map(String::as_str).collect()
    };
    let mut changes = BookChanges::default();
    for path in &paths {
        match *path {
            "title" => changes.title = Some(text("book.title", &book.title)?),
            "author" => changes.author = Some(text("book.author", &book.author)?),
            "category" => changes.category = Some(category(book.category)?),
            "year" => changes.year = Some(year(book.year)?),
            "name" | "etag" => {
                return Err(invalid(
                    "update_mask",
                    format!("cannot name {path:?}: a book's {path} is not set by clients"),
                ));
            }
            other => {
                return Err(invalid(
                    "update_mask",
                    format!(
                        "names unknown field {:?}; it may name {} or *",
                        other.chars().take(64).collect::<String>(),
                        MASKABLE.join(", ")
                    ),
                ));
            }
        }
    }
    if changes == BookChanges::default() {
        return Err(invalid(
            "update_mask",
            format!(
                "names no field to change; name some of {}",
                MASKABLE.join(", ")
            ),
        ));
    }
    Ok((id, changes))
}

/// An etag as sent: empty means "unconditionally".
pub fn etag(etag: &str) -> Option<&str> {
    (!etag.is_empty()).then_some(etag)
}

fn invalid(field: &'static str, problem: impl Into<String>) -> Error {
    Error::InvalidField {
        field,
        problem: problem.into(),
    }
}

/// A title or author, trimmed: not blank, not too long, no control characters.
fn text(field: &'static str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    let length = value.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters, got {length}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

fn category(value: i32) -> Result<Category, Error> {
    match recommendations::Category::try_from(value) {
        Ok(recommendations::Category::Unspecified) => Err(invalid(
            "book.category",
            "is required (CATEGORY_UNSPECIFIED is not a category)",
        )),
        Ok(wanted) => Category::ALL
            .into_iter()
            .find(|category| v1_category(*category) == wanted)
            .ok_or_else(|| invalid("book.category", format!("{value} is not a known category"))),
        Err(_) => Err(invalid(
            "book.category",
            format!("{value} is not a known category"),
        )),
    }
}

/// A year of first publication: from [`EARLIEST_YEAR`] to next year, and not 0 (there is no
/// year 0, and 0 is what a client that forgot the field sends).
fn year(value: i32) -> Result<i32, Error> {
    let latest = time::OffsetDateTime::now_utc().year() + 1;
    if value == 0 {
        return Err(invalid(
            "book.year",
            "is required (there is no year 0; use negative years for BCE)",
        ));
    }
    if !(EARLIEST_YEAR..=latest).contains(&value) {
        return Err(invalid(
            "book.year",
            format!("must be between {EARLIEST_YEAR} and {latest}, got {value}"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> catalog::Book {
        catalog::Book {
            name: "books/7".into(),
            title: "  The Nine Tailors ".into(),
            author: "Dorothy L. Sayers".into(),
            category: recommendations::Category::Mystery.into(),
            year: 1934,
            etag: String::new(),
        }
    }

    fn problem(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn new_books_are_trimmed_and_checked_field_by_field() {
        let fields = new_book(Some(book())).unwrap();
        assert_eq!(fields.title, "The Nine Tailors");
        assert_eq!(fields.category, Category::Mystery);
        let with = |change: fn(&mut catalog::Book)| {
            let mut book = book();
            change(&mut book);
            problem(new_book(Some(book)))
        };
        assert_eq!(
            with(|b| b.title = " ".into()),
            "book.title must not be empty"
        );
        assert_eq!(with(|b| b.author.clear()), "book.author must not be empty");
        assert_eq!(
            with(|b| b.title = "x".repeat(201)),
            "book.title must be at most 200 characters, got 201"
        );
        assert_eq!(
            with(|b| b.author = "a\u{7}b".into()),
            "book.author must not contain control characters"
        );
        assert!(with(|b| b.category = 0).starts_with("book.category is required"));
        assert_eq!(
            with(|b| b.category = 99),
            "book.category 99 is not a known category"
        );
        assert!(with(|b| b.year = 0).starts_with("book.year is required"));
        assert!(with(|b| b.year = 99_999).starts_with("book.year must be between -3000 and"));
        assert!(with(|b| b.year = -3001).contains("got -3001"));
        assert!(
            new_book(Some(catalog::Book {
                year: -800,
                ..book()
            }))
            .is_ok()
        );
        assert_eq!(problem(new_book(None)), "book is required");
    }

    #[test]
    fn names_are_books_slash_a_positive_id() {
        assert_eq!(book_id("name", "books/42").unwrap(), 42);
        assert_eq!(book_name(42), "books/42");
        for bad in [
            "",
            "42",
            "books/",
            "books/0",
            "books/042",
            "books/-1",
            "books/4x",
            "shelves/1/books/2",
            "books/99999999999",
        ] {
            assert_eq!(
                problem(book_id("name", bad)),
                format!("name must be books/{{id}} with a positive id, e.g. books/42, got {bad:?}")
            );
        }
    }

    #[test]
    fn update_masks_select_fields() {
        let mask = |paths: &[&str]| {
            Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            })
        };
        let (id, changes) = changes(Some(book()), mask(&["year"])).unwrap();
        assert_eq!(
            (id, changes),
            (
                7,
                BookChanges {
                    year: Some(1934),
                    ..Default::default()
                }
            )
        );
        // Empty mask: the fields set.
        let partial = catalog::Book {
            author: String::new(),
            category: 0,
            ..book()
        };
        let (_, implied) = super::changes(Some(partial), None).unwrap();
        assert_eq!(implied.title.as_deref(), Some("The Nine Tailors"));
        assert_eq!(
            (implied.author, implied.category, implied.year),
            (None, None, Some(1934))
        );
        // `*`: every field, so every field must be valid.
        let blank = catalog::Book {
            author: String::new(),
            ..book()
        };
        assert_eq!(
            problem(super::changes(Some(blank), mask(&["*"]))),
            "book.author must not be empty"
        );
        assert!(
            problem(super::changes(Some(book()), mask(&["isbn"])))
                .starts_with("update_mask names unknown field \"isbn\"")
        );
        assert!(
            problem(super::changes(Some(book()), mask(&["etag"])))
                .starts_with("update_mask cannot name \"etag\"")
        );
        let empty = catalog::Book {
            name: "books/7".into(),
            ..Default::default()
        };
        assert!(
            problem(super::changes(Some(empty), None)).starts_with("update_mask names no field")
        );
        let unnamed = catalog::Book {
            name: String::new(),
            ..book()
        };
        assert!(
            problem(super::changes(Some(unnamed), mask(&["year"])))
                .starts_with("book.name must be")
        );
        assert_eq!(etag(""), None);
        assert_eq!(etag("ab"), Some("ab"));
    }
}
