//! Every failed call reported once — method, status code, message, latency, request id, and a
//! panic's message — to a pluggable [`ErrorReporter`]: the Rust counterpart of the tutorial's
//! `ErrorLogger` interceptor and its `log_error` hook (log to Sentry, a test double, ...).
//!
//! The status is read where the client will read it: the response headers of a trailers-only
//! response (a handler that returned `Err`) or the trailers at the end of a stream. A call whose
//! response is dropped before it ends was cancelled by the client and is reported as such; so
//! is one whose client went away while sending its request, whatever tonic then answers to
//! nobody. The request body tells this layer so through the call's [`CallContext`], as
//! `CatchPanicLayer` tells it a panic's message.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tonic::{Code, Status};
use tower::{Layer, Service};
use tracing::Span;

use crate::call_context::CallContext;
use crate::grpc_families::code_name;
use crate::load_shed::OVERLOADED;
use crate::observe::{BodyObserver, ObservedBody, ObservedResponse, code_from};
use crate::request_id::REQUEST_ID_HEADER;
use crate::request_timeout::CALLER_DEADLINE;

/// The request id header, parsed once (a `&str` key is parsed on every lookup).
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

/// One failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    /// The HTTP/2 path, e.g. `/Recommendations/Recommend`.
    pub method: String,
    /// The status code the client received.
    pub code: Code,
    /// The status message the client received.
    pub message: String,
    /// From request to status.
    pub latency: Duration,
    /// The request's `x-request-id`, if it had one.
    pub request_id: Option<String>,
    /// The handler's panic message, if the error was a panic (the client saw only
    /// "internal error").
    pub panic: Option<String>,
}

/// Where failed calls are reported. Implement it to send errors to an error tracker; the
/// default, [`TracingReporter`], logs them.
pub trait ErrorReporter: Send + Sync + 'static {
    /// Called exactly once for every call that did not end `OK`.
    fn report(&self, report: &ErrorReport);
}

/// Logs each failed call through `tracing`: server faults (`INTERNAL`, `UNKNOWN`, `DATA_LOSS`,
/// panics) at ERROR, the client's mistakes at WARN, and cancellations (the client's choice:
/// it hung up, or its deadline passed before it could read the answer — `CANCELLED`, or
/// `DEADLINE_EXCEEDED` at the caller's own `grpc-timeout`) at DEBUG — they are
/// counted in the metrics, and a load balancer draining or a load test ending makes thousands.
/// So are calls shed by an overloaded server (`load_shed`), for the same reason: they are
/// counted, and the shedder itself warns that it sheds, at most every ten seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingReporter;

impl ErrorReporter for TracingReporter {
    fn report(&self, report: &ErrorReport) {
        let server_fault = report.panic.is_some()
            || matches!(report.code, Code::Internal | Code::Unknown | Code::DataLoss);
        let request_id = report.request_id.as_deref().unwrap_or("-");
        // Rounded to the microsecond: a float with noise in its last digits helps nobody.
        let latency_ms = (report.latency.as_secs_f64() * 1e6).round() / 1e3;
        let (method, code) = (report.method.as_str(), code_name(report.code));
        let status_message = report.message.as_str();
        let callers_choice = report.code == Code::Cancelled
            || (report.code == Code::DeadlineExceeded
                && report.message.starts_with(CALLER_DEADLINE));
        let shed = report.code == Code::ResourceExhausted && report.message.starts_with(OVERLOADED);
        if shed {
            tracing::debug!(
                method,
                status_message,
                latency_ms,
                request_id,
                "gRPC call shed: the server is overloaded"
            );
        } else if callers_choice && report.panic.is_none() {
            tracing::debug!(
                method,
                status_message,
                latency_ms,
                request_id,
                "gRPC call cancelled by the client, or past its deadline"
            );
        } else if server_fault {
            tracing::error!(
                method,
                code,
                status_message,
                panic = report.panic.as_deref(),
                latency_ms,
                request_id,
                "gRPC call failed"
            );
        } else {
            tracing::warn!(
                method,
                code,
                status_message,
                latency_ms,
                request_id,
                "gRPC call failed"
            );
        }
    }
}

/// Reports failed calls to an [`ErrorReporter`].
#[derive(Clone)]
pub struct ErrorLogLayer {
    reporter: Arc<dyn ErrorReporter>,
}

impl std::fmt::Debug for ErrorLogLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorLogLayer").finish_non_exhaustive()
    }
}

impl ErrorLogLayer {
    /// Reports to `reporter`.
    pub fn new(reporter: Arc<dyn ErrorReporter>) -> Self {
        Self { reporter }
    }
}

impl<S> Layer<S> for ErrorLogLayer {
    type Service = ErrorLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorLog {
            inner,
            reporter: self.reporter.clone(),
        }
    }
}

