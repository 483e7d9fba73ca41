//! Listing the catalog: every book, page by page in order of id, by category; page tokens that
//! stay good while books are added, and belong to their filter.

use bookstore_proto::catalog::v1 as catalog;
use bookstore_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use bookstore_proto::recommendations::v1::Category;
use bookstore_testing::Engine;
use tonic::Code;
use tonic::transport::Channel;

use crate::{book, client, create, database, on_both_engines, serve};

on_both_engines!(listing_pages_through_every_book_and_filters_by_category);

/// Every book, page by page.
pub(crate) async fn list_all(client: &mut CatalogServiceClient<Channel>) -> Vec<catalog::Book> {
    let (mut books, mut token) = (Vec::new(), String::new());
    loop {
        let page = client
            .list_books(catalog::ListBooksRequest {
                page_size: 30,
                page_token: token,
                category: 0,
            })
            .await
            .unwrap()
            .into_inner();
        books.extend(page.books);
        if page.next_page_token.is_empty() {
            return books;
        }
        token = page.next_page_token;
    }
}

async fn listing_pages_through_every_book_and_filters_by_category(engine: Engine) {
    let Some(database) = database(engine).await else {
        return;
    };
    let server = serve(database.url()).await;
    let mut client = client(&server).await;
    let all = list_all(&mut client).await;
    let seeded = recommendations::Catalog::built_in().unwrap();
    assert_eq!(all.len(), seeded.len());
    let names: Vec<u32> = all.iter().map(|b| b.name[6..].parse().unwrap()).collect();
    assert!(names.is_sorted() && names[0] == 1, "in order of id");

    // A page token stays good while books are added before and after it.
    let first = client
        .list_books(catalog::ListBooksRequest {
            page_size: 2,
            page_token: String::new(),
            category: Category::History.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.books.len(), 2);
    assert!(
        first
            .books
            .iter()
            .all(|b| b.category == i32::from(Category::History))
    );
    let added = create(
        &mut client,
        book("SPQR", "Mary Beard", Category::History, 2015),
    )
    .await;
    let rest = client
        .list_books(catalog::ListBooksRequest {
            page_size: 100,
            page_token: first.next_page_token.clone(),
            category: Category::History.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rest.books.last().unwrap().name,
        added.name,
        "the new book comes last"
    );
    assert_eq!(
        rest.total_size as usize,
        first.books.len() + rest.books.len()
    );
    assert!(rest.next_page_token.is_empty());
    // A token belongs to its filter.
    let other = client
        .list_books(catalog::ListBooksRequest {
            page_size: 2,
            page_token: first.next_page_token,
            category: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::InvalidArgument);
    let negative = client
        .list_books(catalog::ListBooksRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(negative.message(), "page_size must not be negative, got -1");
    server.stop_cleanly().await;
}
