//! One OpenTelemetry span per web request (kind SERVER), named and attributed by the semantic
//! conventions for HTTP: `{method} {route}`, `http.request.method`, `http.route`,
//! `http.response.status_code`, `url.path`, `server.address`; status `ERROR` for 5xx answers. A
//! caller's W3C `traceparent` makes it a child of the caller's span, and the app's gRPC calls,
//! made inside it, become its children.
//!
//! Applied with `Router::layer`, which runs after routing, so the route template (axum's
//! `MatchedPath`) is known. Without an OTLP endpoint (`bookstore_telemetry::exporting`) no span
//! is made.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use bookstore_telemetry::TRACE_TARGET;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::http_metrics::UNMATCHED;

/// Makes a SERVER span for each web request, when traces are exported.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpTraceLayer;

impl<S> Layer<S> for HttpTraceLayer {
    type Service = HttpTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpTrace {
            inner,
            exporting: bookstore_telemetry::exporting(),
        }
    }
}

/// The service made by [`HttpTraceLayer`].
#[derive(Clone, Debug)]
pub struct HttpTrace<S> {
    inner: S,
    exporting: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpTrace<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = HttpTraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let span = if self.exporting {
            request_span(&request)
        } else {
            Span::none()
        };
        HttpTraceFuture {
            inner: span.in_scope(|| self.inner.call(request)),
            span,
        }
    }
}

/// The span of one web request, a child of the caller's if its headers carry one.
fn request_span<B>(request: &Request<B>) -> Span {
    let method = request.method().as_str();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str);
    let span = tracing::info_span!(
        target: TRACE_TARGET,
        "http.server",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = Empty,
        url.path = request.uri().path(),
        server.address = request
            .headers()
            .get(http::header::HOST)
            .and_then(|host| host.to_str().ok()),
    );
    // A context that cannot be set (a span already started) keeps the span a root.
    let _ = span.set_parent(bookstore_telemetry::extract(request.headers()));
    // Sampled or not, an HTTP span has no message events: nothing else to decide.
    let _sampled = bookstore_telemetry::remember_trace_ids(&span);
    span
}

pin_project! {
    /// The response future of [`HttpTrace`]: polls inside the span, records the status.
    pub struct HttpTraceFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F, B, E> Future for HttpTraceFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let result = std::task::ready!(this.span.in_scope(|| inner.poll(cx)));
        let status = result
            .as_ref()
            .map_or(500, |response| response.status().as_u16());
        this.span.record("http.response.status_code", status);
        if status >= 500 {
            this.span.record("otel.status_code", "error");
        }
        Poll::Ready(result)
    }
}
