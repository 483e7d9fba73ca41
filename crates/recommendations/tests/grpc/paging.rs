//! Paging through `SearchBooks` over a real gRPC channel: a category listed whole, every match
//! exactly once and in order whatever the page size, page sizes' default and cap, and page
//! tokens that continue their own search only.

use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::spawn;
use recommendations::{Catalog, Category, Config};
use tonic::Code;
use tonic::transport::Channel;

use crate::books::{assert_refused, client, search};
use crate::start;

/// Every page of `request`'s search, checking on the way what each page promises.
async fn all_pages(
    client: &mut RecommendationsServiceClient<Channel>,
    request: v1::SearchBooksRequest,
) -> Vec<v1::Book> {
    following_pages(client, request, 0).await
}

/// The pages from `request`'s on, `seen` matches having come on the pages before it.
async fn following_pages(
    client: &mut RecommendationsServiceClient<Channel>,
    mut request: v1::SearchBooksRequest,
    seen: usize,
) -> Vec<v1::Book> {
    let mut books = Vec::new();
    loop {
        let page = client
            .search_books(request.clone())
            .await
            .unwrap()
            .into_inner();
        let size = usize::try_from(request.page_size).unwrap();
        let count = page.books.len();
        assert!(count <= size && count > 0, "{page:?}");
        books.extend(page.books);
        let total = page.total_size as usize;
        assert!(seen + books.len() <= total, "never more than the total");
        if page.next_page_token.is_empty() {
            assert_eq!(seen + books.len(), total, "every match, once the last page");
            return books;
        }
        assert_eq!(count, size.min(100), "a full page unless the last");
        request.page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_category_filters_and_an_empty_query_lists_it_in_title_order() {
    let server = start().await;
    let mut client = client(&server).await;
    let page = client
        .search_books(search("the", v1::Category::Mystery, 100))
        .await
        .unwrap()
        .into_inner();
    assert!(page.total_size >= 2, "{page:?}");
    assert!(
        page.books
            .iter()
            .all(|book| book.category == v1::Category::Mystery as i32
                && (book.title.to_lowercase().contains("the")
                    || book.author.to_lowercase().contains("the")))
    );
    let everywhere = client
        .search_books(search("the", v1::Category::Unspecified, 100))
        .await
        .unwrap()
        .into_inner();
    assert!(everywhere.total_size > page.total_size);

    let catalog = Catalog::built_in().unwrap();
    let listed = client
        .list_categories(v1::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner();
    for summary in listed.categories {
        let category = v1::Category::try_from(summary.category).unwrap();
        let books = all_pages(&mut client, search("", category, 3)).await;
        assert_eq!(books.len(), summary.book_count as usize, "{category:?}");
        let slug = category
            .as_str_name()
            .trim_start_matches("CATEGORY_")
            .to_ascii_lowercase();
        let mut expected: Vec<_> = catalog
            .books(Category::from_slug(&slug).unwrap())
            .iter()
            .collect();
        expected.sort_by_key(|book| (book.title.to_lowercase(), book.id));
        let expected: Vec<i64> = expected.iter().map(|book| i64::from(book.id)).collect();
        let ids: Vec<i64> = books.iter().map(|book| book.id).collect();
        assert_eq!(ids, expected, "{category:?}");
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn paging_gives_every_match_once_in_order() {
    let server = start().await;
    let mut client = client(&server).await;
    let unpaged = client
        .search_books(search("", v1::Category::Unspecified, 100))
        .await
        .unwrap()
        .into_inner();
    let total = Catalog::built_in().unwrap().len();
    assert_eq!(
        (unpaged.books.len(), unpaged.total_size as usize),
        (total, total)
    );
    assert!(unpaged.next_page_token.is_empty());
    let keys: Vec<_> = unpaged
        .books
        .iter()
        .map(|book| (book.title.to_lowercase(), book.id))
        .collect();
    assert!(keys.is_sorted(), "title order, then id: {keys:?}");
    for page_size in [1, 7, 20, 82, 83] {
        let paged = all_pages(
            &mut client,
            search("", v1::Category::Unspecified, page_size),
        )
        .await;
        assert_eq!(paged, unpaged.books, "page size {page_size}");
    }
    // page_size may change from page to page.
    let first = client
        .search_books(search("the", v1::Category::Unspecified, 5))
        .await
        .unwrap()
        .into_inner();
    let request = v1::SearchBooksRequest {
        page_token: first.next_page_token,
        ..search("the", v1::Category::Unspecified, 9)
    };
    let rest = following_pages(&mut client, request, first.books.len()).await;
    let everything = all_pages(&mut client, search("the", v1::Category::Unspecified, 100)).await;
    assert_eq!([first.books, rest].concat(), everything);
    server.stop_cleanly().await;
}

#[tokio::test]
async fn page_tokens_continue_only_their_own_search() {
    let server = start().await;
    let mut client = client(&server).await;
    let first = client
        .search_books(search("the", v1::Category::Mystery, 1))
        .await
        .unwrap()
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty());
    let with_token = |query: &str, category| v1::SearchBooksRequest {
        page_token: token.clone(),
        ..search(query, category, 1)
    };
    // The same words in another case, repeated, or with words inside them, are the same search.
    let second = client
        .search_books(with_token("THE", v1::Category::Mystery))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.books, first.books);
    for query in ["the the", "The t the h"] {
        let same = client
            .search_books(with_token(query, v1::Category::Mystery))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(same, second, "{query:?}");
    }
    let other = "page_token belongs to a search with another query or category; send it with the query and category it came from, or leave it empty for the first page";
    for (query, category) in [
        ("a", v1::Category::Mystery),
        ("the", v1::Category::History),
        ("the", v1::Category::Unspecified),
    ] {
        let status = client
            .search_books(with_token(query, category))
            .await
            .unwrap_err();
        assert_refused(&status, Code::InvalidArgument, other);
    }
    let malformed = "page_token is not a token this service issued; pass a next_page_token back unchanged, or leave it empty for the first page";
    let (_, fingerprint) = token.split_once('.').unwrap();
    for token in [
        "garbage".to_owned(),
        format!("{token}0"),
        format!("0.{fingerprint}"),
    ] {
        let request = v1::SearchBooksRequest {
            page_token: token,
            ..search("the", v1::Category::Mystery, 1)
        };
        let status = client.search_books(request).await.unwrap_err();
        assert_refused(&status, Code::InvalidArgument, malformed);
    }
    // Past the results (the catalog may have lost books since the token was written): an
    // empty last page.
    let past = client
        .search_books(v1::SearchBooksRequest {
            page_token: format!("1000.{fingerprint}"),
            ..search("the", v1::Category::Mystery, 1)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(past.books.is_empty() && past.next_page_token.is_empty());
    server.stop_cleanly().await;
}

/// A catalog of `count` mystery books whose titles repeat in other cases.
fn big_catalog(count: u32) -> String {
    (1..=count)
        .map(|id| {
            let title = if id % 2 == 0 { "apple" } else { "Apple" };
            format!("[[book]]\nid = {id}\ntitle = \"{title} {}\"\nauthor = \"A\"\ncategory = \"mystery\"\nyear = 2000\n", (count - id) / 4)
        })
        .collect()
}

#[tokio::test]
async fn page_sizes_default_to_20_and_are_capped_at_100() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, big_catalog(150)).unwrap();
    let config = Config {
        catalog: Some(path),
        ..Config::default()
    };
    let server =
        spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await;
    let mut client = client(&server).await;
    for (page_size, expected) in [(0, 20), (1, 1), (100, 100), (101, 100), (i32::MAX, 100)] {
        let page = client
            .search_books(search("", v1::Category::Mystery, page_size))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (page.books.len(), page.total_size),
            (expected, 150),
            "page size {page_size}"
        );
        assert!(!page.next_page_token.is_empty());
    }
    // Titles equal but for case are ordered by id.
    let books = all_pages(&mut client, search("apple", v1::Category::Unspecified, 100)).await;
    let first: Vec<(&str, i64)> = books[..5]
        .iter()
        .map(|book| (book.title.as_str(), book.id))
        .collect();
    let expected = [
        ("Apple 0", 147),
        ("apple 0", 148),
        ("Apple 0", 149),
        ("apple 0", 150),
        ("Apple 1", 143),
    ];
    assert_eq!(first, expected);
    let status = client
        .search_books(search("", v1::Category::Mystery, -1))
        .await
        .unwrap_err();
    assert_refused(
        &status,
        Code::InvalidArgument,
        "page_size must not be negative, got -1",
    );
    server.stop_cleanly().await;
}
