//! HTTP request metrics for the web apps: requests by method, route template and status,
//! latency by route, and requests in flight. The route is axum's `MatchedPath` (e.g.
//! `/api/ncr/{n}/{r}`), never the raw path, so label cardinality stays bounded; apply this layer
//! with `Router::route_layer` so the matched path is known.
//!
//! axum layers each route's method handlers separately (axum clones the service for every
//! request), so each service resolves its route's histogram and counters on its first request
//! and keeps them: a request then costs no label strings and no lookup in the metric families.
//! A service that sees another route or method than its first (a `HEAD` answered by a `GET`
//! route, a nested router) still labels every request correctly; it just resolves the handles
//! for those each time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Method, Request, Response};
use pin_project_lite::pin_project;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tower::{Layer, Service};

use crate::latency::LatencyHistogram;
use crate::metrics::{HttpLabels, HttpRouteLabels, Metrics};
use crate::rpc_span::current_trace;

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Records HTTP request metrics.
#[derive(Clone, Debug)]
pub struct HttpMetricsLayer {
    metrics: Metrics,
}

impl HttpMetricsLayer {
    /// Records into `metrics`.
    pub fn new(metrics: &Metrics) -> Self {
        Self {
            metrics: metrics.clone(),
        }
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetrics {
            inner,
            metrics: self.metrics.clone(),
            route: Arc::default(),
        }
    }
}

/// The service made by [`HttpMetricsLayer`].
#[derive(Clone, Debug)]
pub struct HttpMetrics<S> {
    inner: S,
    metrics: Metrics,
    /// The handles of the first route this service saw; shared by its clones.
    route: Arc<OnceLock<Arc<RouteHandles>>>,
}

impl<S> HttpMetrics<S> {
    fn handles(&self, method: &Method, route: &str) -> Arc<RouteHandles> {
        if let Some(handles) = self.route.get()
            && handles.method == method
            && *handles.route == *route
        {
            return handles.clone();
        }
        let handles = Arc::new(RouteHandles::resolve(&self.metrics, method, route));
        // Only the first route is kept; see the module docs.
        let _ = self.route.set(handles.clone());
        handles
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = HttpMetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str);
        let record = InFlight::enter(self.handles(request.method(), route));
        HttpMetricsFuture {
            inner: self.inner.call(request),
            record: Some(record),
        }
    }
}

/// One route's (and method's) metric handles.
#[derive(Debug)]
struct RouteHandles {
    method: Method,
    route: Box<str>,
    duration: LatencyHistogram,
    in_flight: Gauge,
    /// Request counters by status, resolved as each status first occurs (a handful per route).
    by_status: RwLock<Vec<(u16, Counter)>>,
    metrics: Metrics,
}

impl RouteHandles {
    fn resolve(metrics: &Metrics, method: &Method, route: &str) -> Self {
        let http = metrics.http();
        let duration = http
            .duration
            .get_or_create(&HttpRouteLabels {
                method: method.as_str().to_owned(),
                route: route.to_owned(),
            })
            .clone();
        Self {
            method: method.clone(),
            route: route.into(),
            duration,
            in_flight: http.in_flight.clone(),
            by_status: RwLock::default(),
            metrics: metrics.clone(),
        }
    }

    fn requests(&self, status: u16) -> Counter {
        let known = self
            .by_status
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, counter)) = known.iter().find(|(code, _)| *code == status) {
            return counter.clone();
        }
        drop(known);
        let counter = self
            .metrics
            .http()
            .requests
            .get_or_create(&HttpLabels {
                method: self.method.as_str().to_owned(),
                route: self.route.to_string(),
                status,
            })
            .clone();
        let mut known = self
            .by_status
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if !known.iter().any(|(code, _)| *code == status) {
            known.push((status, counter.clone()));
        }
        counter
    }
}

/// A request in flight: leaves the in-flight gauge however it ends (a client that hangs up
/// drops it unanswered).
struct InFlight {
    handles: Arc<RouteHandles>,
    started: Instant,
}

impl InFlight {
    /// Counts a request in; the gauge goes down again when this is dropped, however the
    /// request ends (even if the inner service panics before returning its future).
    fn enter(handles: Arc<RouteHandles>) -> Self {
        handles.in_flight.inc();
        Self {
            handles,
            started: Instant::now(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.handles.in_flight.dec();
    }
}

pin_project! {
    /// The response future of [`HttpMetrics`].
    pub struct HttpMetricsFuture<F> {
        #[pin]
        inner: F,
        record: Option<InFlight>,
    }
}

impl<F, B, E> Future for HttpMetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(record) = this.record.take() {
            let handles = &record.handles;
            handles.duration.observe(
                record.started.elapsed().as_secs_f64(),
                current_trace(),
                None,
            );
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            handles.requests(status).inc();
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn get_path(app: &Router, path: &str) -> u16 {
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn requests(metrics: &Metrics, route: &str, status: u16) -> f64 {
        metrics.sample(&format!(
            r#"http_requests_total{{method="GET",route="{route}",status="{status}"}}"#
        ))
    }

    #[tokio::test]
    async fn each_route_and_status_is_counted_under_its_own_labels() {
        let metrics = Metrics::new();
        let app = Router::new()
            .route("/a/{id}", get(|| async { "a" }))
            .route("/b", get(|| async { (http::StatusCode::BAD_REQUEST, "b") }))
            .route_layer(HttpMetricsLayer::new(&metrics));
        for path in ["/a/1", "/a/2", "/b", "/a/3"] {
            get_path(&app, path).await;
        }
        assert_eq!(requests(&metrics, "/a/{id}", 200), 3.0);
        assert_eq!(requests(&metrics, "/b", 400), 1.0);
        assert_eq!(requests(&metrics, "/b", 200), 0.0);
    }

    #[tokio::test]
    async fn a_method_other_than_the_first_one_a_route_saw_is_labelled_right() {
        let metrics = Metrics::new();
        // `get` answers HEAD as well: one service, two methods.
        let app = Router::new()
            .route("/a", get(|| async { "a" }))
            .route_layer(HttpMetricsLayer::new(&metrics));
        for method in [Method::GET, Method::HEAD, Method::HEAD, Method::GET] {
            let request = Request::builder()
                .method(method)
                .uri("/a")
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(request).await.unwrap();
        }
        let head = r#"http_requests_total{method="HEAD",route="/a",status="200"}"#;
        assert_eq!(requests(&metrics, "/a", 200), 2.0);
        assert_eq!(metrics.sample(head), 2.0);
    }

    #[tokio::test]
    async fn a_request_dropped_unanswered_leaves_the_in_flight_gauge() {
        let metrics = Metrics::new();
        let app = Router::new()
            .route("/slow", get(std::future::pending::<&str>))
            .route_layer(HttpMetricsLayer::new(&metrics));
        let request = Request::get("/slow").body(Body::empty()).unwrap();
        let mut call = Box::pin(app.oneshot(request));
        let still_running = tokio::time::timeout(Duration::from_millis(50), &mut call).await;
        assert!(still_running.is_err());
        assert_eq!(metrics.sample("http_requests_in_flight"), 1.0);
        // The client gives up: the response future is dropped before it completes.
        drop(call);
        assert_eq!(metrics.sample("http_requests_in_flight"), 0.0);
    }
}
