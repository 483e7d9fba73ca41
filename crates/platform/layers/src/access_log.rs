//! One access-log line per web request at `info`, as every web server writes: method, route
//! template, path, status, latency in milliseconds and the request id — and, inside a traced
//! request, its `trace_id`. Target `access`, so `RUST_LOG=info,access=off` (or `--access-log false`) turns
//! the lines off without touching the rest.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{HeaderValue, Method, Request, Response, Uri};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::http_metrics::UNMATCHED;
use crate::request_id::REQUEST_ID_HEADER;

/// Writes an access-log line for each request, when on.
#[derive(Clone, Copy, Debug)]
pub struct AccessLogLayer {
    enabled: bool,
}

impl AccessLogLayer {
    /// Lines for every request if `enabled`, none otherwise.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog {
            inner,
            enabled: self.enabled,
        }
    }
}

/// The service made by [`AccessLogLayer`].
#[derive(Clone, Debug)]
pub struct AccessLog<S> {
    inner: S,
    enabled: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AccessLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = AccessLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let entry = self.enabled.then(|| Entry {
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            uri: request.uri().clone(),
            request_id: request.headers().get(REQUEST_ID_HEADER).cloned(),
            started: Instant::now(),
        });
        AccessLogFuture {
            inner: self.inner.call(request),
            entry,
        }
    }
}

/// What a line says of its request, captured when the request arrives.
struct Entry {
    method: Method,
    route: Option<MatchedPath>,
    uri: Uri,
    request_id: Option<HeaderValue>,
    started: Instant,
}

pin_project! {
    /// The response future of [`AccessLog`].
    pub struct AccessLogFuture<F> {
        #[pin]
        inner: F,
        entry: Option<Entry>,
    }
}

impl<F, B, E> Future for AccessLogFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(entry) = this.entry.take() {
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            // Rounded to the microsecond: a float with noise in its last digits helps nobody.
            let latency_ms = (entry.started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
            tracing::info!(
                target: "access",
                method = entry.method.as_str(),
                route = entry.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
                path = entry.uri.path(),
                status,
                latency_ms,
                request_id = entry
                    .request_id
                    .as_ref()
                    .and_then(|id| id.to_str().ok())
                    .unwrap_or("-"),
                "request"
            );
        }
        Poll::Ready(result)
    }
}
