//! The marketplace's one long-lived client of the Recommendations service: `recommend`,
//! `get_book` and `search_books`, each within the call deadline, each answering with the
//! books as pages show them ([`BookView`]).
//!
//! What a gRPC status means depends on the call, so it is read here, once per method: a
//! `NOT_FOUND` from `GetBook` is an unknown book, an `INVALID_ARGUMENT` from `SearchBooks` a
//! bad page token (the query's length is checked before the call); anything else means the
//! service could not answer ([`Error::Upstream`]). How each error reaches a visitor is
//! `error.rs`'s business.

use std::sync::Arc;

use bookstore_client::{GrpcChannel, UpstreamConfig};
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use tonic::{Code, Status};

use crate::book_view::BookView;
use crate::error::Error;

/// One page of a search's results.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SearchResults {
    /// The books of this page.
    pub books: Vec<BookView>,
    /// The token of the next page; empty on the last page.
    pub next_page_token: String,
    /// How many books match, over all pages.
    pub total_size: i32,
}

/// Calls Recommendations over one shared channel; cheap to clone.
#[derive(Clone, Debug)]
pub struct Recommendations {
    client: RecommendationsServiceClient<GrpcChannel>,
    // Behind an `Arc`: axum clones the app state, and so this, for every request.
    config: Arc<UpstreamConfig>,
}

impl Recommendations {
    /// Calls the service at `config` over `channel`.
    pub fn new(channel: GrpcChannel, config: UpstreamConfig) -> Self {
        Self {
            client: RecommendationsServiceClient::new(channel),
            config: Arc::new(config),
        }
    }

    /// Up to `max_results` books of `category`, within the call deadline.
    pub async fn recommend(
        &self,
        category: v1::Category,
        max_results: i32,
        request_id: Option<&str>,
    ) -> Result<Vec<BookView>, Error> {
        let request = v1::RecommendRequest {
            user_id: 1,
            category: category.into(),
            max_results,
        };
        let response = self
            .client
            .clone()
            .recommend(self.config.request(request, request_id))
            .await
            .map_err(|status| Error::Upstream(self.failed("Recommend", status, request_id)))?;
        Ok(response
            .into_inner()
            .books
            .into_iter()
            .map(BookView::from)
            .collect())
    }

    /// The book with catalog id `id` (positive); [`Error::NoSuchBook`] if there is none.
    pub async fn get_book(&self, id: i64, request_id: Option<&str>) -> Result<BookView, Error> {
        let request = self.config.request(v1::GetBookRequest { id }, request_id);
        let response =
            self.client
                .clone()
                .get_book(request)
                .await
                .map_err(|status| match status.code() {
                    Code::NotFound => Error::NoSuchBook { id: id.to_string() },
                    _ => Error::Upstream(self.failed("GetBook", status, request_id)),
                })?;
        let book = response.into_inner().book.ok_or_else(|| {
            let status = Status::internal("GetBook answered without a book");
            Error::Upstream(self.failed("GetBook", status, request_id))
        })?;
        Ok(book.into())
    }

    /// One page of the books matching `request` (see `SearchBooks` in the proto).
    pub async fn search_books(
        &self,
        request: v1::SearchBooksRequest,
        request_id: Option<&str>,
    ) -> Result<SearchResults, Error> {
        let first_page = request.page_token.is_empty();
        let response = self
            .client
            .clone()
            .search_books(self.config.request(request, request_id))
            .await
            .map_err(|status| match status.code() {
                Code::InvalidArgument if first_page => Error::SearchRejected,
                Code::InvalidArgument => Error::BadPageToken,
                _ => Error::Upstream(self.failed("SearchBooks", status, request_id)),
            })?
            .into_inner();
        Ok(SearchResults {
            books: response.books.into_iter().map(BookView::from).collect(),
            next_page_token: response.next_page_token,
            total_size: response.total_size,
        })
    }

    /// Logs a call that failed, and hands its status on.
    fn failed(&self, method: &'static str, status: Status, request_id: Option<&str>) -> Status {
        tracing::warn!(
            method,
            code = ?status.code(),
            message = status.message(),
            request_id = request_id.unwrap_or("-"),
            upstream = %self.config.uri(),
            "recommendations call failed"
        );
        status
    }
}
