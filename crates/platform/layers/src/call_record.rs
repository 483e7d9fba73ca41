//! Recording one call into its method's metrics, for the server and the client metrics layers
//! alike: the per-method handles resolved once ([`MethodIndex`]), the messages of a request
//! ([`MessageCounter`]) and the call itself, from start to status ([`CallRecord`]).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use http::HeaderMap;
use rustc_hash::FxHashMap;
use tonic::Code;

use crate::call_context::CallContext;
use crate::grpc_families::MethodMetrics;
use crate::latency::TraceExemplar;
use crate::methods::{MethodInfo, MethodTable};
use crate::observe::{BodyObserver, code_from};
use crate::rpc_span::current_trace;

/// Per-method handles, each resolved — and its series created — when the method is first
/// called, so a process shows series only for what it serves or calls (a server resolves its
/// own methods up front: see [`MethodIndex::resolve_all`]). Looked up on every call, so the
/// table uses FxHash rather than the standard library's DoS-resistant SipHash: it is fixed at
/// start-up and never grows, so a crafted path can only miss, not slow anything down.
#[derive(Clone)]
pub(crate) struct MethodIndex {
    by_path: Arc<FxHashMap<String, Method>>,
    unknown: Arc<Method>,
    resolve: Arc<dyn Fn(&MethodInfo) -> MethodMetrics + Send + Sync>,
}

/// One method and, once resolved, its handles.
struct Method {
    info: MethodInfo,
    metrics: OnceLock<Arc<MethodMetrics>>,
}

impl Method {
    fn new(info: MethodInfo) -> Self {
        Self {
            info,
            metrics: OnceLock::new(),
        }
    }
}

impl MethodIndex {
    pub(crate) fn new(
        methods: &MethodTable,
        resolve: impl Fn(&MethodInfo) -> MethodMetrics + Send + Sync + 'static,
    ) -> Self {
        let by_path = methods
            .iter()
            .map(|(path, info)| (path.to_owned(), Method::new(info.clone())))
            .collect();
        Self {
            by_path: Arc::new(by_path),
            unknown: Arc::new(Method::new(MethodInfo::unknown())),
            resolve: Arc::new(resolve),
        }
    }

    /// Resolves every known method now, so its series show (at zero) before its first call.
    pub(crate) fn resolve_all(self) -> Self {
        for method in self.by_path.values() {
            self.resolved(method);
        }
        self
    }

    pub(crate) fn get(&self, path: &str) -> Arc<MethodMetrics> {
        self.resolved(self.by_path.get(path).unwrap_or(&self.unknown))
    }

    fn resolved(&self, method: &Method) -> Arc<MethodMetrics> {
        method
            .metrics
            .get_or_init(|| Arc::new((self.resolve)(&method.info)))
            .clone()
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
    /// The trace the call belongs to, if it is traced: its latency's exemplar.
    trace: Option<TraceExemplar>,
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
            trace: current_trace(),
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
        self.method.handled(
            code,
            self.started.elapsed().as_secs_f64(),
            self.trace.take(),
        );
    }
}
