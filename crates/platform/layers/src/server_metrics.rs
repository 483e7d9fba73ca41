//! gRPC server metrics under the grpc-ecosystem names: calls started and handled (by code),
//! messages received and sent, handling time and calls in flight — for all four RPC shapes.
//!
//! A call ends when its response body ends (trailers carry the status) or is dropped (the
//! client went away: counted as `Canceled`), so streaming calls are timed to their last message.
//! A call whose client went away while sending its request (the call's [`CallContext`] says
//! so) is counted as `Canceled` too, whatever the handler then answers to nobody.

use std::task::{Context, Poll};

use http::{Request, Response};
use tonic::Code;
use tower::{Layer, Service};

use crate::call_context::CallContext;
use crate::call_record::{CallRecord, MessageCounter, MethodIndex};
use crate::grpc_families::MethodMetrics;
use crate::methods::MethodTable;
use crate::metrics::Metrics;
use crate::observe::{ObservedBody, ObservedResponse};

/// Records server-side call metrics.
#[derive(Clone)]
pub struct GrpcServerMetricsLayer {
    index: MethodIndex,
}

impl std::fmt::Debug for GrpcServerMetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServerMetricsLayer")
            .finish_non_exhaustive()
    }
}

impl GrpcServerMetricsLayer {
    /// Records into `metrics` for the methods in `methods` (anything else is `unknown`).
    pub fn new(metrics: &Metrics, methods: &MethodTable) -> Self {
        Self {
            index: {
                let metrics = metrics.clone();
                MethodIndex::new(methods, move |info| metrics.server_method(info)).resolve_all()
            },
        }
    }
}

impl<S> Layer<S> for GrpcServerMetricsLayer {
    type Service = GrpcServerMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerMetrics {
            inner,
            index: self.index.clone(),
        }
    }
}

/// The service made by [`GrpcServerMetricsLayer`].
#[derive(Clone)]
pub struct GrpcServerMetrics<S> {
    inner: S,
    index: MethodIndex,
}

impl<S> std::fmt::Debug for GrpcServerMetrics<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServerMetrics").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcServerMetrics<S>
where
    S: Service<Request<ObservedBody<ReqBody, MessageCounter>>, Response = Response<ResBody>>,
{
    type Response = Response<ObservedBody<ResBody, CallRecord>>;
    type Error = S::Error;
    type Future = ObservedResponse<S::Future, CallRecord, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let method = self.index.get(request.uri().path());
        let record = CallRecord::start(
            method.clone(),
            MethodMetrics::message_sent,
            Some(CallContext::of(&mut request)),
        );
        // Watched in place, not re-boxed: the body is boxed once, further in (tonic's router).
        let request = request.map(|body| {
            ObservedBody::new(
                body,
                MessageCounter(method, MethodMetrics::message_received),
            )
        });
        // A service error (not a status) ends the call without a response: the server answers
        // UNKNOWN.
        ObservedResponse::new(self.inner.call(request), record, |_| Code::Unknown)
    }
}
