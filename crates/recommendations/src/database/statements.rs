//! The SQL both engines run, written once: `$N` parameters (which SQLite reads too) and only
//! what both engines mean the same by (`RETURNING`, `COALESCE`, a unique constraint).
//!
//! The statements that bind values are generic over the engine, so each engine's store binds
//! them to its own connection types without a second copy of the SQL.

use sqlx::query::QueryAs;
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use super::{BookChanges, BookFields};
use crate::catalog::Book;

/// A book as a row: id, title, author, category slug, year.
pub(super) type BookRow = (i64, String, String, String, i32);

/// The versions of the migrations applied (fails, harmlessly, before the first migration).
pub(super) const APPLIED_MIGRATIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

/// The catalog's version.
pub(super) const VERSION: &str = "SELECT version FROM catalog_version WHERE id = 1";

/// Takes the next version: the first statement of every write, so writers queue on this row
/// (PostgreSQL's row lock; SQLite's write lock, taken before anything is read) rather than
/// interleave.
pub(super) const BUMP_VERSION: &str =
    "UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version";

/// Claims the seeding of a database that never held books: one row changes for the first
/// replica only (the others wait on the row, then see version 1).
pub(super) const CLAIM_SEEDING: &str =
    "UPDATE catalog_version SET version = 1 WHERE id = 1 AND version = 0";

/// Every book (in no particular order: the snapshot sorts).
pub(super) const ALL_BOOKS: &str = "SELECT id, title, author, category, year FROM books";

/// One book.
pub(super) const ONE_BOOK: &str =
    "SELECT id, title, author, category, year FROM books WHERE id = $1";

/// Removes one book.
pub(super) const DELETE_BOOK: &str = "DELETE FROM books WHERE id = $1";

/// How many books one seeding statement inserts: five parameters each stays below SQLite's
/// limit of 32,766 parameters per statement.
pub(super) const SEED_BATCH: usize = 1_000;

/// Inserts `fields` as a new book, returning it.
pub(super) fn insert_book<'q, DB>(
    fields: &'q BookFields,
) -> QueryAs<'q, DB, BookRow, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    i32: Encode<'q, DB> + Type<DB>,
    BookRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(
        "INSERT INTO books (title, author, category, year) VALUES ($1, $2, $3, $4) \
         RETURNING id, title, author, category, year",
    )
    .bind(fields.title.as_str())
    .bind(fields.author.as_str())
    .bind(fields.category.slug())
    .bind(fields.year)
}

/// Changes the fields of book `id` that `changes` sets, returning the book.
pub(super) fn update_book<'q, DB>(
    id: u32,
    changes: &'q BookChanges,
) -> QueryAs<'q, DB, BookRow, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<i32>: Encode<'q, DB> + Type<DB>,
    BookRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(
        "UPDATE books SET title = COALESCE($2, title), author = COALESCE($3, author), \
         category = COALESCE($4, category), year = COALESCE($5, year) WHERE id = $1 \
         RETURNING id, title, author, category, year",
    )
    .bind(i64::from(id))
    .bind(changes.title.as_deref())
    .bind(changes.author.as_deref())
    .bind(changes.category.map(|category| category.slug()))
    .bind(changes.year)
}

/// Inserts `books`, keeping their ids (seeding).
pub(super) fn insert_books<'a, DB>(books: &[&'a Book]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
{
    let mut insert = QueryBuilder::new("INSERT INTO books (id, title, author, category, year) ");
    insert.push_values(books, |mut row, book| {
        row.push_bind(i64::from(book.id))
            .push_bind(book.title.as_str())
            .push_bind(book.author.as_str())
            .push_bind(book.category.slug())
            .push_bind(book.year);
    });
    insert
}
