//! gRPC client metrics (`grpc_client_*`): the same series as the server side, recorded for
//! calls this process makes, so a caller can see its upstream's errors and latency as it
//! experiences them (including connection failures, counted as `Unavailable`).

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tonic::Code;
use tonic::body::Body;
use tower::{Layer, Service};

use super::server_metrics::{CallRecord, Messages, MethodIndex};
use crate::grpc_body::{BodyObserver, GRPC_STATUS, ObservedBody};
use crate::metrics::{MethodMetrics, Metrics};
use crate::rpc::MethodTable;

/// Records client-side call metrics on a channel.
#[derive(Clone)]
pub struct GrpcClientMetricsLayer {
    index: MethodIndex,
}

impl std::fmt::Debug for GrpcClientMetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClientMetricsLayer").finish_non_exhaustive()
    }
}

impl GrpcClientMetricsLayer {
    /// Records into `metrics` for the methods in `methods` (anything else is `unknown`).
    pub fn new(metrics: &Metrics, methods: &MethodTable) -> Self {
        Self { index: MethodIndex::new(methods, |info| metrics.client_method(info)) }
    }
}

impl<S> Layer<S> for GrpcClientMetricsLayer {
    type Service = GrpcClientMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientMetrics { inner, index: self.index.clone() }
    }
}

/// The service made by [`GrpcClientMetricsLayer`].
#[derive(Clone)]
pub struct GrpcClientMetrics<S> {
    inner: S,
    index: MethodIndex,
}

impl<S> std::fmt::Debug for GrpcClientMetrics<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClientMetrics").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for GrpcClientMetrics<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let method = self.index.get(request.uri().path());
        let mut record = CallRecord::start(method.clone(), MethodMetrics::message_received);
        let request = request
            .map(|body| Body::new(ObservedBody::new(body, Messages(method, MethodMetrics::message_sent))));
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = match future.await {
                Ok(response) => response,
                Err(error) => {
                    record.fail(Code::Unavailable);
                    return Err(error);
                }
            };
            if response.headers().contains_key(GRPC_STATUS) {
                record.on_trailers(response.headers());
            }
            // The generated client is generic over the body, but the channel type is not:
            // re-box so `GrpcChannel` stays a plain, nameable type.
            Ok(response.map(|body| Body::new(ObservedBody::new(body, record))))
        })
    }
}
