//! Start-up with a database: migrations applied once and reported, a migration that fails
//! stopping the service with one line and changing nothing; without a database, writes refused
//! saying how to enable them; under mutual TLS, only the writer identity may write.

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use bookstore_proto::recommendations::v1::Category;
use bookstore_testing::{Engine, spawn};
use bookstore_tls::{ClientTls, TlsSettings};
use recommendations::{Config, RunError};
use tonic::Code;
use tonic::transport::Endpoint;

use crate::{book, config, database, on_both_engines, sql};

on_both_engines!(
    migrations_apply_once_and_say_what_they_did,
    a_migration_that_fails_stops_the_service_and_changes_nothing,
);

async fn migrations_apply_once_and_say_what_they_did(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let applied = recommendations::database::migrate(database.url())
        .await
        .unwrap();
    let applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
    assert_eq!(applied, ["1 create books"]);
    assert!(
        recommendations::database::migrate(database.url())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_migration_that_fails_stops_the_service_and_changes_nothing(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    // Something else already has a `books` table: the first migration cannot apply.
    sql(
        engine,
        database.url(),
        &[
            "CREATE TABLE books (shelf TEXT)",
            "INSERT INTO books (shelf) VALUES ('kept')",
        ],
    )
    .await;
    let config = config(database.url());
    let server =
        spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await;
    let error = server.stop().await.unwrap_err();
    assert!(matches!(error, RunError::Database(_)), "{error:?}");
    let line = error.to_string();
    assert!(
        line.starts_with("migrating the catalog database failed, nothing was changed: "),
        "{line}"
    );
    assert!(!line.contains('\n'), "one line: {line}");
    assert_eq!(
        sql(engine, database.url(), &["SELECT shelf FROM books"]).await,
        ["kept"]
    );
    let tables = match engine {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE name = 'catalog_version'",
        Engine::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE tablename = 'catalog_version'"
        }
    };
    assert!(
        sql(engine, database.url(), &[tables]).await.is_empty(),
        "no half-made schema"
    );
}

#[tokio::test]
async fn without_a_database_writes_say_how_to_enable_them() {
    let server =
        spawn(|listeners, shutdown| recommendations::run(listeners, Config::default(), shutdown))
            .await;
    let mut client = CatalogServiceClient::new(server.channel().await);
    let refused = client
        .create_book(catalog::CreateBookRequest {
            book: Some(book("Emma", "Jane Austen", Category::Classics, 1815)),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("DATABASE_URL=sqlite://"),
        "{}",
        refused.message()
    );
    // Reads work on the built-in catalog.
    let first = client
        .get_book(catalog::GetBookRequest {
            name: "books/1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert_eq!(first.title, "The Maltese Falcon");
    server.stop_cleanly().await;
}

#[tokio::test]
async fn under_mutual_tls_only_the_admin_identity_may_write() {
    let certs = tempfile::tempdir().unwrap();
    bookstore_tls::dev_certs::write_bundle(
        certs.path(),
        &["recommendations", "admin", "loadgen"],
        true,
    )
    .unwrap();
    let database = bookstore_testing::TestDatabase::sqlite();
    let config = Config {
        serve: {
            let mut serve = recommendations::Config::default().serve;
            serve.tls = TlsSettings::mutual_from_dir(
                certs.path(),
                "recommendations",
                &["admin", "loadgen"],
            );
            serve
        },
        ..config(database.url())
    };
    let server =
        spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await;
    let client = |identity: &str| {
        let tls = ClientTls::load(
            &certs.path().join("ca.pem"),
            Some(&certs.path().join(format!("{identity}.pem"))),
            Some(&certs.path().join(format!("{identity}.key"))),
            Some("recommendations"),
        )
        .unwrap();
        let endpoint = Endpoint::from_shared(format!("https://{}", server.addr())).unwrap();
        tls.secure(endpoint, "127.0.0.1").unwrap()
    };
    let mut reader = CatalogServiceClient::new(client("loadgen").connect().await.unwrap());
    let refused = reader
        .create_book(catalog::CreateBookRequest {
            book: Some(book("Persuasion", "Jane Austen", Category::Classics, 1817)),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(
        refused.message(),
        "only admin may change the catalog; client \"loadgen\" may only read it"
    );
    let read = reader
        .get_book(catalog::GetBookRequest {
            name: "books/2".into(),
        })
        .await;
    assert!(read.is_ok(), "{read:?}");
    let mut admin = CatalogServiceClient::new(client("admin").connect().await.unwrap());
    let created = admin
        .create_book(catalog::CreateBookRequest {
            book: Some(book("Persuasion", "Jane Austen", Category::Classics, 1817)),
        })
        .await
        .unwrap();
    assert_eq!(created.into_inner().book.unwrap().title, "Persuasion");
    server.stop_cleanly().await;
}
