//! The catalog's database, behind one trait ([`CatalogStore`]) with one implementation per
//! engine, both through sqlx's async drivers (nothing here blocks a runtime thread):
//!
//! - SQLite (`sqlite://PATH`), embedded, for one machine: the file is created on first use and
//!   runs in WAL mode, so readers never wait for the writer;
//! - PostgreSQL (`postgres://…`), shared by several replicas.
//!
//! Both keep one row per book and a `catalog_version` row that every write bumps in its own
//! transaction: it orders the writes (every writer updates that row first, so writers queue on
//! it instead of racing), and a replica learns that the catalog changed by reading one number
//! (`catalog_sync.rs`). Requests never wait on the database for reads: they are served from
//! the in-memory snapshot (`Recommender`); this module is for loading it and for writes.
//!
//! Migrations are embedded in the binary (`migrations/<engine>/*.sql`, see `migrations.rs`).

mod migrations;
mod postgres;
mod sqlite;
mod statements;

use std::time::Duration;

use crate::catalog::{Book, Catalog, Category};

pub use migrations::AppliedMigration;

/// How long a request waits for a connection before the database counts as unreachable: a
/// write then fails with UNAVAILABLE instead of queueing behind a database that is away.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// The most connections one process opens: writes are rare and short, loads are one query.
const MAX_CONNECTIONS: u32 = 4;

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no engine this service speaks (the URL itself is not repeated: it may
    /// carry a password).
    #[error(
        "DATABASE_URL must start with sqlite:// (e.g. sqlite://data/catalog.db) or postgres:// \
         (e.g. postgres://user:password@host:5432/bookstore), got one starting with {scheme:?}"
    )]
    UnsupportedUrl {
        /// What the URL starts with, up to its `:`.
        scheme: String,
    },
    /// The URL has a known scheme but cannot be read.
    #[error("DATABASE_URL is not valid: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// The database did not answer: down, unreachable, or out of connections.
    #[error("the catalog database is unreachable: {0}")]
    Unreachable(#[source] sqlx::Error),
    /// The last check found the database unreachable, so it was not tried again yet.
    #[error("the catalog database was unreachable at the last check")]
    Away,
    /// The database did not answer within the time allowed (a connection that died silently).
    #[error("the catalog database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The database is up but could not do it now (locked, a conflict, shutting down): worth
    /// trying again.
    #[error("the catalog database is busy: {0}")]
    Busy(#[source] sqlx::Error),
    /// A migration failed; it was rolled back, so the database is as it was.
    #[error("migrating the catalog database failed, nothing was changed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// Another book has this title and author.
    #[error("a book with this title and author already exists")]
    Duplicate,
    /// No book has this id.
    #[error("no book with id {id}")]
    NotFound {
        /// The id.
        id: u32,
    },
    /// The book changed since the client read it.
    #[error("book {id} changed since it was read (its etag is now {current})")]
    EtagMismatch {
        /// The book.
        id: u32,
        /// The book's etag now.
        current: String,
    },
    /// A row the service cannot read (written by something else, or a newer version).
    #[error("the catalog database holds a book this service cannot read: {problem}")]
    BadRow {
        /// Which row and why.
        problem: String,
    },
    /// Anything else the database said.
    #[error("the catalog database failed: {0}")]
    Query(#[source] sqlx::Error),
}

impl StoreError {
    /// Sorts a driver error: the database being away, a duplicate, or anything else.
    fn from_sqlx(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(database) if database.is_unique_violation() => Self::Duplicate,
            sqlx::Error::Database(database) if is_busy(database.code().as_deref()) => {
                Self::Busy(error)
            }
            _ if is_connection_failure(&error) => Self::Unreachable(error),
            _ => Self::Query(error),
        }
    }

    /// Sorts a migrator's error: the database being away while migrating is not the
    /// migration's fault (it is retried); anything else is.
    fn from_migrate(error: sqlx::migrate::MigrateError) -> Self {
        match error {
            sqlx::migrate::MigrateError::Execute(error) if is_connection_failure(&error) => {
                Self::Unreachable(error)
            }
            other => Self::Migration(other),
        }
    }

    /// Whether the database was away or did not answer (rather than refusing what was asked).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Away | Self::TimedOut(_))
    }
}

