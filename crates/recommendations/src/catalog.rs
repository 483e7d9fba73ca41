//! The book catalog: categories, books, and loading a catalog file with every rule checked
//! up front, so a bad file stops the service at start-up with one clear line instead of
//! surfacing as odd answers later.
//!
//! The file format is TOML, one `[[book]]` table per book (see `data/catalog.toml`, which is
//! compiled in as the default).

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::category::Category;

/// Why a catalog cannot be served: each stops the service at start-up with one line.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The catalog is not valid TOML of the expected shape.
    #[error("catalog {origin} is malformed: {message}")]
    Parse {
        /// The file, or "built-in".
        origin: String,
        /// What the parser said, with the line.
        message: String,
    },
    /// The catalog breaks a rule (duplicate id, empty title, unknown category, ...).
    #[error("catalog {origin} is invalid: {problem}")]
    Invalid {
        /// The file, or "built-in".
        origin: String,
        /// Which book and which rule.
        problem: String,
    },
}

/// The catalog compiled into the binary.
pub const BUILT_IN_CATALOG: &str = include_str!("../data/catalog.toml");

/// A book in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Book {
    /// Stable id (the tutorial's books keep 1 to 9).
    pub id: u32,
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Genre.
    pub category: Category,
    /// Year of first publication; negative for BCE.
    pub year: i32,
}

/// Books grouped by category.
#[derive(Clone, Debug)]
pub struct Catalog {
    by_category: [Vec<Book>; Category::ALL.len()],
}

