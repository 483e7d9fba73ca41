//! Overload shedding for the web apps: with as many requests in progress as the server's limit
//! (`--max-concurrent-calls`), the next one is answered at once with `503 Service Unavailable`,
//! `Retry-After: 1` and a line saying why, instead of waiting behind the others — the HTTP
//! counterpart of the gRPC `load_shed`, for the same reasons (see there).
//!
//! It sits inside the request metrics (`HttpStack` puts both on each route), so refused requests
//! are counted as `http_requests_total{status="503"}` under their route. `/healthz` and
//! `/readyz` are never refused, so an orchestrator does not restart a replica that is only busy;
//! `/metrics` is served beside the measured routes and never reaches this layer.
//!
//! A request holds its place until its response is ready (its headers): the web apps' pages
//! and JSON answers are made whole before they are sent, so that is when their work ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::call_limit::{Admitted, CallLimit};

/// Paths a probe asks, never refused.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// Answers requests beyond a limit of requests in progress with 503.
#[derive(Clone, Debug)]
pub struct HttpLoadShedLayer {
    limit: Arc<CallLimit>,
    message: Arc<str>,
}

impl HttpLoadShedLayer {
    /// Admits up to `limit` requests in progress, over every route this layer is applied to.
    pub fn new(limit: usize) -> Self {
        let limit = CallLimit::new(limit);
        let message = format!(
            "server overloaded: {} requests in progress (the limit, --max-concurrent-calls); \
             try again shortly\n",
            limit.limit()
        );
        Self {
            limit,
            message: message.into(),
        }
    }
}

impl<S> Layer<S> for HttpLoadShedLayer {
    type Service = HttpLoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpLoadShed {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`HttpLoadShedLayer`].
#[derive(Clone, Debug)]
pub struct HttpLoadShed<S> {
    inner: S,
    layer: HttpLoadShedLayer,
}

impl<S, ReqBody> Service<Request<ReqBody>> for HttpLoadShed<S>
where
    S: Service<Request<ReqBody>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = HttpLoadShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let place = if PROBES.contains(&request.uri().path()) {
            None
        } else {
            match self.layer.limit.try_admit() {
                Some(place) => Some(place),
                None => {
                    return HttpLoadShedFuture::Shed {
                        message: Some(self.layer.message.clone()),
                    };
                }
            }
        };
        HttpLoadShedFuture::Admitted {
            inner: self.inner.call(request),
            place,
        }
    }
}

pin_project! {
    /// The response future of [`HttpLoadShed`].
    #[project = HttpLoadShedProjection]
    pub enum HttpLoadShedFuture<F> {
        /// The request is handled, holding its place (none for probes).
        Admitted { #[pin] inner: F, place: Option<Admitted> },
        /// The request was refused, with this message.
        Shed { message: Option<Arc<str>> },
    }
}

impl<F, E> Future for HttpLoadShedFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HttpLoadShedProjection::Admitted { inner, place } => {
                let response = std::task::ready!(inner.poll(cx));
                place.take();
                Poll::Ready(response)
            }
            HttpLoadShedProjection::Shed { message } => {
                let message = message
                    .take()
                    .expect("a refused request's future is not polled after it answered");
                Poll::Ready(Ok(overloaded(&message)))
            }
        }
    }
}

/// The 503 of a refused request.
fn overloaded(message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn get_path(app: &Router, path: &str) -> Response<Body> {
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.clone().oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_request_over_the_limit_gets_503_at_once_but_probes_do_not() {
        let app = Router::new()
            .route("/slow", get(std::future::pending::<&str>))
            .route("/fast", get(|| async { "fast" }))
            .route("/healthz", get(|| async { "ok" }))
            .route_layer(HttpLoadShedLayer::new(1));
        let slow = tokio::spawn({
            let app = app.clone();
            async move { get_path(&app, "/slow").await }
        });
        // The slow request takes the one place; then every other request is refused.
        let refused = loop {
            let response = get_path(&app, "/fast").await;
            if response.status() == StatusCode::SERVICE_UNAVAILABLE {
                break response;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(refused.headers()[RETRY_AFTER], "1");
        let body = axum::body::to_bytes(refused.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            body,
            "server overloaded: 1 requests in progress (the limit, --max-concurrent-calls); \
             try again shortly\n"
        );
        assert_eq!(get_path(&app, "/healthz").await.status(), StatusCode::OK);
        // The slow request's client gives up: its place is free again.
        slow.abort();
        let _ = slow.await;
        assert_eq!(get_path(&app, "/fast").await.status(), StatusCode::OK);
    }
}
