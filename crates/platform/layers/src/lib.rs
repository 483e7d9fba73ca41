//! The middleware of Online Books For You: cross-cutting behaviour as tower layers applied to a
//! whole server (or channel), never repeated in handlers — the Rust counterpart of the
//! tutorial's gRPC interceptors. One `Layer` + `Service` pair per file.
//!
//! **The stacks** — the one place each kind of server gets its layers, in their order:
//! - `stack`: [`ServerStack`], every gRPC server layer, outermost first.
//! - `http_stack`: [`HttpStack`], every web app layer.
//!
//! **gRPC server layers**, in the stack's order:
//! - `content_type`: [`GrpcContentTypeLayer`], a request that is not gRPC gets HTTP 415.
//! - `server_trace`: [`GrpcServerTraceLayer`], one OpenTelemetry span per call (kind SERVER).
//! - `server_metrics`: [`GrpcServerMetricsLayer`], the grpc-ecosystem `grpc_server_*` series.
//! - `error_log`: [`ErrorLogLayer`], every failed call reported once to an [`ErrorReporter`].
//! - `catch_panic`: [`CatchPanicLayer`], a panicking handler becomes `INTERNAL`.
//! - `authorize`: [`AuthorizeLayer`], only allowed client identities under mutual TLS.
//! - `load_shed`: [`LoadShedLayer`], calls past the limit of calls in progress refused at once.
//! - `grace_cutoff`: [`GraceCutoffLayer`], calls still running at the grace deadline end.
//! - `request_timeout`: [`RequestTimeoutLayer`], the server's time limit.
//! - `fault_injection`: [`FaultInjectionLayer`], delays and failures on purpose ([`Faults`]),
//!   off by default (`abort_code`: the status codes an abort may use, by name).
//! - `message_limit`: [`MessageLimitLayer`], oversized request messages refused.
//!
//! **Other layers**: `client_trace` ([`GrpcClientTraceLayer`], a CLIENT span per call, its
//! `traceparent` sent along) and `client_metrics` ([`GrpcClientMetricsLayer`]), on channels;
//! `security_headers` ([`SecurityHeadersLayer`]), `http_trace` ([`HttpTraceLayer`]),
//! `access_log` ([`AccessLogLayer`]), `http_metrics` ([`HttpMetricsLayer`]), `request_id`
//! ([`RequestIdLayer`]) and `http_load_shed` ([`HttpLoadShedLayer`]), for web apps.
//!
//! **What the layers share**: `call_context` (the per-call state through which the layers of
//! one call tell each other what they saw), `call_limit` (a server's count of calls in
//! progress, for both load shedders), `method_counters` (counters by method, for the layers
//! that count what they did to calls; which paths are health and reflection), `call_record` (one call recorded into its
//! method's metrics, server or client side), `observe` (watching a body go by: messages,
//! trailers, the end of a call), `guarded_body` (the one body that ends a stream early with a status), `metrics`
//! (the process's Prometheus registry; `grpc_families`, `latency` histograms and
//! `process_metrics` in it), `rpc_span` (the semantic conventions the
//! trace layers share), `methods` (which methods exist and their
//! shapes, from the descriptors), `peer_identity` (who is calling), `status` (how a
//! service's typed errors become statuses, written once), and `input_echo` (how a web app's
//! answers quote a client's input without its markup: [`quote_input`], [`SafeJson`]) and
//! `stylesheet` (how a web app serves its pages' stylesheet at a URL naming its content's hash:
//! [`Stylesheet`]), with [`fnv`] (the stable hash it names it by, also behind the
//! marketplace's covers).
//!
//! gRPC servers read a caller's `x-request-id` (the error log reports it, and logs it at debug
//! level for every call) but neither echo it nor make one up per call: a unique header value in
//! every response defeats HPACK's header compression on the connection, which measured 40% of
//! the stack's cost per call (BENCHMARKS.md). A failure reported without an id gets one then.

mod abort_code;
mod access_log;
mod authorize;
mod call_context;
mod call_limit;
mod call_record;
mod catch_panic;
mod client_metrics;
mod client_trace;
mod content_type;
mod error_log;
mod fault_injection;
pub mod fnv;
mod grace_cutoff;
mod grpc_families;
mod guarded_body;
mod http_load_shed;
mod http_metrics;
mod http_stack;
mod http_trace;
mod input_echo;
mod latency;
mod load_shed;
mod message_limit;
mod method_counters;
mod methods;
mod metrics;
mod observe;
mod peer_identity;
mod process_metrics;
mod request_id;
mod request_timeout;
mod rpc_span;
mod security_headers;
mod server_metrics;
mod server_trace;
mod stack;
mod status;
mod stylesheet;

pub use abort_code::parse_abort_code;
pub use access_log::AccessLogLayer;
pub use authorize::AuthorizeLayer;
pub use catch_panic::CatchPanicLayer;
pub use client_metrics::{GrpcClientMetrics, GrpcClientMetricsLayer};
pub use client_trace::{GrpcClientTrace, GrpcClientTraceLayer};
pub use content_type::{GrpcContentTypeLayer, is_grpc};
pub use error_log::{ErrorLogLayer, ErrorReport, ErrorReporter, TracingReporter};
pub use fault_injection::{ABORT_MESSAGE, FaultInjectionLayer, Faults};
pub use grace_cutoff::GraceCutoffLayer;
pub use grpc_families::code_name;
pub use http_load_shed::HttpLoadShedLayer;
pub use http_metrics::HttpMetricsLayer;
pub use http_stack::HttpStack;
pub use http_trace::HttpTraceLayer;
pub use input_echo::{ECHO_LIMIT, SafeJson, quote_input, shorten_input};
pub use load_shed::LoadShedLayer;
pub use message_limit::MessageLimitLayer;
pub use methods::{MethodTable, RpcKind};
pub use metrics::Metrics;
pub use peer_identity::PeerIdentity;
pub use request_id::{REQUEST_ID_HEADER, RequestIdLayer};
pub use request_timeout::{RequestTimeoutLayer, grpc_timeout};
pub use security_headers::SecurityHeadersLayer;
pub use server_metrics::GrpcServerMetricsLayer;
pub use server_trace::GrpcServerTraceLayer;
pub use stack::{ServerStack, StackConfig, Stacked};
pub use status::{GrpcError, into_status};
pub use stylesheet::Stylesheet;
