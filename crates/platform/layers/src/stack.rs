//! The one gRPC server stack: every layer a server puts around its services, in one place, in
//! its order. `bookstore_serve::GrpcServer` applies it whole; no
//! layer is added anywhere else.
//!
//! Outermost first (the order is the type [`Stacked`], so it cannot drift from this list):
//!
//! 1. [`GrpcContentTypeLayer`]: a request that is not gRPC (its `content-type`) gets HTTP 415.
//! 2. [`GrpcServerTraceLayer`]: one OpenTelemetry span per call, a child of the caller's.
//! 3. [`GrpcServerMetricsLayer`]: started / handled / messages / latency / in-flight.
//! 4. [`ErrorLogLayer`]: every failed call reported once, with method, code, message, latency.
//! 5. [`CatchPanicLayer`]: a panicking handler becomes `INTERNAL`; nothing else is affected.
//! 6. [`AuthorizeLayer`]: under mutual TLS, only allowed client identities get through.
//! 7. [`LoadShedLayer`]: past the server's limit of calls in progress, the next call is
//!    refused at once with `RESOURCE_EXHAUSTED` (never health checks or reflection).
//! 8. [`GraceCutoffLayer`]: at the end of the shutdown grace period, calls still running end
//!    with `UNAVAILABLE`.
//! 9. [`RequestTimeoutLayer`]: the server's time limit, as `DEADLINE_EXCEEDED`.
//! 10. [`FaultInjectionLayer`]: off by default; added latency or a chosen status on a
//!     percentage of calls, on purpose.
//! 11. [`MessageLimitLayer`]: oversized request messages, as `RESOURCE_EXHAUSTED`.
//!
//! The layers of one call tell each other what they saw (a panic's message, a client gone
//! mid-request) through the call's context in the request's extensions (`call_context`).
//!
//! Why this order: the content-type check comes first, because a request that is not gRPC is
//! not a gRPC call: it gets no span, no gRPC metric counts it, no error log reports it, and its
//! answer is plain HTTP, which no layer inside would make. Then the span, so that everything
//! inside — the metrics' exemplars, the error log's lines, the handler's — happens in it. The
//! metrics and the error log sit outside everything that decides a call's status, so that
//! every status — a panic, a refusal, the grace deadline, the time limit, the size limit — is
//! counted and reported as the client saw it; and outside the panic catcher, so a panic never
//! unwinds through them. The panic catcher sits outside the layers that answer by themselves,
//! so nothing a layer does can take the process down.
//!
//! The load shedder comes after authorization, so a caller that may not call at all hears
//! that (and does not retry) rather than "overloaded", and before everything that costs a
//! call something — a timer, a wake-up registered with the grace deadline, an injected
//! delay, reading the request — so a refusal is the cheapest answer the server makes, and an
//! admitted call holds its place for all of that. Fault injection sits inside the time limit
//! and the grace deadline, so an injected delay is what a slow handler is: it counts against
//! the limit of calls in progress, and ends at the caller's deadline, the server's time limit
//! or the grace deadline as a slow handler would. The message limit stays innermost: it is
//! the last to see the request body before the handler.
//!
//! The order is held three ways: the type (a layer moved in [`ServerStack::layer`] changes
//! [`Stacked`], which a unit test spells out); the types of the layers themselves (a layer that
//! answers on its own needs a body it can make up, which the observers' bodies are not, so it
//! cannot be moved outside them — the content-type check, which brings a body of its own for
//! its refusals, is the one that can, and the only one meant to); and `tests/layers/stack.rs`,
//! which shows each status above reaching the client, the metrics and the error log through a
//! real server, and a request that is not gRPC reaching none of them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower::{Layer, ServiceBuilder};

use crate::authorize::{Authorize, AuthorizeLayer};
use crate::catch_panic::{CatchPanic, CatchPanicLayer};
use crate::content_type::{GrpcContentType, GrpcContentTypeLayer};
use crate::error_log::{ErrorLog, ErrorLogLayer, ErrorReporter};
use crate::fault_injection::{FaultInjection, FaultInjectionLayer, Faults};
use crate::grace_cutoff::{GraceCutoff, GraceCutoffLayer};
use crate::load_shed::{LoadShed, LoadShedLayer};
use crate::message_limit::{MessageLimit, MessageLimitLayer};
use crate::methods::MethodTable;
use crate::metrics::Metrics;
use crate::request_timeout::{RequestTimeout, RequestTimeoutLayer};
use crate::server_metrics::{GrpcServerMetrics, GrpcServerMetricsLayer};
use crate::server_trace::{GrpcServerTrace, GrpcServerTraceLayer};

