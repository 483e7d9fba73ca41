//! `GET /categories/{slug}?page_token=<t>`: every book of one category, a page at a time in
//! title order, with a "Next page" link while there are more. An unknown slug is a 404 page
//! (checked before any call); a page token the catalog refuses, a 400 page.

use axum::Extension;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bookstore_proto::recommendations::v1;
use serde::Deserialize;
use tower_http::request_id::RequestId;

use crate::category;
use crate::error::Error;
use crate::pages::CategoryPage;
use crate::request::{AppState, parse_query, request_id};
use crate::respond::{PageError, render};
use crate::search::PAGE_SIZE;

#[derive(Debug, Deserialize)]
pub(crate) struct CategoryQuery {
    page_token: Option<String>,
}

pub(crate) async fn category_page(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<CategoryQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let slug = path.map_or_else(|_| String::from("?"), |Path(slug)| slug);
    let named = category::from_slug(&slug)
        .and_then(category::names_of)
        .ok_or(Error::NoSuchCategory { slug })?;
    let page_token = parse_query(query)?.page_token.unwrap_or_default();
    let request = v1::SearchBooksRequest {
        query: String::new(),
        category: named.category.into(),
        page_size: PAGE_SIZE,
        page_token: page_token.clone(),
    };
    let results = state
        .recommendations
        .search_books(request, request_id(&id))
        .await?;
    Ok(render(
        &CategoryPage::new(named, page_token, results),
        StatusCode::OK,
    ))
}
