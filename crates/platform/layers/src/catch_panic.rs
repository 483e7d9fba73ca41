//! A panic in a handler becomes an `INTERNAL` status with a generic message, and nothing else
//! notices: the connection, the process and every other call carry on.
//!
//! tower-http's `CatchPanicLayer` covers the response future only. A streaming handler's
//! messages are produced while the *body* is polled, after the response future has finished,
//! so this layer guards both: the future (unary and client-streaming handlers) and the body
//! (server- and bidi-streaming handlers), where a panic ends the stream with `INTERNAL` trailers.
//!
//! Replies a stream produced in the same poll as the panic may not reach the client: tonic's
//! encoder batches the messages that are ready into one frame, and that batch unwinds with the
//! panic. Replies sent in earlier polls have already gone out.
//!
//! The panic's message is for the server's logs only: it goes to the call's
//! [`CallContext`], where the error log outside reads it.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tonic::Status;
use tower::{Layer, Service};

use crate::call_context::CallContext;
use crate::guarded_body::{Guard, Guarded, GuardedBody};

/// The message clients see for a panic; the panic's own message stays in the server's logs.
const PANIC_MESSAGE: &str = "internal error";

/// Hands a caught panic's message to the call's context, if it has one.
fn record(context: Option<&CallContext>, payload: &(dyn Any + Send)) {
    if let Some(context) = context {
        context.record_panic(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_owned())
        });
    }
}

/// Turns handler panics into `INTERNAL` statuses.
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

/// The service made by [`CatchPanicLayer`].
#[derive(Clone, Debug)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CatchPanic<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<GuardedBody<ResBody, PanicGuard>>;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = Some(CallContext::of(&mut request));
        let inner = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => Some(future),
            Err(payload) => {
                record(context.as_ref(), &*payload);
                None
            }
        };
        CatchPanicFuture {
            inner,
            context,
            done: false,
        }
    }
}

pin_project! {
    /// The response future of [`CatchPanic`]: the handler's, with a panic turned into an
    /// `INTERNAL` response.
    pub struct CatchPanicFuture<F> {
        // `None` when the service panicked before it returned a future.
        #[pin]
        inner: Option<F>,
        context: Option<CallContext>,
        done: bool,
    }
}

impl<F, B, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<GuardedBody<B, PanicGuard>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "CatchPanicFuture polled after it completed");
        let outcome = match this.inner.as_pin_mut() {
            Some(inner) => match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(result)) => Ok(result),
                // The future is poisoned; it is never polled again (this one is complete).
                Err(payload) => Err(Some(payload)),
            },
            None => Err(None),
        };
        *this.done = true;
        let context = this.context.take();
        Poll::Ready(match outcome {
            Ok(result) => result.map(|response| {
                response.map(|body| GuardedBody::new(body, PanicGuard { context }))
            }),
            Err(payload) => {
                if let Some(payload) = payload {
                    record(context.as_ref(), &*payload);
                }
                Ok(panic_response())
            }
        })
    }
}

fn panic_response<B: Default>() -> Response<GuardedBody<B, PanicGuard>> {
    Status::internal(PANIC_MESSAGE)
        .into_http::<B>()
        .map(|body| GuardedBody::new(body, PanicGuard::default()))
}

/// Ends a response stream with `INTERNAL` trailers if producing a message panics.
#[derive(Debug, Default)]
pub struct PanicGuard {
    context: Option<CallContext>,
}

impl<B> Guard<B> for PanicGuard
where
    B: Body<Data = Bytes>,
{
    type Error = B::Error;

    fn poll_guarded(
        self: Pin<&mut Self>,
        inner: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Guarded<B::Error>> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))) {
            Ok(poll) => poll.map(Guarded::Frame),
            Err(payload) => {
                record(self.context.as_ref(), &*payload);
                Poll::Ready(Guarded::End(Status::internal(PANIC_MESSAGE)))
            }
        }
    }
}
