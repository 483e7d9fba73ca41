//! Create, get, list, update and delete through `bookstore.catalog.v1.CatalogService`, and the
//! status and message of every refusal.

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::recommendations::v1::Category;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::Engine;
use prost_types::FieldMask;
use tonic::Code;

use crate::listing::list_all;
use crate::{book, client, create, database, get, on_both_engines, serve, sql};

on_both_engines!(
    a_book_is_created_read_changed_and_deleted,
    every_rule_is_enforced_with_a_message_naming_the_field,
);

async fn a_book_is_created_read_changed_and_deleted(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let server = serve(database.url()).await;
    let mut client = client(&server).await;
    let created = create(
        &mut client,
        book(
            " The Nine Tailors ",
            "Dorothy L. Sayers",
            Category::Mystery,
            1934,
        ),
    )
    .await;
    let id: u32 = created
        .name
        .strip_prefix("books/")
        .unwrap()
        .parse()
        .unwrap();
    let seeded = recommendations::Catalog::built_in().unwrap();
    let highest = seeded.iter().map(|book| book.id).max().unwrap();
    assert!(
        id > highest,
        "a new id past the seeded books: {}",
        created.name
    );
    assert_eq!(created.title, "The Nine Tailors", "trimmed");
    assert_eq!(created.etag.len(), 16);
    assert_eq!(get(&mut client, &created.name).await.unwrap(), created);

    // Recommendations see it at once (this replica's own write).
    let mut recommendations = RecommendationsServiceClient::new(server.channel().await);
    let found = recommendations
        .get_book(bookstore_proto::recommendations::v1::GetBookRequest { id: id.into() })
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert_eq!(found.title, "The Nine Tailors");

    // An update names the fields it changes; the etag changes with the book.
    let mut changed = created.clone();
    changed.year = 1935;
    changed.title = "ignored: not in the mask".into();
    let updated = client
        .update_book(catalog::UpdateBookRequest {
            book: Some(changed),
            update_mask: Some(FieldMask {
                paths: vec!["year".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .book
        .unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.year),
        ("The Nine Tailors", 1935)
    );
    assert_ne!(updated.etag, created.etag);

    // A write with the old etag is refused; nothing changes.
    let stale = client
        .update_book(catalog::UpdateBookRequest {
            book: Some(catalog::Book {
                year: 1936,
                ..created.clone()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["year".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    assert!(
        stale.message().contains("changed since it was read"),
        "{}",
        stale.message()
    );
    let stale_delete = client
        .delete_book(catalog::DeleteBookRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(stale_delete.code(), Code::Aborted);
    assert_eq!(get(&mut client, &created.name).await.unwrap().year, 1935);

    client
        .delete_book(catalog::DeleteBookRequest {
            name: created.name.clone(),
            etag: updated.etag,
        })
        .await
        .unwrap();
    let gone = get(&mut client, &created.name).await.unwrap_err();
    assert_eq!(
        (gone.code(), gone.message()),
        (Code::NotFound, format!("no book with id {id}").as_str())
    );
    let again = client
        .delete_book(catalog::DeleteBookRequest {
            name: created.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    // A deleted book's id is not given to the next one.
    let next = create(
        &mut client,
        book("Gaudy Night", "Dorothy L. Sayers", Category::Mystery, 1935),
    )
    .await;
    assert_ne!(next.name, created.name);
    server.stop_cleanly().await;
}

async fn every_rule_is_enforced_with_a_message_naming_the_field(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let server = serve(database.url()).await;
    let mut client = client(&server).await;
    let good = || {
        book(
            "Strong Poison",
            "Dorothy L. Sayers",
            Category::Mystery,
            1930,
        )
    };
    let cases: Vec<(catalog::Book, Code, &str)> = vec![
        (
            catalog::Book {
                title: "  ".into(),
                ..good()
            },
            Code::InvalidArgument,
            "book.title must not be empty",
        ),
        (
            catalog::Book {
                author: String::new(),
                ..good()
            },
            Code::InvalidArgument,
            "book.author must not be empty",
        ),
        (
            catalog::Book {
                title: "x".repeat(201),
                ..good()
            },
            Code::InvalidArgument,
            "book.title must be at most 200 characters, got 201",
        ),
        (
            catalog::Book {
                category: 0,
                ..good()
            },
            Code::InvalidArgument,
            "book.category is required",
        ),
        (
            catalog::Book {
                category: 42,
                ..good()
            },
            Code::InvalidArgument,
            "book.category 42 is not a known category",
        ),
        (
            catalog::Book { year: 0, ..good() },
            Code::InvalidArgument,
            "book.year is required",
        ),
        (
            catalog::Book {
                year: 99_999,
                ..good()
            },
            Code::InvalidArgument,
            "book.year must be between -3000 and",
        ),
        // The tutorial's first book is seeded: the same title and author is a duplicate.
        (
            book(
                "The Maltese Falcon",
                "Dashiell Hammett",
                Category::Classics,
                1930,
            ),
            Code::AlreadyExists,
            "a book with this title and author is already in the catalog",
        ),
    ];
    let before = list_all(&mut client).await.len();
    let version = || async {
        let rows = sql(
            engine,
            database.url(),
            &["SELECT CAST(version AS TEXT) FROM catalog_version"],
        )
        .await;
        rows[0].parse::<i64>().unwrap()
    };
    let version_before = version().await;
    for (bad, code, message) in cases {
        let status = client
            .create_book(catalog::CreateBookRequest {
                book: Some(bad.clone()),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{bad:?}: {status:?}");
        assert!(
            status.message().starts_with(message),
            "{bad:?}: {}",
            status.message()
        );
    }
    let status = client
        .create_book(catalog::CreateBookRequest { book: None })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::InvalidArgument, "book is required")
    );
    assert_eq!(
        list_all(&mut client).await.len(),
        before,
        "nothing partial stored"
    );

    // Updates: a bad name, an unknown or read-only mask field, a duplicate, a missing book.
    let created = create(&mut client, good()).await;
    let update = |book: catalog::Book, paths: &[&str]| catalog::UpdateBookRequest {
        book: Some(book),
        update_mask: Some(FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
    };
    let cases = [
        (
            update(
                catalog::Book {
                    name: "book/1".into(),
                    ..good()
                },
                &["year"],
            ),
            Code::InvalidArgument,
            "book.name must be books/{id}",
        ),
        (
            update(created.clone(), &["isbn"]),
            Code::InvalidArgument,
            "update_mask names unknown field \"isbn\"",
        ),
        (
            update(created.clone(), &["name"]),
            Code::InvalidArgument,
            "update_mask cannot name \"name\"",
        ),
        (
            update(
                catalog::Book {
                    title: "The Maltese Falcon".into(),
                    author: "Dashiell Hammett".into(),
                    ..created.clone()
                },
                &["title", "author"],
            ),
            Code::AlreadyExists,
            "a book with this title and author",
        ),
        (
            update(
                catalog::Book {
                    name: "books/999999".into(),
                    ..good()
                },
                &["year"],
            ),
            Code::NotFound,
            "no book with id 999999",
        ),
        (
            update(
                catalog::Book {
                    etag: "0000000000000000".into(),
                    year: 1931,
                    ..created.clone()
                },
                &["year"],
            ),
            Code::Aborted,
            "books/",
        ),
    ];
    for (request, code, message) in cases {
        let status = client.update_book(request.clone()).await.unwrap_err();
        assert_eq!(status.code(), code, "{request:?}: {status:?}");
        assert!(
            status.message().starts_with(message),
            "{request:?}: {}",
            status.message()
        );
    }
    assert_eq!(
        get(&mut client, &created.name).await.unwrap(),
        created,
        "unchanged"
    );
    // The refusals that reached the database (a duplicate, a missing book, a stale etag) were
    // rolled back whole: only the one book created moved the catalog's version.
    assert_eq!(
        version().await,
        version_before + 1,
        "nothing partial stored"
    );
    for name in ["", "books/0", "books/abc", "7"] {
        let status = get(&mut client, name).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name:?}");
        assert!(
            status.message().starts_with("name must be books/{id}"),
            "{}",
            status.message()
        );
    }
    server.stop_cleanly().await;
}
