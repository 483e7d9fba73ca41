//! The gateway's routes: the JSON API `GET /api/ncr/{n}/{r}`, `GET /healthz`, two HTML
//! pages for people ([`crate::pages`]) — the usage page `GET /` with a form, and the form's
//! answer `GET /ncr?n=..&r=..` — and their stylesheet, `GET /assets/style-<hash>.css`
//! ([`STYLESHEET_PATH`]), cached for good since its URL changes with its content.
//!
//! Every answer under `/api` is JSON of the article's shape, `{"input": [n, r], "ncr": ...,
//! "msg": ...}`:
//!
//! - 200: `{"input": [10, 3], "ncr": 120, "ncr_decimal": "120", "msg": "Success"}` (see
//!   [`crate::ncr`] for when `"ncr"` is a number and when a string);
//! - 400, 404, 502, 503: `{"input": ..., "ncr": null, "msg": "<what went wrong>"}`; a 400 or 404
//!   message ends with the expected format.
//!
//! `"input"` echoes the path segments: each as a number when it is a whole number, else as the
//! string sent, cut short ([`shorten_input`]). Every answer is [`SafeJson`]: `<`, `>` and `&`
//! written as `\u003c`, `\u003e`, `\u0026`, so no answer echoes markup from a request.
//!
//! The answer page computes through the very code the API does ([`Gateway::ncr`]), answers with
//! the API's status (200, 400, 502, 503) and shows the API's `"msg"` on a failure; a missing
//! field counts as empty, and of a repeated one the first counts. Any other path is a 404: JSON
//! under `/api`, as the API's clients expect, and elsewhere an HTML page pointing to `/`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bookstore_layers::{REQUEST_ID_HEADER, SafeJson, quote_input, shorten_input};
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::gateway::Gateway;
use crate::ncr::whole_number;
use crate::pages::{AnswerPage, FormInput, NotFoundPage, STYLESHEET, STYLESHEET_PATH, UsagePage};

/// The route of the nCr endpoint.
pub const NCR_ROUTE: &str = "/api/ncr/{n}/{r}";

/// The route of the form's answer page.
pub const NCR_PAGE_ROUTE: &str = "/ncr";

/// The gateway's routes (`serve_http` adds `/metrics`).
pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/", get(usage_page))
        .route(NCR_PAGE_ROUTE, get(answer_page))
        .route(NCR_ROUTE, get(ncr))
        .route("/healthz", get(healthz))
        .route(STYLESHEET_PATH, get(|| async { STYLESHEET.response() }))
        .fallback(not_found)
        .with_state(gateway)
}

/// Every JSON answer, fields in the article's order.
#[derive(Debug, Serialize)]
struct NcrBody {
    /// `[n, r]` as sent (see the module docs); null when there was no input.
    input: Value,
    /// The answer, or null.
    ncr: Value,
    /// The exact answer in base 10; only on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    ncr_decimal: Option<String>,
    /// "Success", or what went wrong.
    msg: String,
}

/// What a client should send, for error messages.
fn usage(max_n: u64) -> String {
    format!(
        "use /api/ncr/{{n}}/{{r}} with whole numbers 0 <= r <= n <= {max_n}, e.g. /api/ncr/10/3"
    )
}

/// A path segment as echoed in `"input"`.
fn echo(name: &'static str, segment: &str) -> Value {
    match whole_number(name, segment) {
        Ok(Some(value)) => value.into(),
        _ => shorten_input(segment).into(),
    }
}

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
}

/// What the client reads when nCr could not be computed, in the API and on the answer page
/// alike: for bad input, what to fix and the expected format; otherwise what happened in general
/// terms, the detail going to the log.
fn failure_message(error: &Error, max_n: u64, request_id: Option<&str>) -> String {
    if error.is_bad_input() {
        return format!("{error}; {}", usage(max_n));
    }
    tracing::warn!(
        request_id = request_id.unwrap_or("-"),
        status = error.status().as_u16(),
        %error,
        "nCr request failed"
    );
    error.client_message()
}

async fn ncr(
    State(gateway): State<Gateway>,
    Path((n, r)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let input = Value::Array(vec![echo("n", &n), echo("r", &r)]);
    let request_id = request_id(&headers);
    match gateway.ncr(&n, &r, request_id).await {
        Ok(answer) => SafeJson(NcrBody {
            input,
            ncr: answer.json_value(),
            ncr_decimal: Some(answer.decimal),
            msg: "Success".to_owned(),
        })
        .into_response(),
        Err(error) => (
            error.status(),
            SafeJson(NcrBody {
                input,
                ncr: Value::Null,
                ncr_decimal: None,
                msg: failure_message(&error, gateway.max_n(), request_id),
            }),
        )
            .into_response(),
    }
}

/// Liveness: the gateway answers. It does not depend on the Factorial service, so a restart of
/// that service does not restart the gateway too.
async fn healthz() -> &'static str {
    "ok\n"
}

async fn usage_page(State(gateway): State<Gateway>) -> Response {
    render(&UsagePage::new(gateway.max_n()), StatusCode::OK)
}

/// The form's fields from the query string: the first of each, empty if missing. (A query
/// string always decodes, invalid UTF-8 lossily, so this extractor never rejects.)
fn form_input(fields: Vec<(String, String)>) -> FormInput {
    let first = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    FormInput {
        n: first("n"),
        r: first("r"),
    }
}

async fn answer_page(
    State(gateway): State<Gateway>,
    Query(fields): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let form = form_input(fields);
    let request_id = request_id(&headers);
    let max_n = gateway.max_n();
    match gateway.ncr(&form.n, &form.r, request_id).await {
        Ok(answer) => {
            let shown = (
                echo("n", &form.n).to_string(),
                echo("r", &form.r).to_string(),
            );
            let page = AnswerPage::answer(max_n, form, (&shown.0, &shown.1), answer.decimal);
            render(&page, StatusCode::OK)
        }
        Err(error) => {
            let message = failure_message(&error, max_n, request_id);
            render(&AnswerPage::failure(max_n, form, message), error.status())
        }
    }
}

async fn not_found(State(gateway): State<Gateway>, uri: Uri) -> Response {
    let path = uri.path();
    if path != "/api" && !path.starts_with("/api/") {
        return render(&NotFoundPage::new(quote_input(path)), StatusCode::NOT_FOUND);
    }
    let msg = format!(
        "no such endpoint {}; {}",
        quote_input(path),
        usage(gateway.max_n())
    );
    (
        StatusCode::NOT_FOUND,
        SafeJson(NcrBody {
            input: Value::Null,
            ncr: Value::Null,
            ncr_decimal: None,
            msg,
        }),
    )
        .into_response()
}

/// `page` as HTML with `status`; a page that fails to render (a bug) is a plain 500.
fn render(page: &impl askama::Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            let error = Error::from(error);
            tracing::error!(%error, "rendering a page failed");
            (error.status(), error.client_message()).into_response()
        }
    }
}
