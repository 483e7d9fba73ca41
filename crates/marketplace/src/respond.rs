//! How answers are written: a page rendered with its status, an [`Error`] as a styled error
//! page ([`PageError`]) or as JSON ([`ApiError`]), always with the status `error.rs` gives it.
//! Handlers return `Result<Response, PageError>` (or `ApiError`) and use `?`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use bookstore_layers::SafeJson;

use crate::error::{Error, INTERNAL_MESSAGE};
use crate::pages::ErrorPage;

/// The page written when even the error page cannot be rendered (never expected: templates
/// are checked at compile time). Plain and self-contained.
const LAST_RESORT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Something went wrong — Online Books For You</title></head><body><main>\
    <h1>Something went wrong</h1><p><a href=\"/\">Back to the homepage</a></p></main></body></html>\n";

/// `page`, rendered, answered with `status`.
pub(crate) fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            let error = Error::from(error);
            match ErrorPage::new(error.heading(), INTERNAL_MESSAGE.to_owned()).render() {
                Ok(html) => (error.status(), Html(html)).into_response(),
                Err(_) => (error.status(), Html(LAST_RESORT)).into_response(),
            }
        }
    }
}

/// An error answered as a styled page.
#[derive(Debug)]
pub(crate) struct PageError(pub(crate) Error);

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = self.0;
        render(
            &ErrorPage::new(error.heading(), error.public_message()),
            error.status(),
        )
    }
}

/// An error answered as JSON: `{"error": "<message>"}`.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.0.public_message() });
        (self.0.status(), SafeJson(body)).into_response()
    }
}