/// The service made by [`ErrorLogLayer`].
#[derive(Clone)]
pub struct ErrorLog<S> {
    inner: S,
    reporter: Arc<dyn ErrorReporter>,
}

impl<S> std::fmt::Debug for ErrorLog<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorLog").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ErrorLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ObservedBody<ResBody, PendingReport>>;
    type Error = S::Error;
    type Future = ObservedResponse<S::Future, PendingReport, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = CallContext::of(&mut request);
        let pending = PendingReport {
            reporter: self.reporter.clone(),
            // The path only (the method's name): one shared buffer to count, not the whole URI.
            path: request.uri().path_and_query().cloned(),
            request_id: request.headers().get(&REQUEST_ID).cloned(),
            started: Instant::now(),
            context,
            outcome: Outcome::Open,
            // The report comes as the response body is dropped, outside every span: it enters
            // the call's own, so its line carries the call's trace ids (only while traces are
            // exported: otherwise there are none to carry).
            span: bookstore_telemetry::exporting().then(Span::current),
        };
        // A service error (not a status) ends the call without a response: the server answers
        // UNKNOWN.
        ObservedResponse::new(self.inner.call(request), pending, |_| Code::Unknown)
    }
}

/// A call in progress; reports on drop if the call did not end `OK`.
pub struct PendingReport {
    reporter: Arc<dyn ErrorReporter>,
    path: Option<PathAndQuery>,
    request_id: Option<HeaderValue>,
    started: Instant,
    /// Where a panic's message and a client gone mid-request are recorded.
    context: CallContext,
    outcome: Outcome,
    /// The call's span, entered to report.
    span: Option<Span>,
}

/// What became of a call, as far as the error log has seen.
enum Outcome {
    /// No status yet; if it stays so, the call was cancelled.
    Open,
    /// Ended `OK`: the hot path, so no `Status` is built for it.
    Succeeded,
    Failed(Status),
}

impl BodyObserver for PendingReport {
    fn on_trailers(&mut self, trailers: &HeaderMap) {
        if !matches!(self.outcome, Outcome::Open) {
            return;
        }
        // Read only the code first: a full `Status` (which copies the trailers into its
        // metadata and decodes the message) is built only for failures.
        self.outcome = match code_from(trailers) {
            Some(_) if self.client_gone() => Outcome::Failed(client_gone()),
            Some(Code::Ok) => Outcome::Succeeded,
            Some(_) => Status::from_header_map(trailers).map_or(Outcome::Open, Outcome::Failed),
            None => Outcome::Open,
        };
    }

    fn on_failure(&mut self, code: Code) {
        if matches!(self.outcome, Outcome::Open) {
            self.outcome = Outcome::Failed(if self.client_gone() {
                client_gone()
            } else {
                Status::new(code, "the server failed to respond")
            });
        }
    }
}

impl PendingReport {
    /// The called method's path, `/package.Service/Method`.
    fn method(&self) -> &str {
        self.path.as_ref().map_or("/", PathAndQuery::path)
    }

    /// Whether the client went away while sending its request: then whatever the handler
    /// answers (tonic: UNKNOWN "h2 protocol error", or INTERNAL "Missing request message"),
    /// nobody is there to read it, and the call is reported as cancelled.
    fn client_gone(&self) -> bool {
        self.context.client_gone()
    }
}

/// The status of a call whose client went away while sending its request.
fn client_gone() -> Status {
    Status::cancelled(CLIENT_GONE_MESSAGE)
}

/// How a call is reported whose client went away while sending its request.
const CLIENT_GONE_MESSAGE: &str = "the client went away while sending its request";

impl Drop for PendingReport {
    fn drop(&mut self) {
        let _in_the_call = self.span.as_ref().map(Span::enter);
        let request_id = self.request_id.as_ref().and_then(|id| id.to_str().ok());
        let status = match std::mem::replace(&mut self.outcome, Outcome::Open) {
            Outcome::Succeeded => {
                // Successful calls are logged only at debug level (off by default): at info
                // level a line per call would cost more than the call itself.
                tracing::debug!(
                    method = self.method(),
                    request_id = request_id.unwrap_or("-"),
                    latency_ms = (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
                    "gRPC call succeeded"
                );
                return;
            }
            Outcome::Failed(status) => status,
            Outcome::Open if self.client_gone() => client_gone(),
            Outcome::Open => Status::cancelled("the call ended before its status was sent"),
        };
        self.reporter.report(&ErrorReport {
            method: self.method().to_owned(),
            code: status.code(),
            message: status.message().to_owned(),
            latency: self.started.elapsed(),
            // A caller that sent no id gets one here, only when there is something to report.
            request_id: Some(
                request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
            ),
            panic: self.context.panic_message().map(str::to_owned),
        });
    }
}
