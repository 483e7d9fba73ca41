//! v1's `GetBook` and `SearchBooks` over a real gRPC channel: a book by id, found or not; search
//! by title and author words in any case, within a category or not; every refusal with its
//! code and message; and reflection describing both. Paging is in [`crate::paging`].

use std::collections::HashSet;

use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::Running;
use prost::Message as _;
use recommendations::{Catalog, Category, RunError};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::start;

pub(crate) async fn client(server: &Running<RunError>) -> RecommendationsServiceClient<Channel> {
    RecommendationsServiceClient::new(server.channel().await)
}

/// A search's first page.
pub(crate) fn search(
    query: &str,
    category: v1::Category,
    page_size: i32,
) -> v1::SearchBooksRequest {
    v1::SearchBooksRequest {
        query: query.to_owned(),
        category: category.into(),
        page_size,
        page_token: String::new(),
    }
}

fn titles(books: &[v1::Book]) -> Vec<&str> {
    books.iter().map(|book| book.title.as_str()).collect()
}

pub(crate) fn assert_refused(status: &Status, code: Code, message: &str) {
    assert_eq!((status.code(), status.message()), (code, message));
}

#[tokio::test]
async fn get_book_finds_a_book_or_says_why_not() {
    let server = start().await;
    let mut client = client(&server).await;
    let book = client.get_book(v1::GetBookRequest { id: 1 }).await.unwrap();
    let expected = v1::Book {
        id: 1,
        title: "The Maltese Falcon".to_owned(),
        author: "Dashiell Hammett".to_owned(),
        category: v1::Category::Mystery.into(),
        year: 1930,
    };
    assert_eq!(book.into_inner().book, Some(expected));
    for (id, code, message) in [
        (42_424, Code::NotFound, "no book with id 42424"),
        (
            i64::MAX,
            Code::NotFound,
            "no book with id 9223372036854775807",
        ),
        (0, Code::InvalidArgument, "id must be positive, got 0"),
        (-7, Code::InvalidArgument, "id must be positive, got -7"),
    ] {
        let status = client
            .get_book(v1::GetBookRequest { id })
            .await
            .unwrap_err();
        assert_refused(&status, code, message);
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn search_finds_title_and_author_words_in_any_case() {
    let server = start().await;
    let mut client = client(&server).await;
    let all = v1::Category::Unspecified;
    let cases: [(&str, &[&str]); 8] = [
        ("falcon", &["The Maltese Falcon"]),
        ("FaLcOn", &["The Maltese Falcon"]),
        ("hammett", &["The Maltese Falcon"]),
        (
            "  baskervilles   DOYLE ",
            &["The Hound of the Baskervilles"],
        ),
        ("doyle baskervilles", &["The Hound of the Baskervilles"]),
        ("BRONTË", &["Jane Eyre", "Wuthering Heights"]),
        ("falcon christie", &[]),
        ("zzzz", &[]),
    ];
    for (query, expected) in cases {
        let page = client.search_books(search(query, all, 0)).await.unwrap();
        let page = page.into_inner();
        assert_eq!(titles(&page.books), expected, "{query:?}");
        assert_eq!(page.total_size as usize, expected.len(), "{query:?}");
        assert!(page.next_page_token.is_empty(), "{query:?}");
    }
    // Every book by an author, whatever its category.
    let catalog = Catalog::built_in().unwrap();
    let by_christie: HashSet<i64> = Category::ALL
        .iter()
        .flat_map(|category| catalog.books(*category))
        .filter(|book| book.author == "Agatha Christie")
        .map(|book| i64::from(book.id))
        .collect();
    assert!(by_christie.len() >= 2);
    let page = client.search_books(search("agatha", all, 0)).await.unwrap();
    let found: HashSet<i64> = page.into_inner().books.iter().map(|book| book.id).collect();
    assert_eq!(found, by_christie);
    server.stop_cleanly().await;
}

#[tokio::test]
async fn long_queries_many_words_and_unknown_categories_are_refused() {
    let server = start().await;
    let mut client = client(&server).await;
    let longest = "ë".repeat(200);
    let page = client
        .search_books(search(&longest, v1::Category::Unspecified, 0))
        .await
        .unwrap();
    assert_eq!(page.into_inner().total_size, 0);
    let status = client
        .search_books(search(&format!("{longest}e"), v1::Category::Unspecified, 0))
        .await
        .unwrap_err();
    assert_refused(
        &status,
        Code::InvalidArgument,
        "query must be at most 200 characters, got 201",
    );
    // At most 16 different words; repeats, in any case, are one word.
    let letters: Vec<String> = ('a'..='q').map(String::from).collect();
    let sixteen = format!(
        "{0} {0} {1}",
        letters[..16].join(" "),
        letters[0].to_uppercase()
    );
    let page = client
        .search_books(search(&sixteen, v1::Category::Unspecified, 0))
        .await
        .unwrap();
    assert!(page.into_inner().total_size <= 1);
    let status = client
        .search_books(search(&letters.join(" "), v1::Category::Unspecified, 0))
        .await
        .unwrap_err();
    assert_refused(
        &status,
        Code::InvalidArgument,
        "query must have at most 16 different words, got 17",
    );
    let request = v1::SearchBooksRequest {
        category: 99,
        ..search("", v1::Category::Unspecified, 0)
    };
    let status = client.search_books(request).await.unwrap_err();
    assert_refused(
        &status,
        Code::InvalidArgument,
        "category 99 is not a known category; leave it CATEGORY_UNSPECIFIED to search every category",
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn reflection_describes_the_new_methods() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    const SERVICE: &str = "bookstore.recommendations.v1.RecommendationsService";
    let server = start().await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(SERVICE.to_owned())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("not a file: {response:?}");
    };
    let methods: Vec<String> = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()).unwrap())
        .filter(|file| file.package() == "bookstore.recommendations.v1")
        .flat_map(|file| file.service)
        .flat_map(|service| service.method)
        .map(|method| method.name().to_owned())
        .collect();
    assert_eq!(
        methods,
        ["Recommend", "ListCategories", "GetBook", "SearchBooks"]
    );
    server.stop_cleanly().await;
}
