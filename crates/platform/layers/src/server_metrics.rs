//! gRPC server metrics under the grpc-ecosystem names: calls started and handled (by code),
//! messages received and sent, handling time and calls in flight — for all four RPC shapes.
//!
//! A call ends when its response body ends (trailers carry the status) or is dropped (the
//! client went away: counted as `Canceled`), so streaming calls are timed to their last message.
//! A call whose client went away while sending its request (the call's [`CallContext`] says
//! so) is counted as `Canceled` too, whatever the handler then answers to nobody.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use rustc_hash::FxHashMap;
use tonic::Code;
use tower::{Layer, Service};

use crate::call_context::CallContext;
use crate::methods::{MethodInfo, MethodTable};
use crate::metrics::{MethodMetrics, Metrics};
use crate::observe::{BodyObserver, ObservedBody, ObservedResponse, code_from};

/// Per-method handles, resolved once when the layer is built. Looked up on every call, so the
/// table uses FxHash rather than the standard library's DoS-resistant SipHash: it is fixed at
/// start-up and never grows, so a crafted path can only miss, not slow anything down.
#[derive(Clone)]
pub(crate) struct MethodIndex {
    by_path: Arc<FxHashMap<String, Arc<MethodMetrics>>>,
    unknown: Arc<MethodMetrics>,
}

impl MethodIndex {
    pub(crate) fn new(
        methods: &MethodTable,
        resolve: impl Fn(&MethodInfo) -> MethodMetrics,
    ) -> Self {
        let by_path = methods
            .iter()
            .map(|(path, info)| (path.to_owned(), Arc::new(resolve(info))))
            .collect();
        Self {
            by_path: Arc::new(by_path),
            unknown: Arc::new(resolve(&MethodInfo::unknown())),
        }
    }

    pub(crate) fn get(&self, path: &str) -> Arc<MethodMetrics> {
        self.by_path.get(path).unwrap_or(&self.unknown).clone()
    }
}

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
            index: MethodIndex::new(methods, |info| metrics.server_method(info)),
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

/// Counts the messages in a request body (received by a server, sent by a client).
pub struct MessageCounter(pub(crate) Arc<MethodMetrics>, pub(crate) fn(&MethodMetrics));

impl BodyObserver for MessageCounter {
    fn on_message(&mut self) {
        (self.1)(&self.0);
    }
}

/// One call in progress: counts response messages; records the outcome when dropped.
pub struct CallRecord {
    method: Arc<MethodMetrics>,
    on_response_message: fn(&MethodMetrics),
    started: Instant,
    code: Option<Code>,
    context: Option<CallContext>,
}

impl CallRecord {
    /// Starts recording; `on_response_message` counts each response message (sent, on a
    /// server; received, on a client).
    pub(crate) fn start(
        method: Arc<MethodMetrics>,
        on_response_message: fn(&MethodMetrics),
        context: Option<CallContext>,
    ) -> Self {
        method.started();
        Self {
            method,
            on_response_message,
            started: Instant::now(),
            code: None,
            context,
        }
    }

    /// Records the call's code, once: the code the client sees, or `Canceled` if the client
    /// went away mid-request (nobody reads what the handler answers then).
    fn ended_with(&mut self, code: Code) {
        let gone = self.context.as_ref().is_some_and(CallContext::client_gone);
        self.code
            .get_or_insert(if gone { Code::Cancelled } else { code });
    }
}

impl BodyObserver for CallRecord {
    fn on_message(&mut self) {
        (self.on_response_message)(&self.method);
    }

    fn on_trailers(&mut self, trailers: &HeaderMap) {
        if let Some(code) = code_from(trailers) {
            self.ended_with(code);
        }
    }

    fn on_failure(&mut self, code: Code) {
        self.ended_with(code);
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        let code = self.code.unwrap_or(Code::Cancelled);
        self.method
            .handled(code, self.started.elapsed().as_secs_f64());
    }
}
