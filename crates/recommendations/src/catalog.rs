//! The book catalog: categories, books, and loading a catalog file with every rule checked
//! up front, so a bad file stops the service at start-up with one clear line instead of
//! surfacing as odd answers later.
//!
//! The file format is TOML, one `[[book]]` table per book (see `data/catalog.toml`, which is
//! compiled in as the default).

use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// A genre. The domain's own type: the legacy and v1 APIs each map their enum onto it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Mystery.
    Mystery,
    /// Science fiction.
    ScienceFiction,
    /// Self-help.
    SelfHelp,
    /// Fantasy.
    Fantasy,
    /// History.
    History,
    /// Biography.
    Biography,
    /// Classics.
    Classics,
    /// Popular science.
    Science,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Self; 8] = [
        Self::Mystery,
        Self::ScienceFiction,
        Self::SelfHelp,
        Self::Fantasy,
        Self::History,
        Self::Biography,
        Self::Classics,
        Self::Science,
    ];

    /// The name used in catalog files and URLs, e.g. `science_fiction`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Mystery => "mystery",
            Self::ScienceFiction => "science_fiction",
            Self::SelfHelp => "self_help",
            Self::Fantasy => "fantasy",
            Self::History => "history",
            Self::Biography => "biography",
            Self::Classics => "classics",
            Self::Science => "science",
        }
    }

    /// The name shown to people, e.g. `Science fiction`.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Mystery => "Mystery",
            Self::ScienceFiction => "Science fiction",
            Self::SelfHelp => "Self-help",
            Self::Fantasy => "Fantasy",
            Self::History => "History",
            Self::Biography => "Biography",
            Self::Classics => "Classics",
            Self::Science => "Science",
        }
    }

    /// The category with this slug.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.slug() == slug)
    }

    /// The category's position in [`Category::ALL`], for tables indexed by category.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

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
        Ok(Self { by_category })
    }

    /// The books in `category`, in file order.
    pub fn books(&self, category: Category) -> &[Book] {
        &self.by_category[category.index()]
    }

    /// How many books the catalog holds.
    pub fn len(&self) -> usize {
        self.by_category.iter().map(Vec::len).sum()
    }

    /// Whether the catalog is empty (a loaded catalog never is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
