//! The one HTTP server stack: every layer a web app gets, in one place, in its order.
//!
//! Outermost first:
//!
//! 1. [`RequestIdLayer`]: accepts or assigns `x-request-id`, and echoes it.
//! 2. tower-http's `TraceLayer`: a span per request carrying the request id, so this service's
//!    log lines join the gRPC services'.
//! 3. tower-http's `TimeoutLayer`: the server's time limit, as 408.
//! 4. [`HttpMetricsLayer`], on each route: requests and latency by route template.
//!
//! The request id comes first so that the span, the timeout's answer and the app all see it;
//! the metrics sit on the routes because only there is the route template known.

use std::time::Duration;

use axum::Router;
use http::StatusCode;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::http_metrics::HttpMetricsLayer;
use crate::metrics::Metrics;
use crate::request_id::{REQUEST_ID_HEADER, RequestIdLayer};

/// The standard HTTP stack (see the module docs for its order).
#[derive(Clone, Debug)]
pub struct HttpStack {
    metrics: Metrics,
    request_timeout: Duration,
}

impl HttpStack {
    /// Records into `metrics`; requests get `request_timeout` to be answered.
    pub fn new(metrics: &Metrics, request_timeout: Duration) -> Self {
        Self {
            metrics: metrics.clone(),
            request_timeout,
        }
    }

    /// `app` inside the stack, with `unmeasured` routes (such as `/metrics` itself) beside it:
    /// they get request ids, spans and the time limit, but are left out of the request metrics.
    pub fn around(&self, app: Router, unmeasured: Router) -> Router {
        app.route_layer(HttpMetricsLayer::new(&self.metrics))
            .merge(unmeasured)
            .layer(
                ServiceBuilder::new()
                    .layer(RequestIdLayer)
                    .layer(
                        TraceLayer::new_for_http()
                            .make_span_with(|request: &http::Request<_>| {
                                let request_id = request
                                    .headers()
                                    .get(REQUEST_ID_HEADER)
                                    .and_then(|id| id.to_str().ok())
                                    .unwrap_or("-");
                                tracing::debug_span!(
                                    "http_request",
                                    method = %request.method(),
                                    uri = %request.uri(),
                                    request_id,
                                )
                            })
                            // Apps log their own failures with context; a second, generic line
                            // per 5xx would only be noise.
                            .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
                    )
                    .layer(TimeoutLayer::with_status_code(
                        StatusCode::REQUEST_TIMEOUT,
                        self.request_timeout,
                    )),
            )
    }
}
