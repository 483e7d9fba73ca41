//! The HTTP routes — pages, a JSON API, the stylesheet and favicon, `/healthz` — in one
//! table. What the handlers share (the app state, reading a query string) is in `request.rs`,
//! so handlers never import the router.
//!
//! | route | answers |
//! |---|---|
//! | `GET /?category=<slug>` | the homepage: three recommendations (default `mystery`); 400 page for an unknown category; 200 with a notice when Recommendations is down |
//! | `GET /books/{id}` | a book's page, with up to three more of its category; 404 page for an unknown id or one not written canonically (ASCII digits, no sign, no leading zero: `/books/007` and `/books/+7` are not book 7's page, so a book has one URL); 503 page when Recommendations is down |
//! | `GET /search?q=<words>&page_token=<t>` | books whose title or author has every word, a page at a time (`<a rel="next">`); a hint for no words; 400 page for a bad page token or more than 200 characters; 503 page when Recommendations is down |
//! | `GET /categories/{slug}?page_token=<t>` | every book of a category, a page at a time; 404 page for an unknown slug; 400 for a bad page token; 503 when down |
//! | `GET /assets/style-<hash>.css` | the pages' stylesheet ([`STYLESHEET_PATH`](crate::STYLESHEET_PATH): its content's hash in its name), cached for good (`immutable`) |
//! | `GET /favicon.svg`, `GET /favicon.ico` | the icon, cached for a year |
//! | `GET /api/recommendations?category=<slug>&max_results=<1..50>` | JSON books; 400 / 503 JSON errors |
//! | `GET /api/books/{id}` | JSON `{"book": …}`; 404 / 503 JSON errors (ids as on the pages) |
//! | `GET /api/search?q=<words>&category=<slug>&page_token=<t>` | JSON `{"books", "next_page_token", "total_size"}`; 400 / 503 JSON errors |
//! | `GET /healthz` | `ok` while the process serves (it does not depend on Recommendations) |
//! | any other path | 404 page (JSON under `/api/`); a known path with another method: 405 page with `Allow` |
//!
//! A query string that cannot be read (a field given twice, say) is a 400 on every route that
//! reads one. JSON answers are [`SafeJson`](bookstore_layers::SafeJson): `<`, `>` and `&`
//! written as `\u003c`, `\u003e`, `\u0026`, so no answer echoes markup from a query string.
//!
//! When Recommendations is down or slow the homepage still renders (200) with a notice, and
//! every page recovers by itself when the service returns: the channel reconnects on the
//! next call.

use axum::Router;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::Error;
use crate::request::AppState;
use crate::respond::{ApiError, PageError};
use crate::{api, assets, book, category_page, home, search};

/// The marketplace's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::homepage))
        .route("/books/{id}", get(book::book_page))
        .route("/search", get(search::search_page))
        .route("/categories/{slug}", get(category_page::category_page))
        .route(
            assets::STYLESHEET_PATH,
            get(|| async { assets::STYLESHEET.response() }),
        )
        .route("/favicon.svg", get(assets::favicon_svg))
        .route("/favicon.ico", get(assets::favicon_ico))
        .route("/api/recommendations", get(api::recommendations))
        .route("/api/books/{id}", get(api::book))
        .route("/api/search", get(api::search))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Any path no route answers.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(Error::NoSuchPage).into_response()
    } else {
        PageError(Error::NoSuchPage).into_response()
    }
}

/// A known path asked with a method it does not take (axum adds the `Allow` header).
async fn method_not_allowed(method: Method) -> PageError {
    PageError(Error::MethodNotAllowed {
        method: method.to_string(),
    })
}
