//! Cross-cutting behaviour as tower layers applied to a whole server (or channel), never
//! repeated in handlers: the Rust counterpart of the tutorial's gRPC interceptors. One `Layer` +
//! `Service` pair per file.
//!
//! Client channels get [`GrpcClientMetricsLayer`] and [`ClientDeadlineLayer`]; web apps get
//! [`HttpMetricsLayer`] and [`RequestIdLayer`].
//!
//! gRPC servers read a caller's `x-request-id` (the error log reports it, and logs it at debug
//! level for every call) but neither echo it nor make one up per call: a unique header value in
//! every response defeats HPACK's header compression on the connection, which measured 40% of
//! the stack's cost per call (BENCHMARKS.md). A failure reported without an id gets one then.
//!
//! [`ServerStack`] composes the standard server stack, outermost first:
//!
//! 1. [`GrpcServerMetricsLayer`]: started / handled / messages / latency / in-flight.
//! 2. [`ErrorLogLayer`]: every failed call reported once, with method, code, message, latency.
//! 3. [`CatchPanicLayer`]: a panicking handler becomes `INTERNAL`; nothing else is affected.
//! 4. [`AuthorizeLayer`]: under mutual TLS, only allowed client identities get through.
//!
//! Metrics sit outside the panic catcher so that a panic is counted as the `Internal` the
//! client saw; the error log sits outside it too, so it can report the panic's message; both
//! sit outside authorization, so refusals are counted and logged like any other status.
//!
//! [`GrpcServer`](crate::server::GrpcServer) puts three more layers inside that stack, each
//! needing a server setting, so that what they decide is measured and logged like any other
//! status:
//!
//! 5. [`GraceCutoffLayer`]: at the end of the shutdown grace period, calls still running end
//!    with `UNAVAILABLE`.
//! 6. [`RequestTimeoutLayer`]: the server's time limit, as `DEADLINE_EXCEEDED`.
//! 7. [`MessageLimitLayer`]: oversized request messages, as `RESOURCE_EXHAUSTED`.

mod authorize;
mod catch_panic;
mod client_deadline;
mod client_metrics;
mod error_log;
mod grace_cutoff;
mod http_metrics;
mod message_limit;
mod request_id;
mod request_timeout;
mod server_metrics;

use std::sync::Arc;

use tower::Layer;

pub use authorize::{Authorize, AuthorizeLayer};
pub use catch_panic::{CatchPanic, CatchPanicFuture, CatchPanicLayer, PanicSafeBody};
pub use client_deadline::{ClientDeadline, ClientDeadlineLayer, parse_grpc_timeout};
pub use client_metrics::{ClientMetricsFuture, GrpcClientMetrics, GrpcClientMetricsLayer};
pub use error_log::{ErrorLog, ErrorLogLayer, ErrorReport, ErrorReporter, TracingReporter};
pub use grace_cutoff::{CutoffBody, GraceCutoff, GraceCutoffLayer};
pub use http_metrics::{HttpMetrics, HttpMetricsFuture, HttpMetricsLayer};
pub use message_limit::{LimitedBody, MessageLimit, MessageLimitLayer};
pub use request_id::{REQUEST_ID_HEADER, RequestIdLayer};
pub use request_timeout::{RequestTimeout, RequestTimeoutLayer};
pub use server_metrics::{CallRecord, GrpcServerMetrics, GrpcServerMetricsLayer, MessageCounter};

use crate::metrics::Metrics;
use crate::rpc::MethodTable;

/// The standard gRPC server middleware stack (see the module docs for its order).
#[derive(Clone)]
pub struct ServerStack {
    metrics: GrpcServerMetricsLayer,
    errors: ErrorLogLayer,
    authorize: AuthorizeLayer,
}

impl std::fmt::Debug for ServerStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStack").finish_non_exhaustive()
    }
}

impl ServerStack {
    /// The stack recording into `metrics` for the methods in `methods`, reporting errors to
    /// `reporter`, and admitting only `allowed_clients` (everyone when `None`).
    pub fn new(
        metrics: &Metrics,
        methods: &MethodTable,
        reporter: Arc<dyn ErrorReporter>,
        allowed_clients: Option<Vec<String>>,
    ) -> Self {
        Self {
            metrics: GrpcServerMetricsLayer::new(metrics, methods),
            errors: ErrorLogLayer::new(reporter),
            authorize: AuthorizeLayer::new(allowed_clients, metrics),
        }
    }
}

impl<S> Layer<S> for ServerStack {
    type Service = GrpcServerMetrics<ErrorLog<CatchPanic<Authorize<S>>>>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = self.authorize.layer(inner);
        let inner = CatchPanicLayer.layer(inner);
        let inner = self.errors.layer(inner);
        self.metrics.layer(inner)
    }
}
