//! [`CatalogStore`] on SQLite: one file, created on first use, in WAL mode (readers never wait
//! for the writer, and a crash loses no committed write), waiting up to five seconds for
//! another writer's lock rather than failing at once.
//!
//! SQL is written with `$N` parameters, which SQLite reads as well as PostgreSQL does, so the
//! statements (in `statements.rs`) are shared; what differs is how connections are made and
//! how a seeded id sequence is moved on.

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::migrations::{self, AppliedMigration};
use super::statements as sql;
use super::{
    ACQUIRE_TIMEOUT, BookChanges, BookFields, CatalogStore, Loaded, MAX_CONNECTIONS, StoreError,
    Written, book_from_row, check_etag,
};
use crate::catalog::{Book, Catalog};

/// The catalog in an SQLite file.
#[derive(Debug)]
pub(super) struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// A store on the file `url` names (`sqlite://PATH`), connected on first use.
    pub(super) fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::InvalidUrl)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses no committed transaction on a process crash, only (maybe)
            // the last ones on a power cut; FULL would fsync every commit.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

#[tonic::async_trait]
impl CatalogStore for SqliteStore {
    async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let before: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        let migrator = migrations::migrator(migrations::SQLITE);
        if let Err(error) = migrator.run(&self.pool).await {
            // sqlx takes no lock to migrate SQLite: a process starting beside this one may
            // have applied the same migration first (this one's attempt then failed and rolled
            // back). If so, a second run finds nothing left to do; if not, it fails again.
            migrator
                .run(&self.pool)
                .await
                .map_err(|_| StoreError::from_migrate(error))?;
        }
        Ok(migrations::applied_since(migrations::SQLITE, &before))
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
        transaction.commit().await?;
        Ok(true)
    }

    async fn version(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::VERSION)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn load(&self) -> Result<Loaded, StoreError> {
        // One read transaction: the version and the books are of one moment.
        let mut transaction = self.pool.begin().await?;
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
    transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: u32,
) -> Result<Book, StoreError> {
    let row: Option<sql::BookRow> = sqlx::query_as(sql::ONE_BOOK)
        .bind(i64::from(id))
        .fetch_optional(&mut **transaction)
        .await?;
    let (id, title, author, category, year) = row.ok_or(StoreError::NotFound { id })?;
    book_from_row(id, title, author, &category, year)
}
