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
//! The panic's message is for the server's logs only; an outer layer gets it with
//! [`listen_for_panics`] (the error log does).

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;
use tower::{Layer, Service};

use crate::grpc_body::status_trailers;

/// The message clients see for a panic; the panic's own message stays in the server's logs.
const PANIC_MESSAGE: &str = "internal error";

thread_local! {
    /// Where a caught panic's message goes while an outer layer listens (see
    /// [`listen_for_panics`]): `None` when nobody listens, `Some(None)` while someone does.
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Runs `f` (one `call` or `poll` of the layers inside) and returns, with its result, the
/// message of a panic that a [`CatchPanic`] inside caught while it ran.
///
/// A panic is caught on the very stack that runs `f`, and turned into an `INTERNAL` answer
/// that `f` returns; so the message travels through a thread-local slot that exists only for
/// the duration of `f`, and reaches exactly the layer that asked — the error log — with
/// nothing allocated for the calls that do not panic (all but a few). Listeners nest.
pub(crate) fn listen_for_panics<T>(f: impl FnOnce() -> T) -> (T, Option<String>) {
    /// Restores the outer listener's state, even if `f` unwinds.
    struct Restore(Option<Option<String>>);

    impl Drop for Restore {
        fn drop(&mut self) {
            CAUGHT.set(self.0.take());
        }
    }

    let restore = Restore(CAUGHT.replace(Some(None)));
    let result = f();
    let caught = CAUGHT.replace(None).flatten();
    drop(restore);
    (result, caught)
}

/// Hands a caught panic's message to the listener, if there is one.
fn record(payload: &(dyn Any + Send)) {
    CAUGHT.with_borrow_mut(|slot| {
        if let Some(caught) = slot {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_owned());
            *caught = Some(message);
        }
    });
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
    type Response = Response<PanicSafeBody<ResBody>>;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let inner = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => Some(future),
            Err(payload) => {
                record(&*payload);
                None
            }
        };
        CatchPanicFuture { inner, done: false }
    }
}

pin_project! {
    /// The response future of [`CatchPanic`]: the handler's, with a panic turned into an
    /// `INTERNAL` response.
    pub struct CatchPanicFuture<F> {
        // `None` when the service panicked before it returned a future.
        #[pin]
        inner: Option<F>,
        done: bool,
    }
}

impl<F, B, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<PanicSafeBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = match this.inner.as_pin_mut() {
            Some(inner) => match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(result)) => Ok(result),
                // The future is poisoned; it is never polled again (this one is complete).
                Err(payload) => Err(Some(payload)),
            },
            None => Err(None),
        };
        assert!(!*this.done, "CatchPanicFuture polled after it completed");
        *this.done = true;
        Poll::Ready(match outcome {
            Ok(result) => result.map(|response| response.map(PanicSafeBody::new)),
            Err(payload) => {
                if let Some(payload) = payload {
                    record(&*payload);
                }
                Ok(panic_response())
            }
        })
    }
}

fn panic_response<B: Default>() -> Response<PanicSafeBody<B>> {
    Status::internal(PANIC_MESSAGE)
        .into_http::<B>()
        .map(PanicSafeBody::new)
}

pin_project! {
    /// A response body that ends the stream with `INTERNAL` trailers if producing a message
    /// panics.
    pub struct PanicSafeBody<B> {
        #[pin]
        inner: B,
        panicked: bool,
    }
}

impl<B> PanicSafeBody<B> {
    fn new(inner: B) -> Self {
        Self {
            inner,
            panicked: false,
        }
    }
}

impl<B> Body for PanicSafeBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if *this.panicked {
            return Poll::Ready(None);
        }
        let inner = this.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                // The inner body is poisoned: never poll it again.
                *this.panicked = true;
                record(&*payload);
                Poll::Ready(Some(Ok(status_trailers(&Status::internal(PANIC_MESSAGE)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.panicked || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.panicked {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panic_payload(message: &'static str) -> Box<dyn Any + Send> {
        Box::new(message)
    }

    #[test]
    fn a_listener_hears_only_the_panics_caught_while_it_listens() {
        // Nobody listening: the message is dropped, not kept for a later listener.
        record(&*panic_payload("unheard"));
        let ((), caught) = listen_for_panics(|| ());
        assert_eq!(caught, None);

        let ((), caught) = listen_for_panics(|| record(&*panic_payload("boom")));
        assert_eq!(caught.as_deref(), Some("boom"));
        let ((), caught) = listen_for_panics(|| ());
        assert_eq!(caught, None, "a message is heard once");
    }

    #[test]
    fn listeners_nest_and_survive_an_unwinding_call() {
        let (inner, outer) = listen_for_panics(|| {
            let ((), inner) = listen_for_panics(|| record(&*panic_payload("inner")));
            record(&*panic_payload("outer"));
            inner
        });
        assert_eq!(inner.as_deref(), Some("inner"));
        assert_eq!(outer.as_deref(), Some("outer"));

        let unwound = std::panic::catch_unwind(|| listen_for_panics(|| panic!("through")));
        assert!(unwound.is_err());
        assert!(
            CAUGHT.with_borrow(Option::is_none),
            "the listener was torn down"
        );
    }
}
