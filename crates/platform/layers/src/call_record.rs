//! Recording one call into its method's metrics, for the server and the client metrics layers
//! alike: the per-method handles resolved once ([`MethodIndex`]), the messages of a request
//! ([`MessageCounter`]) and the call itself, from start to status ([`CallRecord`]).

use std::sync::Arc;
use std::time::Instant;

use http::HeaderMap;
use rustc_hash::FxHashMap;
use tonic::Code;

use crate::call_context::CallContext;
use crate::methods::{MethodInfo, MethodTable};
use crate::metrics::MethodMetrics;
use crate::observe::{BodyObserver, code_from};

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