/// One `[[book]]` table as written in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookRecord {
    id: u32,
    title: String,
    author: String,
    category: String,
    year: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    book: Vec<BookRecord>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn built_in() -> Result<Self, CatalogError> {
        Self::parse(BUILT_IN_CATALOG, "built-in")
    }

    /// Reads and validates a catalog file.
    pub fn load(path: &Path) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates catalog text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|error| CatalogError::Parse {
            origin: origin.to_owned(),
            message: error.message().to_owned() + &line_of(text, error.span()),
        })?;
        let invalid = |problem: String| CatalogError::Invalid {
            origin: origin.to_owned(),
            problem,
        };
        if file.book.is_empty() {
            return Err(invalid("it contains no books".to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        let mut by_category: [Vec<Book>; Category::ALL.len()] = Default::default();
        for record in file.book {
            let id = record.id;
            if id == 0 {
                return Err(invalid("book ids start at 1, found id 0".to_owned()));
            }
            if !seen.insert(id) {
                return Err(invalid(format!("book id {id} appears more than once")));
            }
            if record.title.trim().is_empty() {
                return Err(invalid(format!("book {id} has an empty title")));
            }
            if record.author.trim().is_empty() {
                return Err(invalid(format!("book {id} has an empty author")));
            }
            let category = Category::from_slug(&record.category).ok_or_else(|| {
                let known: Vec<_> = Category::ALL.iter().map(|c| c.slug()).collect();
                invalid(format!(
                    "book {id} has unknown category {:?} (expected one of: {})",
                    record.category,
                    known.join(", ")
                ))
            })?;
            by_category[category.index()].push(Book {
                id,
                title: record.title,
                author: record.author,
                category,
                year: record.year,
            });
        }
        Ok(Self::from_books(by_category.into_iter().flatten()))
    }

    /// A catalog of `books` as they are (a database's rows, checked when written): ids are
    /// expected to be distinct. It may be empty.
    pub fn from_books(books: impl IntoIterator<Item = Book>) -> Self {
        let mut by_category: [Vec<Book>; Category::ALL.len()] = Default::default();
        for book in books {
            by_category[book.category.index()].push(book);
        }
        for books in &mut by_category {
            books.sort_unstable_by_key(|book| book.id);
        }
        Self { by_category }
    }

    /// The books in `category`, in order of id.
    pub fn books(&self, category: Category) -> &[Book] {
        &self.by_category[category.index()]
    }

    /// Every book, category by category, each in order of id.
    pub fn iter(&self) -> impl Iterator<Item = &Book> {
        self.by_category.iter().flatten()
    }

    /// Up to `size` books of `category` (or of every category) with ids above `after`, in order
    /// of id, and whether more follow: a page of a listing that stays in place while books are
    /// added and removed. It costs O(log books + size), however large the catalog.
    pub fn page_after(
        &self,
        category: Option<Category>,
        after: u32,
        size: usize,
    ) -> (Vec<&Book>, bool) {
        fn from(books: &[Book], after: u32) -> &[Book] {
            &books[books.partition_point(|book| book.id <= after)..]
        }
        let mut page: Vec<&Book> = match category {
            Some(category) => from(self.books(category), after)
                .iter()
                .take(size + 1)
                .collect(),
            // Each category's next `size + 1` books hold the next `size + 1` of all.
            None => {
                let mut page: Vec<&Book> = self
                    .by_category
                    .iter()
                    .flat_map(|books| from(books, after).iter().take(size + 1))
                    .collect();
                page.sort_unstable_by_key(|book| book.id);
                page
            }
        };
        let more = page.len() > size;
        page.truncate(size);
        (page, more)
    }

    /// How many books the catalog holds.
    pub fn len(&self) -> usize {
        self.by_category.iter().map(Vec::len).sum()
    }

    /// Whether the catalog is empty (a loaded catalog never is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many books `category` (or the whole catalog) holds.
    pub fn count(&self, category: Option<Category>) -> usize {
        category.map_or_else(|| self.len(), |category| self.books(category).len())
    }
}

/// " (line N)" for a parse error's byte span, so the message points at the problem.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_has_the_tutorials_books_and_more() {
        let catalog = Catalog::built_in().unwrap();
        let titles = |category| -> Vec<(u32, &str)> {
            catalog
                .books(category)
                .iter()
                .map(|b| (b.id, b.title.as_str()))
                .collect()
        };
        let mystery = titles(Category::Mystery);
        assert!(mystery.contains(&(1, "The Maltese Falcon")));
        assert!(mystery.contains(&(2, "Murder on the Orient Express")));
        assert!(mystery.contains(&(3, "The Hound of the Baskervilles")));
        let sci_fi = titles(Category::ScienceFiction);
        assert!(sci_fi.contains(&(4, "The Hitchhiker's Guide to the Galaxy")));
        assert!(sci_fi.contains(&(5, "Ender's Game")));
        assert!(sci_fi.contains(&(6, "The Dune Chronicles")));
        let self_help = titles(Category::SelfHelp);
        assert!(self_help.contains(&(7, "The 7 Habits of Highly Effective People")));
        assert!(self_help.contains(&(8, "How to Win Friends and Influence People")));
        assert!(self_help.contains(&(9, "Man's Search for Meaning")));
        assert!(
            catalog.len() >= 69,
            "at least 60 books beyond the tutorial's nine"
        );
        let populated = Category::ALL
            .iter()
            .filter(|c| !catalog.books(**c).is_empty())
            .count();
        assert!(populated >= 6);
    }

    fn book(id: u32, title: &str, category: &str) -> String {
        format!(
            "[[book]]\nid = {id}\ntitle = \"{title}\"\nauthor = \"A. Author\"\ncategory = \"{category}\"\nyear = 2000\n"
        )
    }

    fn problem(text: &str) -> String {
        Catalog::parse(text, "test.toml").unwrap_err().to_string()
    }

    #[test]
    fn pages_follow_ids_across_and_within_categories() {
        let catalog = Catalog::built_in().unwrap();
        let mut all: Vec<u32> = catalog.iter().map(|book| book.id).collect();
        all.sort_unstable();
        for category in std::iter::once(None).chain(Category::ALL.map(Some)) {
            let expected: Vec<u32> = all
                .iter()
                .copied()
                .filter(|id| {
                    category.is_none_or(|c| catalog.iter().any(|b| b.id == *id && b.category == c))
                })
                .collect();
            for size in [1, 7, 100] {
                let (mut after, mut seen) = (0, Vec::new());
                loop {
                    let (page, more) = catalog.page_after(category, after, size);
                    assert!(page.len() <= size);
                    seen.extend(page.iter().map(|book| book.id));
                    match page.last() {
                        Some(last) if more => after = last.id,
                        _ => break,
                    }
                }
                assert_eq!(seen, expected, "{category:?} by {size}");
                assert_eq!(catalog.count(category), expected.len());
            }
        }
        // A page starts after its token's id even if that book is gone.
        let (page, _) = catalog.page_after(None, 4, 1);
        assert_eq!(page[0].id, 5);
    }

    #[test]
    fn rejects_duplicate_ids() {
        let text = book(1, "A", "mystery") + &book(1, "B", "mystery");
        assert_eq!(
            problem(&text),
            "catalog test.toml is invalid: book id 1 appears more than once"
        );
    }

    #[test]
    fn rejects_empty_titles() {
        assert_eq!(
            problem(&book(4, "  ", "history")),
            "catalog test.toml is invalid: book 4 has an empty title"
        );
    }

    #[test]
    fn rejects_unknown_categories_naming_the_known_ones() {
        let message = problem(&book(5, "Odes", "poetry"));
        assert!(
            message.contains("book 5 has unknown category \"poetry\""),
            "{message}"
        );
        assert!(
            message.contains("mystery, science_fiction, self_help"),
            "{message}"
        );
    }

    #[test]
    fn rejects_malformed_files_with_the_line() {
        let message = problem(
            "[[book]]\nid = 1\ntitle = \"x\"\nauthor = \"y\"\ncategory = \"mystery\"\nyear = \"soon\"\n",
        );
        assert!(
            message.starts_with("catalog test.toml is malformed:"),
            "{message}"
        );
        assert!(message.contains("(line 6)"), "{message}");
        assert!(problem("").contains("contains no books"));
        assert!(problem(&(book(1, "A", "mystery") + "colour = \"red\"\n")).contains("malformed"));
    }
}