/// Whether `error` means the database did not answer (rather than refused what was asked).
fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's connection exceptions (class 08) and its shutting down (57P01-57P03).
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// Whether a database error `code` means "not now" rather than "never": SQLite's BUSY (5) and
/// LOCKED (6), with their extended codes; PostgreSQL's serialization failure, deadlock, lock
/// not available, statement timeout and read-only transaction (a standby after a failover).
fn is_busy(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    // SQLSTATEs are five characters; SQLite's (extended) result codes are shorter numbers.
    if code.len() == 5 {
        return matches!(code, "40001" | "40P01" | "55P03" | "57014" | "25006");
    }
    code.parse::<i32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6))
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::from_sqlx(error)
    }
}

/// A book's fields as a client sets them (checked by `book_rules.rs` before they get here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookFields {
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Genre.
    pub category: Category,
    /// Year of first publication.
    pub year: i32,
}

/// Some of a book's fields, to change (`None`: left as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookChanges {
    /// New title.
    pub title: Option<String>,
    /// New author.
    pub author: Option<String>,
    /// New genre.
    pub category: Option<Category>,
    /// New year.
    pub year: Option<i32>,
}

impl BookChanges {
    /// `book` with these changes made.
    pub fn apply(&self, book: &Book) -> Book {
        Book {
            id: book.id,
            title: self.title.clone().unwrap_or_else(|| book.title.clone()),
            author: self.author.clone().unwrap_or_else(|| book.author.clone()),
            category: self.category.unwrap_or(book.category),
            year: self.year.unwrap_or(book.year),
        }
    }
}

/// The catalog as read from the database.
#[derive(Debug)]
pub struct Loaded {
    /// The version the books were read at.
    pub version: i64,
    /// Every book this service can read, in no particular order.
    pub books: Vec<Book>,
    /// Why each of the others cannot be read (a row written by a newer version, say): they are
    /// left out rather than keeping the whole catalog from loading.
    pub unreadable: Vec<String>,
}

/// What a write left behind.
#[derive(Debug)]
pub struct Written {
    /// The catalog's version after the write.
    pub version: i64,
    /// The book as stored (`None` after a delete).
    pub book: Option<Book>,
}

/// A catalog database (see the module docs). Every method is one transaction.
#[tonic::async_trait]
pub trait CatalogStore: Send + Sync + std::fmt::Debug {
    /// Applies the migrations not applied yet, and says which it applied.
    async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError>;

    /// Writes `catalog`'s books, keeping their ids, if the database has never held books;
    /// says whether it did. Replicas starting together seed once.
    async fn seed(&self, catalog: &Catalog) -> Result<bool, StoreError>;

    /// The catalog's version: it changes with every write.
    async fn version(&self) -> Result<i64, StoreError>;

    /// Every book, and the version they were read at.
    async fn load(&self) -> Result<Loaded, StoreError>;

    /// Adds a book with a new id.
    async fn create(&self, fields: &BookFields) -> Result<Written, StoreError>;

    /// Changes book `id`, if its etag is still `etag` (when given).
    async fn update(
        &self,
        id: u32,
        changes: &BookChanges,
        etag: Option<&str>,
    ) -> Result<Written, StoreError>;

    /// Deletes book `id`, if its etag is still `etag` (when given).
    async fn delete(&self, id: u32, etag: Option<&str>) -> Result<Written, StoreError>;
}

