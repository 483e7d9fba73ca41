//! The HTTP API: `GET /api/ncr/{n}/{r}` and `GET /healthz`. Every answer under `/api` is JSON
//! of the article's shape, `{"input": [n, r], "ncr": ..., "msg": ...}`:
//!
//! - 200: `{"input": [10, 3], "ncr": 120, "ncr_decimal": "120", "msg": "Success"}` (see
//!   [`crate::ncr`] for when `"ncr"` is a number and when a string);
//! - 400, 404, 502, 503: `{"input": ..., "ncr": null, "msg": "<what went wrong>"}`; a 400 or 404
//!   message ends with the expected format.
//!
//! `"input"` echoes the path segments: each as a number when it is a whole number, else as the
//! string sent, cut short ([`shorten_input`]). Every answer is [`SafeJson`]: `<`, `>` and `&`
//! written as `\u003c`, `\u003e`, `\u0026`, so no answer echoes markup from a request.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bookstore_layers::{REQUEST_ID_HEADER, SafeJson, quote_input, shorten_input};
use serde::Serialize;
use serde_json::Value;

use crate::gateway::Gateway;
use crate::ncr::whole_number;

/// The route of the nCr endpoint.
pub const NCR_ROUTE: &str = "/api/ncr/{n}/{r}";

/// The gateway's routes (`serve_http` adds `/metrics`).
pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route(NCR_ROUTE, get(ncr))
        .route("/healthz", get(healthz))
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

async fn ncr(
    State(gateway): State<Gateway>,
    Path((n, r)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let input = Value::Array(vec![echo("n", &n), echo("r", &r)]);
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok());
    match gateway.ncr(&n, &r, request_id).await {
        Ok(answer) => SafeJson(NcrBody {
            input,
            ncr: answer.json_value(),
            ncr_decimal: Some(answer.decimal),
            msg: "Success".to_owned(),
        })
        .into_response(),
        Err(error) => {
            let msg = if error.is_bad_input() {
                format!("{error}; {}", usage(gateway.max_n()))
            } else {
                tracing::warn!(
                    request_id = request_id.unwrap_or("-"),
                    status = error.status().as_u16(),
                    %error,
                    "nCr request failed"
                );
                error.client_message()
            };
            (
                error.status(),
                SafeJson(NcrBody {
                    input,
                    ncr: Value::Null,
                    ncr_decimal: None,
                    msg,
                }),
            )
                .into_response()
        }
    }
}

/// Liveness: the gateway answers. It does not depend on the Factorial service, so a restart of
/// that service does not restart the gateway too.
async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found(State(gateway): State<Gateway>, uri: Uri) -> Response {
    let msg = format!(
        "no such endpoint {}; {}",
        quote_input(uri.path()),
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
