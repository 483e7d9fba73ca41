//! `GET /`: the tutorial's homepage — three recommended books of one category (mystery
//! unless `?category=` says otherwise), as the three `<li>` of the page. When Recommendations
//! is down or slow it still answers 200, with a notice in place of the books.

use axum::Extension;
use axum::extract::Query;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::Response;
use bookstore_proto::recommendations::v1;
use serde::Deserialize;
use tower_http::request_id::RequestId;

use crate::error::UNAVAILABLE_MESSAGE;
use crate::pages::HomePage;
use crate::request::{AppState, category_of, parse_query, request_id};
use crate::respond::{PageError, render};

/// How many books the homepage shows, as in the tutorial.
pub(crate) const HOMEPAGE_RESULTS: i32 = 3;
/// The homepage's category when none is asked for, as in the tutorial.
pub(crate) const DEFAULT_CATEGORY: v1::Category = v1::Category::Mystery;

#[derive(Debug, Deserialize)]
pub(crate) struct HomeQuery {
    category: Option<String>,
}

pub(crate) async fn homepage(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<HomeQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let query = parse_query(query)?;
    let category = category_of(query.category.as_deref(), DEFAULT_CATEGORY)?;
    let page = match state
        .recommendations
        .recommend(category, HOMEPAGE_RESULTS, request_id(&id))
        .await
    {
        Ok(books) => HomePage::new(category, books),
        Err(_) => HomePage::unavailable(category, UNAVAILABLE_MESSAGE),
    };
    Ok(render(&page, StatusCode::OK))
}
