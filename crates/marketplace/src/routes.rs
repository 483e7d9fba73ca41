//! The HTTP routes: the homepage (any category), a JSON API, and `/healthz`.
//!
//! | route | answers |
//! |---|---|
//! | `GET /?category=<slug>` | the homepage (default `mystery`); 400 page for an unknown category |
//! | `GET /api/recommendations?category=<slug>&max_results=<1..50>` | JSON books; 400 / 503 JSON errors |
//! | `GET /healthz` | `ok` while the process serves (it does not depend on Recommendations) |
//!
//! JSON answers are [`SafeJson`]: `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026`, so no
//! answer echoes markup from a query string.
//!
//! When Recommendations is down or slow the homepage still renders (200) with a notice, and
//! recovers by itself when the service returns: the channel reconnects on the next call.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bookstore_layers::SafeJson;
use bookstore_proto::recommendations::v1;
use serde::Deserialize;
use tower_http::request_id::RequestId;

use crate::category;
use crate::error::{Error, UNAVAILABLE_MESSAGE};
use crate::pages::{ErrorPage, HomePage};
use crate::upstream::{BookView, Recommendations};

/// How many books the homepage shows, as in the tutorial.
pub const HOMEPAGE_RESULTS: i32 = 3;
/// The most books the JSON API returns in one answer.
pub const MAX_API_RESULTS: i32 = 50;
const DEFAULT_CATEGORY: v1::Category = v1::Category::Mystery;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Recommendations client.
    pub recommendations: Recommendations,
}

/// The marketplace's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(homepage))
        .route("/api/recommendations", get(api_recommendations))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    category: Option<String>,
    max_results: Option<String>,
}

fn category_of(query: &PageQuery) -> Result<v1::Category, Error> {
    match query.category.as_deref() {
        None | Some("") => Ok(DEFAULT_CATEGORY),
        Some(slug) => category::from_slug(slug).ok_or_else(|| Error::UnknownCategory {
            slug: slug.to_owned(),
            known: category::named()
                .iter()
                .map(|named| named.slug.as_str())
                .collect(),
        }),
    }
}

fn max_results_of(query: &PageQuery) -> Result<i32, Error> {
    match query.max_results.as_deref() {
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

fn parse_query(query: Result<Query<PageQuery>, QueryRejection>) -> Result<PageQuery, Error> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| Error::BadQueryString(rejection.body_text()))
}

fn request_id(id: &Option<Extension<RequestId>>) -> Option<&str> {
    id.as_ref()
        .and_then(|Extension(id)| id.header_value().to_str().ok())
}

async fn homepage(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let category = match parse_query(query).and_then(|query| category_of(&query)) {
        Ok(category) => category,
        Err(error) => return html_error(&error),
    };
    let page = match state
        .recommendations
        .recommend(category, HOMEPAGE_RESULTS, request_id(&id))
        .await
    {
        Ok(books) => HomePage::new(category, books),
        Err(_) => HomePage::unavailable(category, UNAVAILABLE_MESSAGE),
    };
    render(&page, StatusCode::OK)
}

#[derive(Debug, serde::Serialize)]
struct ApiAnswer {
    category: &'static str,
    books: Vec<BookView>,
}

async fn api_recommendations(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let answer = async {
        let query = parse_query(query)?;
        let category = category_of(&query)?;
        let max_results = max_results_of(&query)?;
        let books = state
            .recommendations
            .recommend(category, max_results, request_id(&id))
            .await?;
        Ok::<_, Error>(ApiAnswer {
            category: category::names_of(category).map_or("", |named| named.slug.as_str()),
            books,
        })
    };
    match answer.await {
        Ok(answer) => SafeJson(answer).into_response(),
        Err(error) => {
            let body = serde_json::json!({ "error": error.public_message() });
            (error.status(), SafeJson(body)).into_response()
        }
    }
}

fn html_error(error: &Error) -> Response {
    let title = match error.status() {
        StatusCode::BAD_REQUEST => "That page does not exist",
        _ => "Something went wrong",
    };
    render(
        &ErrorPage::new(title, error.public_message()),
        error.status(),
    )
}

fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Error::from(error).public_message(),
            )
                .into_response()
        }
    }
}
