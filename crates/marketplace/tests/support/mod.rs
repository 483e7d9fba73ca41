//! What the marketplace's integration tests share: a fake Recommendations service over a
//! made-up catalog, served on the platform's gRPC server, and the marketplace in front of it.
//!
//! The catalog: books 1 to [`CATALOG_SIZE`], book `n` in category `(n - 1) % 8 + 1` (so 50 a
//! category), titled `Book n <of> category c` (markup, to prove it is escaped) by one of five
//! authors, first published in `1800 + n` — or `10·n` BCE when `n` is a multiple of 7. Book
//! [`HARMLESS`] is the one book with its own title and author, for a search with one match.
//! Page tokens are `after <offset>/&`, so a link carrying one must encode it.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookstore_client::UpstreamOptions;
use bookstore_layers::Metrics;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_server::{
    RecommendationsService, RecommendationsServiceServer,
};
use bookstore_serve::{GrpcServer, Listeners, ServeError, ServerSettings};
use bookstore_testing::{Running, spawn, spawn_on};
use marketplace::{Config, RunError};
use tonic::{Request, Response, Status};

/// How many books the fake catalog holds.
pub(crate) const CATALOG_SIZE: i64 = 400;
/// The book with a title and author of its own.
pub(crate) const HARMLESS: i64 = 42;
/// The fake's authors: book `n` is by `AUTHORS[n % 5]`.
pub(crate) const AUTHORS: [&str; 5] =
    ["Ann Archer", "Bo Baker", "Cy Carter", "Di Dane", "Ed Eliot"];

/// Book `id` of the fake catalog, if it holds one.
pub(crate) fn fake_book(id: i64) -> Option<v1::Book> {
    if !(1..=CATALOG_SIZE).contains(&id) {
        return None;
    }
    let category = i32::try_from((id - 1) % 8 + 1).unwrap();
    let (title, author) = if id == HARMLESS {
        (
            "Mostly Harmless & <Other> Stories".to_owned(),
            "Douglas Adams".to_owned(),
        )
    } else {
        let author = AUTHORS[usize::try_from(id % 5).unwrap()];
        (
            format!("Book {id} <of> category {category}"),
            author.to_owned(),
        )
    };
    let id32 = i32::try_from(id).unwrap();
    let year = if id % 7 == 0 { -10 * id32 } else { 1800 + id32 };
    Some(v1::Book {
        id,
        title,
        author,
        category,
        year,
    })
}

/// The books `SearchBooks` finds for `query` in `category` (0 for all): those whose title or
/// author holds every word, ignoring case.
pub(crate) fn matching(query: &str, category: i32) -> Vec<v1::Book> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    (1..=CATALOG_SIZE)
        .filter_map(fake_book)
        .filter(|book| category == 0 || book.category == category)
        .filter(|book| {
            let text = format!("{} {}", book.title, book.author).to_lowercase();
            words.iter().all(|word| text.contains(word.as_str()))
        })
        .collect()
}

/// Where the page `token` names starts in `matches` results; `None` for a token `SearchBooks`
/// refuses.
pub(crate) fn token_offset(token: &str, matches: usize) -> Option<usize> {
    match token {
        "" => Some(0),
        token => token
            .strip_prefix("after ")
            .and_then(|rest| rest.strip_suffix("/&"))
            .and_then(|offset| offset.parse().ok())
            .filter(|offset| *offset < matches),
    }
}

