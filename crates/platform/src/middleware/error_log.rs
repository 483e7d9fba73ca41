//! Every failed call reported once — method, status code, message, latency, request id, and a
//! panic's message — to a pluggable [`ErrorReporter`]: the Rust counterpart of the tutorial's
//! `ErrorLogger` interceptor and its `log_error` hook (log to Sentry, a test double, ...).
//!
//! The status is read where the client will read it: the response headers of a trailers-only
//! response (a handler that returned `Err`) or the trailers at the end of a stream. A call whose
//! response is dropped before it ends was cancelled by the client and is reported as such.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Request, Response, Uri};
use tonic::{Code, Status};
use tower::{Layer, Service};

use super::catch_panic::PanicNote;
use super::request_id::REQUEST_ID_HEADER;
use crate::grpc_body::{BodyObserver, GRPC_STATUS, ObservedBody, code_from};

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
/// panics) at ERROR, everything else (the client's mistakes, cancellations) at WARN.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingReporter;

impl ErrorReporter for TracingReporter {
    fn report(&self, report: &ErrorReport) {
        let server_fault = report.panic.is_some()
            || matches!(report.code, Code::Internal | Code::Unknown | Code::DataLoss);
        let request_id = report.request_id.as_deref().unwrap_or("-");
        let latency_ms = report.latency.as_secs_f64() * 1e3;
        if server_fault {
            tracing::error!(
                method = %report.method,
                code = ?report.code,
                message = %report.message,
                panic = report.panic.as_deref(),
                latency_ms,
                request_id,
                "gRPC call failed"
            );
        } else {
            tracing::warn!(
                method = %report.method,
                code = ?report.code,
                message = %report.message,
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
    S::Future: Send + 'static,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<ObservedBody<ResBody, PendingReport>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let note = PanicNote::default();
        request.extensions_mut().insert(note.clone());
        let mut pending = PendingReport {
            reporter: self.reporter.clone(),
            uri: request.uri().clone(),
            request_id: request.headers().get(REQUEST_ID_HEADER).cloned(),
            started: Instant::now(),
            note,
            status: None,
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = match future.await {
                Ok(response) => response,
                Err(error) => {
                    pending.fail(Status::unknown("the server failed to respond"));
                    return Err(error);
                }
            };
            if response.headers().contains_key(GRPC_STATUS) {
                pending.on_trailers(response.headers());
            }
            Ok(response.map(|body| ObservedBody::new(body, pending)))
        })
    }
}

/// A call in progress; reports on drop if the call did not end `OK`.
pub struct PendingReport {
    reporter: Arc<dyn ErrorReporter>,
    uri: Uri,
    request_id: Option<HeaderValue>,
    started: Instant,
    note: PanicNote,
    status: Option<Status>,
}

impl PendingReport {
    fn fail(&mut self, status: Status) {
        self.status.get_or_insert(status);
    }
}

impl BodyObserver for PendingReport {
    fn on_trailers(&mut self, trailers: &HeaderMap) {
        if self.status.is_some() {
            return;
        }
        // Successful calls are the hot path: read only the code. A full `Status` (which copies
        // the trailers into its metadata and decodes the message) is built only for failures.
        self.status = match code_from(trailers) {
            Some(Code::Ok) => Some(Status::ok("")),
            Some(_) => Status::from_header_map(trailers),
            None => None,
        };
    }
}

impl Drop for PendingReport {
    fn drop(&mut self) {
        let status = self
            .status
            .take()
            .unwrap_or_else(|| Status::cancelled("the call ended before its status was sent"));
        let request_id = self.request_id.as_ref().and_then(|id| id.to_str().ok());
        if status.code() == Code::Ok {
            // Successful calls are logged only at debug level (off by default): at info level a
            // line per call would cost more than the call itself.
            tracing::debug!(
                method = self.uri.path(),
                request_id = request_id.unwrap_or("-"),
                latency_ms = self.started.elapsed().as_secs_f64() * 1e3,
                "gRPC call succeeded"
            );
            return;
        }
        self.reporter.report(&ErrorReport {
            method: self.uri.path().to_owned(),
            code: status.code(),
            message: status.message().to_owned(),
            latency: self.started.elapsed(),
            // A caller that sent no id gets one here, only when there is something to report.
            request_id: Some(
                request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
            ),
            panic: self.note.message().map(str::to_owned),
        });
    }
}
