//! One OpenTelemetry span per outgoing gRPC call (kind CLIENT), a child of the span the call is
//! made in (the web request's, say), named and attributed by the semantic conventions for RPC
//! like the server's span; its W3C `traceparent` goes out with the call, so the server's span
//! becomes its child. Three concurrent calls made by one request are three sibling spans.
//! Status `ERROR` for every code but OK, as the conventions say for clients.
//!
//! Without an OTLP endpoint (`bookstore_telemetry::exporting`) no span is made and the call goes
//! through untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bookstore_telemetry::TRACE_TARGET;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tonic::Code;
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::client_metrics::code_of;
use crate::observe::{BodyObserver, ObservedBody, code_from};
use crate::rpc_span::{self, Side};
use crate::server_trace::MessageEvents;

/// Makes a CLIENT span for each call on a channel, when traces are exported.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcClientTraceLayer;

impl<S> Layer<S> for GrpcClientTraceLayer {
    type Service = GrpcClientTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientTrace {
            inner,
            exporting: bookstore_telemetry::exporting(),
        }
    }
}

/// The service made by [`GrpcClientTraceLayer`].
#[derive(Clone, Debug)]
pub struct GrpcClientTrace<S> {
    inner: S,
    exporting: bool,
}

impl<S> Service<Request<Body>> for GrpcClientTrace<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::error::Error + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ClientTraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if !self.exporting {
            return ClientTraceFuture {
                inner: self.inner.call(request),
                span: None,
            };
        }
        let (span, sampled) = client_span(&request);
        bookstore_telemetry::inject(&span.context(), request.headers_mut());
        let sent = MessageEvents::new(span.clone(), "SENT", sampled);
        let request = request.map(|body| Body::new(ObservedBody::new(body, sent)));
        ClientTraceFuture {
            inner: span.in_scope(|| self.inner.call(request)),
            span: Some(ClientCall {
                span,
                code: None,
                received: 0,
                sampled,
            }),
        }
    }
}

/// The span of one outgoing call, a child of the current span, and whether it is sampled.
fn client_span(request: &Request<Body>) -> (Span, bool) {
    let (service, method) = rpc_span::service_and_method(request.uri().path());
    let span = tracing::info_span!(
        target: TRACE_TARGET,
        "grpc.client",
        otel.name = %format_args!("{service}/{method}"),
        otel.kind = "client",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        server.address = request.uri().host(),
        server.port = request.uri().port_u16(),
    );
    let sampled = bookstore_telemetry::remember_trace_ids(&span);
    (span, sampled)
}

pin_project! {
    /// The response future of [`GrpcClientTrace`].
    pub struct ClientTraceFuture<F> {
        #[pin]
        inner: F,
        // `None` when traces are not exported.
        span: Option<ClientCall>,
    }
}

impl<F, E> Future for ClientTraceFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
    E: std::error::Error + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(call) = this.span.as_mut() else {
            return this.inner.poll(cx);
        };
        let inner = this.inner;
        let result = std::task::ready!(call.around_poll(|| inner.poll(cx)));
        let Some(mut call) = this.span.take() else {
            unreachable!("checked above");
        };
        Poll::Ready(match result {
            Ok(response) => {
                if response.headers().contains_key("grpc-status") {
                    call.on_trailers(response.headers());
                }
                // Re-boxed, as the channel's body type must stay nameable.
                Ok(response.map(|body| Body::new(ObservedBody::new(body, call))))
            }
            Err(error) => {
                call.on_failure(code_of(&error));
                Err(error)
            }
        })
    }
}

/// One outgoing call's span: closed with the status the caller sees when dropped.
pub(crate) struct ClientCall {
    span: Span,
    code: Option<Code>,
    received: u64,
    // Message events only for a span that will be exported.
    sampled: bool,
}

impl BodyObserver for ClientCall {
    fn on_message(&mut self) {
        self.received += 1;
        rpc_span::message_event(&self.span, "RECEIVED", self.received);
    }

    fn counts_messages(&self) -> bool {
        self.sampled
    }

    fn on_trailers(&mut self, trailers: &http::HeaderMap) {
        if let Some(code) = code_from(trailers) {
            self.code.get_or_insert(code);
        }
    }

    fn on_failure(&mut self, code: Code) {
        self.code.get_or_insert(code);
    }

    fn around_poll<T>(&mut self, poll: impl FnOnce() -> T) -> T {
        self.span.in_scope(poll)
    }
}

impl Drop for ClientCall {
    fn drop(&mut self) {
        // No status: the caller dropped the call (its own deadline, say) before it ended.
        rpc_span::record_status(
            &self.span,
            Side::Client,
            self.code.unwrap_or(Code::Cancelled),
        );
    }
}
