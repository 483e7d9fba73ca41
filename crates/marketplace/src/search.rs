//! `GET /search?q=<words>&page_token=<t>`: books whose title or author holds every word, from
//! every category, a page of [`PAGE_SIZE`] at a time, with a "Next page" link while there are
//! more. No words: the page explains the search box. More than
//! [`MAX_QUERY_CHARS`](crate::pages::MAX_QUERY_CHARS) characters, or a page token the catalog
//! refuses: a 400 page that says so.

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bookstore_proto::recommendations::v1;
use serde::Deserialize;
use tower_http::request_id::RequestId;

use crate::error::Error;
use crate::pages::{MAX_QUERY_CHARS, SearchPage};
use crate::request::{AppState, parse_query, request_id};
use crate::respond::{PageError, render};

/// How many books a page of results shows (a multiple of 2, 3 and 4, so grids come out even).
pub(crate) const PAGE_SIZE: i32 = 12;

#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    page_token: Option<String>,
}

/// The words of `q`, trimmed; [`Error::QueryTooLong`] past the catalog's limit.
pub(crate) fn search_words(q: Option<&str>) -> Result<String, Error> {
    let words = q.unwrap_or_default().trim();
    if words.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::QueryTooLong {
            max: MAX_QUERY_CHARS,
        });
    }
    Ok(words.to_owned())
}

pub(crate) async fn search_page(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let query = parse_query(query)?;
    let words = search_words(query.q.as_deref())?;
    if words.is_empty() {
        return Ok(render(&SearchPage::hint(), StatusCode::OK));
    }
    let page_token = query.page_token.unwrap_or_default();
    let request = v1::SearchBooksRequest {
        query: words.clone(),
        category: v1::Category::Unspecified.into(),
        page_size: PAGE_SIZE,
        page_token: page_token.clone(),
    };
    let results = state
        .recommendations
        .search_books(request, request_id(&id))
        .await?;
    let page = SearchPage::results(words, page_token, results);
    Ok(render(&page, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_trimmed_and_limited_in_characters() {
        assert_eq!(search_words(None).unwrap(), "");
        assert_eq!(search_words(Some("  dune \n")).unwrap(), "dune");
        let longest = "é".repeat(MAX_QUERY_CHARS);
        assert_eq!(search_words(Some(&longest)).unwrap(), longest);
        let error = search_words(Some(&format!("{longest}x"))).unwrap_err();
        assert!(matches!(
            error,
            Error::QueryTooLong {
                max: MAX_QUERY_CHARS
            }
        ));
    }
}
