//! HTTP request metrics for the web apps: requests by method, route template and status,
//! latency by route, and requests in flight. The route is axum's `MatchedPath` (e.g.
//! `/api/ncr/{n}/{r}`), never the raw path, so label cardinality stays bounded; apply this layer
//! with `Router::route_layer` so the matched path is known.

use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::metrics::{HttpLabels, HttpRouteLabels, Metrics};

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
        }
    }
}

/// The service made by [`HttpMetricsLayer`].
#[derive(Clone, Debug)]
pub struct HttpMetrics<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
        let method = request.method().as_str().to_owned();
        let metrics = self.metrics.clone();
        metrics.http().in_flight.inc();
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            let http = metrics.http();
            http.in_flight.dec();
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            let route_labels = HttpRouteLabels { method, route };
            http.duration
                .get_or_create(&route_labels)
                .observe(started.elapsed().as_secs_f64());
            http.requests
                .get_or_create(&HttpLabels {
                    method: route_labels.method,
                    route: route_labels.route,
                    status,
                })
                .inc();
            result
        })
    }
}
