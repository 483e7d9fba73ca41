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

use crate::category;
use crate::cover::{self, Cover};
use crate::error::Error;

/// A book as the pages and the JSON API show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BookView {
    /// Catalog id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Year of first publication; negative for BCE, 0 when unknown.
    pub year: i32,
    /// Category, as its URL slug in JSON.
    #[serde(serialize_with = "serialize_slug")]
    pub category: v1::Category,
}

fn serialize_slug<S: serde::Serializer>(
    category: &v1::Category,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(category::names_of(*category).map_or("", |named| &named.slug))
}

impl From<v1::Book> for BookView {
    fn from(book: v1::Book) -> Self {
        Self {
            id: book.id,
            title: book.title,
            author: book.author,
            year: book.year,
            category: v1::Category::try_from(book.category).unwrap_or_default(),
        }
    }
}

impl BookView {
    /// The year as a reader writes it: `1930`, `430 BCE`; `None` when unknown.
    pub fn year_label(&self) -> Option<String> {
        match self.year {
            0 => None,
            year if year < 0 => Some(format!("{} BCE", year.unsigned_abs())),
            year => Some(year.to_string()),
        }
    }

    /// The category's names, if the book has a category the marketplace knows.
    pub fn category_names(&self) -> Option<&'static category::Named> {
        category::names_of(self.category)
    }

    /// The book's generated cover.
    pub fn cover(&self) -> Cover {
        cover::cover(&self.title, self.category)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn book(year: i32) -> BookView {
        BookView::from(v1::Book {
            id: 1,
            title: "T".into(),
            author: "A".into(),
            category: v1::Category::History.into(),
            year,
        })
    }

    #[test]
    fn years_read_as_written() {
        assert_eq!(book(1930).year_label().as_deref(), Some("1930"));
        assert_eq!(book(-430).year_label().as_deref(), Some("430 BCE"));
        assert_eq!(book(0).year_label(), None);
        assert_eq!(
            book(i32::MIN).year_label().as_deref(),
            Some("2147483648 BCE")
        );
    }

    #[test]
    fn json_names_the_category_by_its_slug() {
        let json = serde_json::to_value(book(2000)).unwrap();
        assert_eq!(json["category"], "history");
        let unknown = BookView::from(v1::Book {
            category: 99,
            ..v1::Book::default()
        });
        assert_eq!(unknown.category, v1::Category::Unspecified);
        assert_eq!(serde_json::to_value(unknown).unwrap()["category"], "");
    }
}
