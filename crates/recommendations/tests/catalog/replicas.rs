//! Books survive restarts and are seen by every replica (two servers on one database: one
//! SQLite file, or one PostgreSQL database); concurrent writers through both replicas.

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::recommendations::v1::Category;
use bookstore_testing::Engine;
use prost_types::FieldMask;
use tonic::Code;

use crate::listing::list_all;
use crate::{book, client, create, database, get, on_both_engines, serve};

on_both_engines!(
    books_survive_a_restart_and_the_seed_is_not_repeated,
    every_replica_sees_every_write,
    concurrent_writers_keep_every_rule,
);

async fn books_survive_a_restart_and_the_seed_is_not_repeated(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let server = serve(database.url()).await;
    let mut before = client(&server).await;
    let created = create(
        &mut before,
        book(
            "The Singing Sands",
            "Josephine Tey",
            Category::Mystery,
            1952,
        ),
    )
    .await;
    before
        .delete_book(catalog::DeleteBookRequest {
            name: "books/1".into(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let count = list_all(&mut before).await.len();
    server.stop_cleanly().await;

    let server = serve(database.url()).await;
    let mut after = client(&server).await;
    assert_eq!(get(&mut after, &created.name).await.unwrap(), created);
    assert_eq!(
        get(&mut after, "books/1").await.unwrap_err().code(),
        Code::NotFound,
        "not seeded again"
    );
    assert_eq!(list_all(&mut after).await.len(), count);
    server.stop_cleanly().await;
}

async fn every_replica_sees_every_write(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let (one, two) = (serve(database.url()).await, serve(database.url()).await);
    let (mut one_client, mut two_client) = (client(&one).await, client(&two).await);
    let created = create(
        &mut one_client,
        book("Brat Farrar", "Josephine Tey", Category::Mystery, 1949),
    )
    .await;
    wait_until(&mut two_client, &created.name, |book| book.is_ok()).await;
    let updated = two_client
        .update_book(catalog::UpdateBookRequest {
            book: Some(catalog::Book {
                year: 1950,
                ..created.clone()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["year".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    wait_until(&mut one_client, &created.name, |book| {
        book.is_ok_and(|b| b.year == 1950)
    })
    .await;
    one_client
        .delete_book(catalog::DeleteBookRequest {
            name: created.name.clone(),
            etag: updated.etag,
        })
        .await
        .unwrap();
    wait_until(&mut two_client, &created.name, |book| {
        book.is_err_and(|s| s.code() == Code::NotFound)
    })
    .await;
    one.stop_cleanly().await;
    two.stop_cleanly().await;
}

/// Polls book `name` through `client` until `done` says so (or fails the test after 10 s).
async fn wait_until(
    client: &mut bookstore_proto::catalog::v1::catalog_service_client::CatalogServiceClient<
        tonic::transport::Channel,
    >,
    name: &str,
    done: impl Fn(Result<catalog::Book, tonic::Status>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done(get(client, name).await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never reached the expected state"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn concurrent_writers_keep_every_rule(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let (one, two) = (serve(database.url()).await, serve(database.url()).await);
    let clients = [client(&one).await, client(&two).await];
    let before = list_all(&mut clients[0].clone()).await.len();

    // Twenty different books at once, through both replicas: all stored, each once.
    let writes = (0..20).map(|n| {
        let mut client = clients[n % 2].clone();
        async move {
            client
                .create_book(catalog::CreateBookRequest {
                    book: Some(book(
                        &format!("Volume {n}"),
                        "The Encyclopaedists",
                        Category::Science,
                        1751,
                    )),
                })
                .await
        }
    });
    let results = futures_util::future::join_all(writes).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    // The same book eight times at once: one is stored, the others are told it exists.
    let same = (0..8).map(|n| {
        let mut client = clients[n % 2].clone();
        async move {
            client
                .create_book(catalog::CreateBookRequest {
                    book: Some(book(
                        "Miss Pym Disposes",
                        "Josephine Tey",
                        Category::Mystery,
                        1946,
                    )),
                })
                .await
        }
    });
    let results = futures_util::future::join_all(same).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|s| s.code() == Code::AlreadyExists)
    );

    // Eight updates from the same read at once: one wins, the others are ABORTED.
    let read = get(&mut clients[0].clone(), "books/2").await.unwrap();
    let updates = (0..8).map(|n| {
        let mut client = clients[n % 2].clone();
        let book = catalog::Book {
            year: 1900 + n as i32,
            ..read.clone()
        };
        async move {
            client
                .update_book(catalog::UpdateBookRequest {
                    book: Some(book),
                    update_mask: Some(FieldMask {
                        paths: vec!["year".into()],
                    }),
                })
                .await
        }
    });
    let results = futures_util::future::join_all(updates).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|s| s.code() == Code::Aborted)
    );

    for client in &clients {
        let mut client = client.clone();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while list_all(&mut client).await.len() != before + 21 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "every replica lists 21 new books"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    one.stop_cleanly().await;
    two.stop_cleanly().await;
}
