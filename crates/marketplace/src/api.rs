//! The JSON API: `/api/recommendations` (the homepage's books, any number from 1 to
//! [`MAX_API_RESULTS`]), `/api/books/{id}` and `/api/search` (the pages' data, as JSON). Errors
//! are the pages' errors with the same statuses, as `{"error": "<message>"}`.

use axum::Extension;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bookstore_layers::SafeJson;
use bookstore_proto::recommendations::v1;
use serde::Deserialize;
use tower_http::request_id::RequestId;

use crate::book::book_id;
use crate::book_view::BookView;
use crate::category;
use crate::error::Error;
use crate::home::{DEFAULT_CATEGORY, HOMEPAGE_RESULTS};
use crate::request::{AppState, category_of, parse_query, request_id};
use crate::respond::ApiError;
use crate::search::search_words;

/// The most books `/api/recommendations` returns in one answer.
pub(crate) const MAX_API_RESULTS: i32 = 50;
/// How many books a page of `/api/search` holds.
pub(crate) const API_PAGE_SIZE: i32 = 20;

#[derive(Debug, Deserialize)]
pub(crate) struct RecommendationsQuery {
    category: Option<String>,
    max_results: Option<String>,
}

fn max_results_of(text: Option<&str>) -> Result<i32, Error> {
    match text {
        None | Some("") => Ok(HOMEPAGE_RESULTS),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_API_RESULTS).contains(n))
            .ok_or_else(|| Error::BadMaxResults {
                text: text.to_owned(),
                max: MAX_API_RESULTS,
            }),
    }
}

#[derive(Debug, serde::Serialize)]
struct RecommendationsAnswer {
    category: &'static str,
    books: Vec<BookView>,
}

/// `GET /api/recommendations?category=<slug>&max_results=<n>`.
pub(crate) async fn recommendations(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<RecommendationsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let category = category_of(query.category.as_deref(), DEFAULT_CATEGORY)?;
    let max_results = max_results_of(query.max_results.as_deref())?;
    let books = state
        .recommendations
        .recommend(category, max_results, request_id(&id))
        .await?;
    let category = category::names_of(category).map_or("", |named| named.slug.as_str());
    Ok(SafeJson(RecommendationsAnswer { category, books }).into_response())
}

#[derive(Debug, serde::Serialize)]
struct BookAnswer {
    book: BookView,
}

/// `GET /api/books/{id}`.
pub(crate) async fn book(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let book_id = book_id(path)?;
    let book = state
        .recommendations
        .get_book(book_id, request_id(&id))
        .await?;
    Ok(SafeJson(BookAnswer { book }).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    category: Option<String>,
    page_token: Option<String>,
}

/// `GET /api/search?q=<words>&category=<slug>&page_token=<t>`: with no words, every book
/// (of the category, if one is given).
pub(crate) async fn search(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let request = v1::SearchBooksRequest {
        query: search_words(query.q.as_deref())?,
        category: category_of(query.category.as_deref(), v1::Category::Unspecified)?.into(),
        page_size: API_PAGE_SIZE,
        page_token: query.page_token.unwrap_or_default(),
    };
    let results = state
        .recommendations
        .search_books(request, request_id(&id))
        .await?;
    Ok(SafeJson(results).into_response())
}