/// The fake Recommendations service; each test sets how it misbehaves.
#[derive(Clone, Default)]
pub(crate) struct FakeRecommendations {
    /// How long every call waits before answering.
    pub(crate) delay: Duration,
    /// `Recommend` fails with UNAVAILABLE (the other methods answer).
    pub(crate) recommend_fails: bool,
    /// The `x-request-id` of every `Recommend` call.
    pub(crate) request_ids: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl RecommendationsService for FakeRecommendations {
    async fn recommend(
        &self,
        request: Request<v1::RecommendRequest>,
    ) -> Result<Response<v1::RecommendResponse>, Status> {
        if let Some(id) = request.metadata().get("x-request-id") {
            let id = id.to_str().unwrap().to_owned();
            self.request_ids.lock().unwrap().push(id);
        }
        tokio::time::sleep(self.delay).await;
        if self.recommend_fails {
            return Err(Status::unavailable("recommender down"));
        }
        let request = request.into_inner();
        let wanted = match request.max_results {
            0 => 3,
            n => usize::try_from(n.min(50)).map_err(|_| Status::invalid_argument("negative"))?,
        };
        let books = (1..=CATALOG_SIZE)
            .filter_map(fake_book)
            .filter(|book| book.category == request.category)
            .take(wanted)
            .collect();
        Ok(Response::new(v1::RecommendResponse { books }))
    }

    async fn list_categories(
        &self,
        _: Request<v1::ListCategoriesRequest>,
    ) -> Result<Response<v1::ListCategoriesResponse>, Status> {
        Ok(Response::new(v1::ListCategoriesResponse::default()))
    }

    async fn get_book(
        &self,
        request: Request<v1::GetBookRequest>,
    ) -> Result<Response<v1::GetBookResponse>, Status> {
        tokio::time::sleep(self.delay).await;
        let id = request.into_inner().id;
        if id <= 0 {
            return Err(Status::invalid_argument("id must be positive"));
        }
        let book = fake_book(id).ok_or_else(|| Status::not_found("no such book"))?;
        Ok(Response::new(v1::GetBookResponse { book: Some(book) }))
    }

    async fn search_books(
        &self,
        request: Request<v1::SearchBooksRequest>,
    ) -> Result<Response<v1::SearchBooksResponse>, Status> {
        tokio::time::sleep(self.delay).await;
        let request = request.into_inner();
        if request.query.chars().count() > 200 {
            return Err(Status::invalid_argument("query too long"));
        }
        let page_size = match request.page_size {
            0 => 20,
            n => usize::try_from(n.min(100)).map_err(|_| Status::invalid_argument("negative"))?,
        };
        let matching = matching(&request.query, request.category);
        let offset = token_offset(&request.page_token, matching.len())
            .ok_or_else(|| Status::invalid_argument("bad page token"))?;
        let end = (offset + page_size).min(matching.len());
        Ok(Response::new(v1::SearchBooksResponse {
            books: matching[offset..end].to_vec(),
            next_page_token: if end < matching.len() {
                format!("after {end}/&")
            } else {
                String::new()
            },
            total_size: i32::try_from(matching.len()).unwrap(),
        }))
    }
}

/// The fake, served on the platform's gRPC server on `listeners`.
pub(crate) fn start_upstream(
    listeners: Listeners,
    fake: FakeRecommendations,
) -> Running<ServeError> {
    let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new())
        .add_service(RecommendationsServiceServer::new(fake));
    spawn_on(listeners, |listeners, shutdown| {
        server.serve(listeners, shutdown)
    })
}

/// The marketplace, calling Recommendations at `recommendations_port` with short deadlines.
pub(crate) async fn start_marketplace(recommendations_port: u16) -> Running<RunError> {
    let config = Config {
        recommendations_host: "127.0.0.1".into(),
        recommendations_port,
        upstream: UpstreamOptions {
            upstream_timeout: Duration::from_millis(300),
            upstream_connect_timeout: Duration::from_millis(200),
            ..UpstreamOptions::default()
        },
        ..Config::default()
    };
    spawn(|listeners, shutdown| marketplace::run(listeners, config, shutdown)).await
}

/// The fake and the marketplace in front of it.
pub(crate) async fn system(fake: FakeRecommendations) -> (Running<ServeError>, Running<RunError>) {
    let listeners = Listeners::ephemeral().await.unwrap();
    let upstream = start_upstream(listeners, fake);
    let web = start_marketplace(upstream.addr().port()).await;
    (upstream, web)
}

/// `GET path`: the status and the body.
pub(crate) async fn get(base: &Running<RunError>, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", base.url())).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The ids of the books a page links to, in order.
pub(crate) fn book_links(html: &str) -> Vec<i64> {
    html.split("href=\"/books/")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// Where the page's `<a rel="next">` leads, as a path (its `&amp;` read back as `&`).
pub(crate) fn next_link(html: &str) -> Option<String> {
    let rest = html.split_once("<a rel=\"next\" href=\"")?.1;
    Some(rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
}

/// Checks what every page has: its language, `title`, the header with the site's name linking
/// home, the labelled search form, the category navigation, one `<main>` with one `<h1>`
/// holding `heading`, the favicon and the stylesheet — and no list items but `li_count` (the
/// homepage's three).
pub(crate) fn assert_frame(html: &str, title: &str, heading: &str, li_count: usize) {
    assert!(
        html.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert_eq!(html.matches("<title>").count(), 1, "{html}");
    assert!(
        html.contains(&format!("<title>{title}</title>")),
        "{title} in {html}"
    );
    assert!(html.contains("<a class=\"brand\" href=\"/\">Online Books For You</a>"));
    assert!(html.contains("<form role=\"search\" action=\"/search\" method=\"get\">"));
    assert!(html.contains("<label class=\"sr-only\" for=\"search-q\">"));
    assert!(html.contains("<input type=\"search\" id=\"search-q\" name=\"q\""));
    assert!(html.contains("<nav aria-label=\"Categories\">"));
    assert!(
        html.contains("<a href=\"/categories/science_fiction\""),
        "{html}"
    );
    assert_eq!(html.matches("<main").count(), 1, "{html}");
    assert_eq!(html.matches("<h1").count(), 1, "{html}");
    assert!(
        html.contains(&format!("<h1>{heading}</h1>")),
        "{heading} in {html}"
    );
    assert!(html.contains("<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"));
    let stylesheet = format!(
        "<link rel=\"stylesheet\" href=\"{}\">",
        marketplace::STYLESHEET_PATH
    );
    assert!(html.contains(&stylesheet), "{html}");
    // `<li` also starts `<link`.
    let items = html.matches("<li>").count() + html.matches("<li ").count();
    assert_eq!(items, li_count, "{html}");
    assert_eq!(html.matches("<li>").count(), li_count, "{html}");
}