/// What the stack's layers are configured with.
pub struct StackConfig {
    /// Where calls are counted and timed.
    pub metrics: Metrics,
    /// The methods the server serves (metrics show series for these, `unknown` for the rest).
    pub methods: MethodTable,
    /// Where failed calls are reported.
    pub reporter: Arc<dyn ErrorReporter>,
    /// The client identities admitted under mutual TLS; `None` admits everyone.
    pub allowed_clients: Option<Vec<String>>,
    /// Cancelled at the end of the shutdown grace period.
    pub grace_cutoff: CancellationToken,
    /// Longest a handler may take to produce its response.
    pub request_timeout: Duration,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most calls in progress at once; beyond it, calls are shed (`RESOURCE_EXHAUSTED`).
    pub max_concurrent_calls: usize,
    /// Faults injected on purpose (none by default).
    pub faults: Faults,
}

impl std::fmt::Debug for StackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackConfig")
            .field("allowed_clients", &self.allowed_clients)
            .field("request_timeout", &self.request_timeout)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// A service `S` inside the whole stack; the type spells the order, outermost first.
pub type Stacked<S> = GrpcContentType<
    GrpcServerTrace<
        GrpcServerMetrics<
            ErrorLog<
                CatchPanic<
                    Authorize<
                        LoadShed<GraceCutoff<RequestTimeout<FaultInjection<MessageLimit<S>>>>>,
                    >,
                >,
            >,
        >,
    >,
>;

/// The standard gRPC server stack (see the module docs for its order and why).
#[derive(Clone)]
pub struct ServerStack {
    metrics: GrpcServerMetricsLayer,
    errors: ErrorLogLayer,
    authorize: AuthorizeLayer,
    shed: LoadShedLayer,
    cutoff: GraceCutoffLayer,
    timeout: RequestTimeoutLayer,
    faults: FaultInjectionLayer,
    limit: MessageLimitLayer,
}

impl std::fmt::Debug for ServerStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStack").finish_non_exhaustive()
    }
}

impl ServerStack {
    /// The stack, configured.
    pub fn new(config: StackConfig) -> Self {
        Self {
            metrics: GrpcServerMetricsLayer::new(&config.metrics, &config.methods),
            errors: ErrorLogLayer::new(config.reporter),
            authorize: AuthorizeLayer::new(config.allowed_clients, &config.metrics),
            shed: LoadShedLayer::new(
                config.max_concurrent_calls,
                &config.metrics,
                &config.methods,
            ),
            cutoff: GraceCutoffLayer::new(config.grace_cutoff),
            timeout: RequestTimeoutLayer::new(config.request_timeout),
            faults: FaultInjectionLayer::new(config.faults, &config.metrics, &config.methods),
            limit: MessageLimitLayer::new(config.max_message_bytes),
        }
    }
}

impl<S> Layer<S> for ServerStack {
    type Service = Stacked<S>;

    fn layer(&self, inner: S) -> Self::Service {
        // Outermost first, as in the module docs.
        ServiceBuilder::new()
            .layer(GrpcContentTypeLayer)
            .layer(GrpcServerTraceLayer)
            .layer(self.metrics.clone())
            .layer(self.errors.clone())
            .layer(CatchPanicLayer)
            .layer(self.authorize.clone())
            .layer(self.shed.clone())
            .layer(self.cutoff.clone())
            .layer(self.timeout)
            .layer(self.faults.clone())
            .layer(self.limit)
            .service(inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_log::TracingReporter;

    /// Stands for the routes the stack wraps.
    struct Routes;

    /// The order, spelled out independently of [`Stacked`]: moving or dropping a layer in
    /// [`ServerStack::layer`] (or in the alias) stops this from compiling. `tests/layers/stack.rs`
    /// shows through a real server why each layer sits where it does.
    #[test]
    #[allow(
        clippy::type_complexity,
        reason = "the point of the test is to spell the whole type out"
    )]
    fn the_stack_is_built_in_its_documented_order() {
        let stack = ServerStack::new(StackConfig {
            metrics: Metrics::new(),
            methods: MethodTable::standard(),
            reporter: Arc::new(TracingReporter),
            allowed_clients: None,
            grace_cutoff: CancellationToken::new(),
            request_timeout: Duration::from_secs(1),
            max_message_bytes: 1024,
            max_concurrent_calls: 64,
            faults: Faults::default(),
        });
        let _outermost_first: GrpcContentType<
            GrpcServerTrace<
                GrpcServerMetrics<
                    ErrorLog<
                        CatchPanic<
                            Authorize<
                                LoadShed<
                                    GraceCutoff<
                                        RequestTimeout<FaultInjection<MessageLimit<Routes>>>,
                                    >,
                                >,
                            >,
                        >,
                    >,
                >,
            >,
        > = stack.layer(Routes);
    }
}
