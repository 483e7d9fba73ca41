//! One OpenTelemetry span per incoming gRPC call (kind SERVER), named and attributed by the
//! semantic conventions for RPC: `{rpc.service}/{rpc.method}`, `rpc.system`, `rpc.service`,
//! `rpc.method`, `rpc.grpc.status_code`, `server.address`; status `ERROR` for the codes the
//! conventions call server errors. The caller's W3C `traceparent` makes it a child of the
//! caller's span. A streaming call is one span for the whole stream, with a `message` event
//! per message each way (`rpc.message.type`, `rpc.message.id`).
//!
//! The span is entered around every poll of the call's response and body, so what the handler
//! and the layers inside log carries its trace and span ids. Without an OTLP endpoint
//! (`bookstore_telemetry::exporting`) no span is made and the layer costs a branch per poll.

use std::task::{Context, Poll};

use bookstore_telemetry::TRACE_TARGET;
use http::{HeaderMap, Request, Response};
use tonic::Code;
use tower::{Layer, Service};
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::observe::{BodyObserver, ObservedBody, ObservedResponse, code_from};
use crate::rpc_span::{self, Side};

/// Makes a SERVER span for each call, when traces are exported.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcServerTraceLayer;

impl<S> Layer<S> for GrpcServerTraceLayer {
    type Service = GrpcServerTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerTrace {
            inner,
            exporting: bookstore_telemetry::exporting(),
        }
    }
}

/// The service made by [`GrpcServerTraceLayer`].
#[derive(Clone, Debug)]
pub struct GrpcServerTrace<S> {
    inner: S,
    exporting: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcServerTrace<S>
where
    S: Service<Request<ObservedBody<ReqBody, MessageEvents>>, Response = Response<ResBody>>,
{
    type Response = Response<ObservedBody<ResBody, CallSpan>>;
    type Error = S::Error;
    type Future = ObservedResponse<S::Future, CallSpan, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let span = if self.exporting {
            server_span(&request)
        } else {
            Span::none()
        };
        let received = MessageEvents::new(span.clone(), "RECEIVED");
        let request = request.map(|body| ObservedBody::new(body, received));
        let call = CallSpan {
            sent: MessageEvents::new(span.clone(), "SENT"),
            span,
            code: None,
        };
        let future = call.span.in_scope(|| self.inner.call(request));
        // A service error (not a status) ends the call without a response: UNKNOWN.
        ObservedResponse::new(future, call, |_| Code::Unknown)
    }
}

/// The span of one incoming call, a child of the caller's if its headers carry one.
fn server_span<B>(request: &Request<B>) -> Span {
    let (service, method) = rpc_span::service_and_method(request.uri().path());
    let span = tracing::info_span!(
        target: TRACE_TARGET,
        "grpc.server",
        otel.name = %format_args!("{service}/{method}"),
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        server.address = request.uri().host(),
        trace_id = Empty,
        span_id = Empty,
    );
    // A context that cannot be set (a span already started) keeps the span a root.
    let _ = span.set_parent(bookstore_telemetry::extract(request.headers()));
    rpc_span::record_ids(&span);
    span
}

/// Adds a `message` event to a call's span for each message one way.
pub struct MessageEvents {
    span: Span,
    kind: &'static str,
    count: u64,
}

impl MessageEvents {
    pub(crate) fn new(span: Span, kind: &'static str) -> Self {
        Self {
            span,
            kind,
            count: 0,
        }
    }
}

impl BodyObserver for MessageEvents {
    fn on_message(&mut self) {
        self.count += 1;
        rpc_span::message_event(&self.span, self.kind, self.count);
    }

    fn counts_messages(&self) -> bool {
        !self.span.is_disabled()
    }
}

/// One call's span: entered around each poll, closed with the call's status when dropped.
pub struct CallSpan {
    span: Span,
    sent: MessageEvents,
    code: Option<Code>,
}

impl BodyObserver for CallSpan {
    fn on_message(&mut self) {
        self.sent.on_message();
    }

    fn on_trailers(&mut self, trailers: &HeaderMap) {
        if let Some(code) = code_from(trailers) {
            self.code.get_or_insert(code);
        }
    }

    fn on_failure(&mut self, code: Code) {
        self.code.get_or_insert(code);
    }

    fn counts_messages(&self) -> bool {
        self.sent.counts_messages()
    }

    fn around_poll<T>(&mut self, poll: impl FnOnce() -> T) -> T {
        self.span.in_scope(poll)
    }
}

impl Drop for CallSpan {
    fn drop(&mut self) {
        // No status: the client went away before the call ended.
        rpc_span::record_status(
            &self.span,
            Side::Server,
            self.code.unwrap_or(Code::Cancelled),
        );
    }
}
