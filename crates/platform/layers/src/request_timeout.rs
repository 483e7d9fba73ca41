//! The server's own time limit on a call: past it, the call fails with `DEADLINE_EXCEEDED`, as
//! gRPC specifies — and as the metrics and the error log, which sit outside this layer, record
//! it. (tonic's `Server::timeout` answers `CANCELLED` from outside every layer, so the metrics
//! could only see a call that vanished.)
//!
//! The limit covers the handler's work until the response starts: a unary or client-streaming
//! call in full, a server-streaming or bidi call until its stream is returned. Long-lived
//! streams such as health `Watch` are therefore not cut by it; the grace deadline at shutdown
//! ends those. A deadline the client sends (`grpc-timeout`) is still applied by tonic.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tonic::Status;
use tower::{Layer, Service};

/// Fails calls whose handler takes longer than a limit with `DEADLINE_EXCEEDED`.
#[derive(Clone, Copy, Debug)]
pub struct RequestTimeoutLayer {
    limit: Duration,
}

impl RequestTimeoutLayer {
    /// Handlers get `limit` to produce their response.
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for RequestTimeoutLayer {
    type Service = RequestTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTimeout {
            inner,
            limit: self.limit,
        }
    }
}

/// The service made by [`RequestTimeoutLayer`].
#[derive(Clone, Debug)]
pub struct RequestTimeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestTimeout<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestTimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The timer is registered only if the handler does not answer on its first poll.
        RequestTimeoutFuture {
            inner: tokio::time::timeout(self.limit, self.inner.call(request)),
            limit: self.limit,
        }
    }
}

pin_project! {
    /// The response future of [`RequestTimeout`].
    pub struct RequestTimeoutFuture<F> {
        #[pin]
        inner: Timeout<F>,
        limit: Duration,
    }
}

impl<F, B, E> Future for RequestTimeoutFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(match std::task::ready!(this.inner.poll(cx)) {
            Ok(result) => result,
            Err(_elapsed) => Ok(Status::deadline_exceeded(format!(
                "the server's time limit of {} ran out",
                humantime::format_duration(*this.limit)
            ))
            .into_http()),
        })
    }
}
