//! The catalog in a database, through the real gRPC API on 127.0.0.1, on both engines: every
//! test below runs once on SQLite and once on PostgreSQL (`TEST_DATABASE_URL`; skipped loudly
//! without it, a failure in CI).
//!
//! - `api`: create, get, update, delete, and every validation rule; `listing`: pages of books;
//! - `replicas`: books survive restarts and are seen by every replica; concurrent writers;
//! - `outage`: the database going away and coming back, and a start without it;
//! - `startup`: migrations, seeding, read-only mode without a database.

mod api;
mod listing;
mod outage;
mod replicas;
mod startup;

use std::time::Duration;

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use bookstore_proto::recommendations::v1::Category;
use bookstore_testing::{Engine, Running, TestDatabase, spawn};
use recommendations::{Config, RunError};
use sqlx::Connection as _;
use tonic::transport::Channel;

/// Generates `sqlite::NAME` and `postgres::NAME` tests calling `NAME(Engine)` for each test.
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(bookstore_testing::Engine::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(bookstore_testing::Engine::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_engines;

/// A database for a test on `engine`, or `None` when the test is skipped.
async fn database(engine: Engine) -> Option<TestDatabase> {
    TestDatabase::new(engine).await
}

/// The configuration of a replica on `url`, checking for other replicas' writes often.
fn config(url: &str) -> Config {
    Config {
        database_url: Some(url.to_owned()),
        catalog_refresh: Duration::from_millis(100),
        ..Config::default()
    }
}

/// A replica on the database `url`.
async fn serve(url: &str) -> Running<RunError> {
    let config = config(url);
    spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await
}

/// A catalog client of `server`.
async fn client(server: &Running<RunError>) -> CatalogServiceClient<Channel> {
    CatalogServiceClient::new(server.channel().await)
}

/// A book to create.
fn book(title: &str, author: &str, category: Category, year: i32) -> catalog::Book {
    catalog::Book {
        title: title.to_owned(),
        author: author.to_owned(),
        category: category.into(),
        year,
        ..catalog::Book::default()
    }
}

/// Creates `book` through `client`, returning it as stored.
async fn create(client: &mut CatalogServiceClient<Channel>, book: catalog::Book) -> catalog::Book {
    client
        .create_book(catalog::CreateBookRequest { book: Some(book) })
        .await
        .expect("create the book")
        .into_inner()
        .book
        .expect("the created book")
}

/// Gets book `name` through `client`.
async fn get(
    client: &mut CatalogServiceClient<Channel>,
    name: &str,
) -> Result<catalog::Book, tonic::Status> {
    let response = client
        .get_book(catalog::GetBookRequest {
            name: name.to_owned(),
        })
        .await?;
    Ok(response.into_inner().book.expect("a book"))
}

/// Runs `statements` on the database `url`, one by one, returning the rows of the last (as
/// one text column).
pub(crate) async fn sql(engine: Engine, url: &str, statements: &[&str]) -> Vec<String> {
    let mut rows = Vec::new();
    match engine {
        Engine::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
                .await
                .unwrap();
            for statement in statements {
                rows = sqlx::query_scalar(statement)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
            }
        }
        Engine::Postgres => {
            let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
            for statement in statements {
                rows = sqlx::query_scalar(statement)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
            }
        }
    }
    rows
}
