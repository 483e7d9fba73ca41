//! gRPC client metrics (`grpc_client_*`): the same series as the server side, recorded for
//! calls this process makes, so a caller can see its upstream's errors and latency as it
//! experiences them: a call that fails before any response is counted under the code the
//! caller's tonic client reports for it (a connection failure is `Unavailable`, a deadline that
//! ran out locally `Canceled`).

use std::task::{Context, Poll};

use futures_util::TryFutureExt as _;
use futures_util::future::MapOk;
use http::{Request, Response};
use tonic::Code;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::call_record::{CallRecord, MessageCounter, MethodIndex};
use crate::grpc_families::MethodMetrics;
use crate::methods::MethodTable;
use crate::metrics::Metrics;
use crate::observe::{ObservedBody, ObservedResponse};

/// Records client-side call metrics on a channel.
#[derive(Clone)]
pub struct GrpcClientMetricsLayer {
    index: MethodIndex,
}

impl std::fmt::Debug for GrpcClientMetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClientMetricsLayer")
            .finish_non_exhaustive()
    }
}

impl GrpcClientMetricsLayer {
    /// Records into `metrics` for the methods in `methods` (anything else is `unknown`).
    pub fn new(metrics: &Metrics, methods: &MethodTable) -> Self {
        Self {
            index: {
                let metrics = metrics.clone();
                MethodIndex::new(methods, move |info| metrics.client_method(info))
            },
        }
    }
}

impl<S> Layer<S> for GrpcClientMetricsLayer {
    type Service = GrpcClientMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientMetrics {
            inner,
            index: self.index.clone(),
        }
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

/// The response future of [`GrpcClientMetrics`].
pub(crate) type ClientMetricsFuture<F, E> = MapOk<
    ObservedResponse<F, CallRecord, E>,
    fn(Response<ObservedBody<Body, CallRecord>>) -> Response<Body>,
>;

impl<S> Service<Request<Body>> for GrpcClientMetrics<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::error::Error + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ClientMetricsFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let method = self.index.get(request.uri().path());
        let record = CallRecord::start(method.clone(), MethodMetrics::message_received, None);
        let request = request.map(|body| {
            Body::new(ObservedBody::new(
                body,
                MessageCounter(method, MethodMetrics::message_sent),
            ))
        });
        ObservedResponse::new(self.inner.call(request), record, |error| code_of(error))
            // The generated client is generic over the body, but the channel type is not:
            // re-box so `GrpcChannel` stays a plain, nameable type.
            .map_ok(rebox as fn(_) -> _)
    }
}

fn rebox(response: Response<ObservedBody<Body, CallRecord>>) -> Response<Body> {
    response.map(Body::new)
}

/// The code tonic's client turns a channel error into (`Status::from_error`, which needs the
/// error by value): a status found among the error's sources, `Cancelled` for a deadline that
/// ran out (tonic's choice), and `Unavailable` for a failure to connect — and, here, for any
/// other transport failure, since no server answered.
pub(crate) fn code_of(error: &(dyn std::error::Error + 'static)) -> Code {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(status) = error.downcast_ref::<tonic::Status>() {
            return status.code();
        }
        if error.is::<tonic::TimeoutExpired>() {
            return Code::Cancelled;
        }
        source = error.source();
    }
    Code::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("transport error")]
    struct Transport(#[source] Box<dyn std::error::Error + Send + Sync>);

    #[test]
    fn reads_the_code_the_caller_sees_from_the_error_chain() {
        let timeout = Transport(Box::new(tonic::TimeoutExpired(())));
        assert_eq!(code_of(&timeout), Code::Cancelled);
        let status = Transport(Box::new(tonic::Status::resource_exhausted("full")));
        assert_eq!(code_of(&status), Code::ResourceExhausted);
        let refused = Transport(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(code_of(&refused), Code::Unavailable);
    }
}
