//! One OpenTelemetry span per incoming gRPC call (kind SERVER), named and attributed by the
//! semantic conventions for RPC: `{rpc.service}/{rpc.method}`, `rpc.system`, `rpc.service`,
//! `rpc.method`, `rpc.grpc.status_code`, `server.address`; status `ERROR` for the codes the
//! conventions call server errors. The caller's W3C `traceparent` makes it a child of the
//! caller's span. A streaming call is one span for the whole stream, with a `message` event
//! per message each way (`rpc.message.type`, `rpc.message.id`).
//!
//! The span is entered around every poll of the call's response and body, so what the handler
//! and the layers inside log carries its trace and span ids. Without an OTLP endpoint
//! (`bookstore_telemetry::exporting`) no span is made and the call goes through untouched: its
//! bodies and response future are only tagged `Plain`, which costs a branch per poll.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bookstore_telemetry::TRACE_TARGET;
use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
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
    S: Service<Request<MaybeTraced<ReqBody, MessageEvents>>, Response = Response<ResBody>>,
{
    type Response = Response<MaybeTraced<ResBody, CallSpan>>;
    type Error = S::Error;
    type Future = ServerTraceFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if !self.exporting {
            let request = request.map(|body| MaybeTraced::Plain { body });
            return ServerTraceFuture::Plain {
                future: self.inner.call(request),
            };
        }
        let (span, sampled) = server_span(&request);
        let received = MessageEvents::new(span.clone(), "RECEIVED", sampled);
        let request = request.map(|body| MaybeTraced::Traced {
            body: Box::pin(ObservedBody::new(body, received)),
        });
        let call = CallSpan {
            sent: MessageEvents::new(span.clone(), "SENT", sampled),
            span,
            code: None,
        };
        let future = call.span.in_scope(|| self.inner.call(request));
        ServerTraceFuture::Traced {
            // A service error (not a status) ends the call without a response: UNKNOWN.
            future: Box::pin(ObservedResponse::new(future, call, |_| Code::Unknown)),
        }
    }
}

pin_project! {
    /// A body of a call: watched for its span's message events and status when the call is
    /// traced, passed through as it is when not. The watched body is boxed, so an untraced
    /// call's body (and every future holding it) is no bigger than without this layer: moving
    /// and allocating bigger futures was most of what the layer cost when off.
    #[project = MaybeTracedProjection]
    pub enum MaybeTraced<B, O> {
        /// Not traced.
        Plain { #[pin] body: B },
        /// Traced: watched by the call's span.
        Traced { body: Pin<Box<ObservedBody<B, O>>> },
    }
}

impl<B, O> Body for MaybeTraced<B, O>
where
    B: Body<Data = Bytes>,
    O: BodyObserver,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            MaybeTracedProjection::Plain { body } => body.poll_frame(cx),
            MaybeTracedProjection::Traced { body } => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Plain { body } => body.is_end_stream(),
            Self::Traced { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Plain { body } => body.size_hint(),
            Self::Traced { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// The response future of [`GrpcServerTrace`]: the inner one, watched (and boxed, as the
    /// bodies are) when traced.
    #[project = ServerTraceFutureProjection]
    pub enum ServerTraceFuture<F, E> {
        /// Not traced.
        Plain { #[pin] future: F },
        /// Traced: the call's span travels on with the response body.
        Traced { future: Pin<Box<ObservedResponse<F, CallSpan, E>>> },
    }
}

impl<F, E, B> Future for ServerTraceFuture<F, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MaybeTraced<B, CallSpan>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match self.project() {
            ServerTraceFutureProjection::Plain { future } => ready!(future.poll(cx))
                .map(|response| response.map(|body| MaybeTraced::Plain { body })),
            ServerTraceFutureProjection::Traced { future } => {
                ready!(future.as_mut().poll(cx)).map(|response| {
                    response.map(|body| MaybeTraced::Traced {
                        body: Box::pin(body),
                    })
                })
            }
        })
    }
}

/// The span of one incoming call, a child of the caller's if its headers carry one, and
/// whether it is sampled.
fn server_span<B>(request: &Request<B>) -> (Span, bool) {
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
    );
    // A context that cannot be set (a span already started) keeps the span a root.
    let _ = span.set_parent(bookstore_telemetry::extract(request.headers()));
    let sampled = bookstore_telemetry::remember_trace_ids(&span);
    (span, sampled)
}

/// Adds a `message` event to a call's span for each message one way, if the span is sampled.
pub struct MessageEvents {
    span: Span,
    kind: &'static str,
    count: u64,
    sampled: bool,
}

impl MessageEvents {
    pub(crate) fn new(span: Span, kind: &'static str, sampled: bool) -> Self {
        Self {
            span,
            kind,
            count: 0,
            sampled,
        }
    }
}

impl BodyObserver for MessageEvents {
    fn on_message(&mut self) {
        self.count += 1;
        rpc_span::message_event(&self.span, self.kind, self.count);
    }

    fn counts_messages(&self) -> bool {
        // An unsampled span is never exported: its events would go nowhere.
        self.sampled
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
