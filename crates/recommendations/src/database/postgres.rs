//! [`CatalogStore`] on PostgreSQL, shared by every replica: writers queue on the version row's
//! lock, so an etag is checked and the book changed with no other write in between; every
//! statement gives up after [`STATEMENT_TIMEOUT`] (a stuck database must not hold a pool
//! connection forever).
//!
//! The statements are the ones SQLite runs (`statements.rs`); what differs is how connections
//! are made, the isolation of a load, and moving the id sequence on after seeding.

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::migrations::{self, AppliedMigration};
use super::statements as sql;
use super::{
    ACQUIRE_TIMEOUT, BookChanges, BookFields, CatalogStore, Loaded, MAX_CONNECTIONS, StoreError,
    Written, book_from_row, check_etag,
};
use crate::catalog::{Book, Catalog};

/// The longest one statement may run (a load of a million books takes about a second).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Moves the id sequence past the highest id, so new books never take a seeded one's.
const MOVE_ID_SEQUENCE: &str =
    "SELECT setval(pg_get_serial_sequence('books', 'id'), (SELECT max(id) FROM books))";

/// The catalog in a PostgreSQL database.
#[derive(Debug)]
pub(super) struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A store on the database `url` names, connected on first use.
    pub(super) fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::InvalidUrl)?
            .application_name("recommendations")
            .options([(
                "statement_timeout",
                format!("{}ms", STATEMENT_TIMEOUT.as_millis()),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

#[tonic::async_trait]
impl CatalogStore for PostgresStore {
    async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let before: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        migrations::migrator(migrations::POSTGRES)
            .run(&self.pool)
            .await
            .map_err(StoreError::from_migrate)?;
        Ok(migrations::applied_since(migrations::POSTGRES, &before))
    }

    async fn seed(&self, catalog: &Catalog) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let first = sqlx::query(sql::CLAIM_SEEDING)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if first == 0 {
            return Ok(false);
        }
        for batch in catalog.iter().collect::<Vec<_>>().chunks(sql::SEED_BATCH) {
            sql::insert_books(batch)
                .build()
                .execute(&mut *transaction)
                .await?;
        }
        // Seeded ids were given, not drawn: move the identity past them.
        sqlx::query(MOVE_ID_SEQUENCE)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn version(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::VERSION)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn load(&self) -> Result<Loaded, StoreError> {
        // One repeatable-read transaction: the version and the books are of one moment.
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *transaction)
            .await?;
        let version = sqlx::query_scalar(sql::VERSION)
            .fetch_one(&mut *transaction)
            .await?;
        let (mut books, mut unreadable) = (Vec::new(), Vec::new());
        let mut rows = sqlx::query_as::<_, sql::BookRow>(sql::ALL_BOOKS).fetch(&mut *transaction);
        while let Some((id, title, author, category, year)) = rows.try_next().await? {
            match book_from_row(id, title, author, &category, year) {
                Ok(book) => books.push(book),
                Err(problem) => unreadable.push(problem.to_string()),
            }
        }
        drop(rows);
        transaction.commit().await?;
        Ok(Loaded {
            version,
            books,
            unreadable,
        })
    }

    async fn create(&self, fields: &BookFields) -> Result<Written, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let version = sqlx::query_scalar(sql::BUMP_VERSION)
            .fetch_one(&mut *transaction)
            .await?;
        let (id, title, author, category, year) = sql::insert_book(fields)
            .fetch_one(&mut *transaction)
            .await?;
        let book = book_from_row(id, title, author, &category, year)?;
        transaction.commit().await?;
        Ok(Written {
            version,
            book: Some(book),
        })
    }

    async fn update(
        &self,
        id: u32,
        changes: &BookChanges,
        etag: Option<&str>,
    ) -> Result<Written, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let version = sqlx::query_scalar(sql::BUMP_VERSION)
            .fetch_one(&mut *transaction)
            .await?;
        let current = current_book(&mut transaction, id).await?;
        check_etag(&current, etag)?;
        let (id, title, author, category, year) = sql::update_book(id, changes)
            .fetch_one(&mut *transaction)
            .await?;
        let book = book_from_row(id, title, author, &category, year)?;
        transaction.commit().await?;
        Ok(Written {
            version,
            book: Some(book),
        })
    }

    async fn delete(&self, id: u32, etag: Option<&str>) -> Result<Written, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let version = sqlx::query_scalar(sql::BUMP_VERSION)
            .fetch_one(&mut *transaction)
            .await?;
        let current = current_book(&mut transaction, id).await?;
        check_etag(&current, etag)?;
        sqlx::query(sql::DELETE_BOOK)
            .bind(i64::from(id))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(Written {
            version,
            book: None,
        })
    }
}

/// Book `id` as it is inside `transaction`.
async fn current_book(
    transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: u32,
) -> Result<Book, StoreError> {
    let row: Option<sql::BookRow> = sqlx::query_as(sql::ONE_BOOK)
        .bind(i64::from(id))
        .fetch_optional(&mut **transaction)
        .await?;
    let (id, title, author, category, year) = row.ok_or(StoreError::NotFound { id })?;
    book_from_row(id, title, author, &category, year)
}