/// Opens the database `url` names (lazily: nothing is connected until first used, so a
/// database that is away does not stop the service from starting).
pub fn open(url: &str) -> Result<Box<dyn CatalogStore>, StoreError> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "sqlite" => Ok(Box::new(sqlite::SqliteStore::open(url)?)),
        "postgres" | "postgresql" => Ok(Box::new(postgres::PostgresStore::open(url)?)),
        _ => Err(StoreError::UnsupportedUrl {
            scheme: scheme.chars().take(20).collect(),
        }),
    }
}

/// Applies the embedded migrations to the database `url` names (`bookstore db migrate`).
pub async fn migrate(url: &str) -> Result<Vec<AppliedMigration>, StoreError> {
    open(url)?.migrate().await
}

/// A book as read from a row, or why it cannot be.
fn book_from_row(
    id: i64,
    title: String,
    author: String,
    category: &str,
    year: i32,
) -> Result<Book, StoreError> {
    let bad = |problem: String| StoreError::BadRow { problem };
    let id = u32::try_from(id).map_err(|_| bad(format!("book id {id} is out of range")))?;
    let category = Category::from_slug(category)
        .ok_or_else(|| bad(format!("book {id} has unknown category {category:?}")))?;
    Ok(Book {
        id,
        title,
        author,
        category,
        year,
    })
}

/// The etag of a book's current contents (AIP-154): a hash of every field, so it changes
/// whenever the book does and is the same on every replica.
pub fn etag(book: &Book) -> String {
    use bookstore_layers::fnv;
    let mut hash = fnv::extend(fnv::EMPTY, &book.id.to_be_bytes());
    for field in [book.title.as_bytes(), book.author.as_bytes()] {
        hash = fnv::extend(fnv::extend(hash, field), &[0]);
    }
    hash = fnv::extend(hash, book.category.slug().as_bytes());
    hash = fnv::extend(hash, &book.year.to_be_bytes());
    format!("{hash:016x}")
}

/// Fails with [`StoreError::EtagMismatch`] unless `book`'s etag is `expected` (or none is).
fn check_etag(book: &Book, expected: Option<&str>) -> Result<(), StoreError> {
    let current = etag(book);
    match expected {
        Some(expected) if expected != current => Err(StoreError::EtagMismatch {
            id: book.id,
            current,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Book {
        Book {
            id: 7,
            title: "T".into(),
            author: "A".into(),
            category: Category::Mystery,
            year: 1930,
        }
    }

    #[test]
    fn etags_change_with_every_field() {
        let original = etag(&book());
        assert_eq!(original, etag(&book()), "stable");
        assert_eq!(original.len(), 16);
        let changes = [
            BookChanges {
                title: Some("U".into()),
                ..Default::default()
            },
            BookChanges {
                author: Some("B".into()),
                ..Default::default()
            },
            BookChanges {
                category: Some(Category::History),
                ..Default::default()
            },
            BookChanges {
                year: Some(1931),
                ..Default::default()
            },
        ];
        for change in changes {
            assert_ne!(etag(&change.apply(&book())), original, "{change:?}");
        }
        assert!(check_etag(&book(), Some(&original)).is_ok());
        assert!(check_etag(&book(), None).is_ok());
        assert!(matches!(
            check_etag(&book(), Some("0000000000000000")),
            Err(StoreError::EtagMismatch { current, .. }) if current == original
        ));
    }

    #[test]
    fn busy_codes_of_both_engines() {
        for busy in [
            "5", "6", "517", "262", "40001", "40P01", "55P03", "57014", "25006",
        ] {
            assert!(is_busy(Some(busy)), "{busy}");
        }
        for other in ["19", "2067", "23505", "42P01", "08006"] {
            assert!(!is_busy(Some(other)), "{other}");
        }
        assert!(!is_busy(None));
    }

    #[test]
    fn unknown_schemes_are_refused_without_repeating_the_url() {
        let error = open("mysql://root:secret@db/x").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(matches!(
            open("catalog.db"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
