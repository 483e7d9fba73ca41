//! The end of a graceful shutdown: when the grace period is over, every call still in flight
//! ends with `UNAVAILABLE` ("the server is shutting down").
//!
//! Stopping to accept and draining connections is hyper's job, but hyper waits for every open
//! stream; a stream that never ends (a stuck handler, an endless watch) would hold the shutdown
//! forever. Dropping the server instead would leave its connection tasks running in the
//! process — the launcher and tests run several servers in one — with clients left hanging.
//! Ending the calls here gives each client a status, lets the metrics and the error log record
//! it, and lets hyper close the connections cleanly.
//!
//! A call whose client stopped reading cannot be reached this way (hyper waits for flow-control
//! window before it polls the body again); the server stops waiting for those shortly after.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::Status;
use tower::{Layer, Service};

use crate::guarded_body::{Guard, Guarded, GuardedBody};

/// The message of a call ended by the grace deadline.
const CUTOFF_MESSAGE: &str = "the server is shutting down";

/// Ends every call in flight with `UNAVAILABLE` once a token is cancelled.
///
/// Every call holds the token, behind an `Arc`: cloning or dropping a `CancellationToken`
/// itself takes a lock shared by all its clones, which every call on every core would contend
/// for.
#[derive(Clone, Debug)]
pub struct GraceCutoffLayer {
    cutoff: Arc<CancellationToken>,
}

impl GraceCutoffLayer {
    /// Ends calls when `cutoff` is cancelled (at the grace deadline).
    pub fn new(cutoff: CancellationToken) -> Self {
        Self {
            cutoff: Arc::new(cutoff),
        }
    }
}

impl<S> Layer<S> for GraceCutoffLayer {
    type Service = GraceCutoff<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GraceCutoff {
            inner,
            cutoff: self.cutoff.clone(),
        }
    }
}

/// The service made by [`GraceCutoffLayer`].
#[derive(Clone, Debug)]
pub struct GraceCutoff<S> {
    inner: S,
    cutoff: Arc<CancellationToken>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GraceCutoff<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<GuardedBody<ResBody, CutoffGuard>>;
    type Error = S::Error;
    type Future = CutoffFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        CutoffFuture {
            inner: self.inner.call(request),
            cutoff: None,
            token: self.cutoff.clone(),
        }
    }
}

pin_project! {
    /// The response future of [`GraceCutoff`].
    pub struct CutoffFuture<F> {
        #[pin]
        inner: F,
        // Registered with the token only once the call has to wait (see `wait_for_cutoff`).
        #[pin]
        cutoff: Option<WaitForCancellationFutureOwned>,
        token: Arc<CancellationToken>,
    }
}

impl<F, B, E> Future for CutoffFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<GuardedBody<B, CutoffGuard>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.poll(cx) {
            Poll::Ready(result) => result?,
            Poll::Pending => {
                if wait_for_cutoff(this.cutoff, this.token, cx).is_pending() {
                    return Poll::Pending;
                }
                Status::unavailable(CUTOFF_MESSAGE).into_http()
            }
        };
        let guard = CutoffGuard {
            cutoff: None,
            token: this.token.clone(),
        };
        Poll::Ready(Ok(response.map(|inner| GuardedBody::new(inner, guard))))
    }
}

/// Ready once `token` is cancelled. Most calls answer at once, so the wait (which takes the
/// token's lock to register a waker) is set up only when a call or body has to wait;
/// BENCHMARKS.md measured the difference.
fn wait_for_cutoff(
    mut cutoff: Pin<&mut Option<WaitForCancellationFutureOwned>>,
    token: &CancellationToken,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if token.is_cancelled() {
        return Poll::Ready(());
    }
    if cutoff.is_none() {
        cutoff.set(Some(CancellationToken::clone(token).cancelled_owned()));
    }
    match cutoff.as_pin_mut() {
        Some(cutoff) => cutoff.poll(cx),
        None => unreachable!("the wait was set up just above"),
    }
}

pin_project! {
    /// Ends a response stream with `UNAVAILABLE` trailers at the grace deadline.
    pub struct CutoffGuard {
        #[pin]
        cutoff: Option<WaitForCancellationFutureOwned>,
        token: Arc<CancellationToken>,
    }
}

/// A guard that never cuts: for an empty body a layer outside makes up (the panic catcher's).
impl Default for CutoffGuard {
    fn default() -> Self {
        Self {
            cutoff: None,
            token: Arc::new(CancellationToken::new()),
        }
    }
}

impl<B> Guard<B> for CutoffGuard
where
    B: Body<Data = Bytes>,
{
    type Error = B::Error;

    fn poll_guarded(
        self: Pin<&mut Self>,
        inner: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Guarded<B::Error>> {
        let this = self.project();
        // The deadline first, so that a stream that always has more to send is cut as well;
        // the wake-up is only registered when the body has to wait, so the busy path stays a
        // single atomic load.
        if !this.token.is_cancelled() {
            if let Poll::Ready(frame) = inner.poll_frame(cx) {
                return Poll::Ready(Guarded::Frame(frame));
            }
            if wait_for_cutoff(this.cutoff, this.token, cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(Guarded::End(Status::unavailable(CUTOFF_MESSAGE)))
    }
}
