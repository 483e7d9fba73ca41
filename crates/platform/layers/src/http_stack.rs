//! The one HTTP server stack: every layer a web app gets, in one place, in its order.
//!
//! Outermost first:
//!
//! 1. [`SecurityHeadersLayer`]: Content-Security-Policy, `nosniff`, `Referrer-Policy` and
//!    `X-Frame-Options` on every response.
//! 2. [`RequestIdLayer`]: accepts or assigns `x-request-id`, and echoes it.
//! 3. [`HttpTraceLayer`]: an OpenTelemetry span per request (kind SERVER), a child of the
//!    caller's, when traces are exported.
//! 4. [`AccessLogLayer`]: one access-log line per request, inside the span (so it names the
//!    trace), unless turned off.
//! 5. tower-http's `TimeoutLayer`: the server's time limit, as 408.
//! 6. [`HttpMetricsLayer`], on each route: requests and latency by route template.
//! 7. [`HttpLoadShedLayer`], on each route (one limit shared by them all): past the server's
//!    limit of requests in progress, 503 with `Retry-After: 1` at once; never `/healthz` or
//!    `/readyz`, and never the unmeasured routes (`/metrics`), which it does not wrap.
//!
//! The security headers come first so that every response gets them, whoever made it — a
//! page, an error, the fallback's 404, the time limit's 408. The request id next, so that
//! everything after sees it; the span before the access log, so that the line joins the
//! trace; the access log outside the time limit, so that a request cut by it is logged with
//! its 408. All of them run after routing (`Router::layer`), so the route template is known.
//! The load shedder sits inside the request metrics, so a refused request is counted as a 503
//! under its route, and inside everything else, so a refusal is logged, traced and given its
//! security headers like any answer.

use std::time::Duration;

use axum::Router;
use http::StatusCode;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;

use crate::access_log::AccessLogLayer;
use crate::http_load_shed::HttpLoadShedLayer;
use crate::http_metrics::HttpMetricsLayer;
use crate::http_trace::HttpTraceLayer;
use crate::metrics::Metrics;
use crate::request_id::RequestIdLayer;
use crate::security_headers::SecurityHeadersLayer;

/// The standard HTTP stack (see the module docs for its order).
#[derive(Clone, Debug)]
pub struct HttpStack {
    metrics: Metrics,
    request_timeout: Duration,
    access_log: bool,
    shed: HttpLoadShedLayer,
}

impl HttpStack {
    /// Records into `metrics`; requests get `request_timeout` to be answered; each gets an
    /// access-log line if `access_log`; beyond `max_concurrent_calls` requests in progress (in
    /// every app this stack is put around: one limit per server), the next ones get 503.
    pub fn new(
        metrics: &Metrics,
        request_timeout: Duration,
        access_log: bool,
        max_concurrent_calls: usize,
    ) -> Self {
        Self {
            metrics: metrics.clone(),
            request_timeout,
            access_log,
            shed: HttpLoadShedLayer::new(max_concurrent_calls),
        }
    }

    /// `app` inside the stack, with `unmeasured` routes (such as `/metrics` itself) beside it:
    /// they get request ids, spans and the time limit, but are left out of the request metrics.
    pub fn around(&self, app: Router, unmeasured: Router) -> Router {
        // One `route_layer` for both: axum boxes each route's service again per call, and a
        // second box per request measured 2.9k instructions per page (BENCHMARKS.md).
        let per_route = ServiceBuilder::new()
            .layer(HttpMetricsLayer::new(&self.metrics))
            .layer(self.shed.clone());
        app.route_layer(per_route).merge(unmeasured).layer(
            ServiceBuilder::new()
                .layer(SecurityHeadersLayer)
                .layer(RequestIdLayer)
                .layer(HttpTraceLayer)
                .layer(AccessLogLayer::new(self.access_log))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    self.request_timeout,
                )),
        )
    }
}
