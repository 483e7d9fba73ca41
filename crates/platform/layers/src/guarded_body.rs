//! Ending a gRPC stream early with a status: the one body that knows how.
//!
//! Three layers stop a stream half way and must tell the other end why: the panic catcher (a
//! response stream whose handler panicked ends with `INTERNAL`), the grace cutoff (a response
//! stream still open at the grace deadline ends with `UNAVAILABLE`) and the message limit (a
//! request stream whose next message is too large fails with `RESOURCE_EXHAUSTED`). Each says
//! *when* in a [`Guard`]; [`GuardedBody`] does the rest, once: it delivers the status the way
//! the stream's reader takes it (a response's client reads it from the trailers; a request's
//! handler gets it as the body's error, which tonic hands on as it is), never polls the inner
//! body again, and says the stream is over to whoever asks.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;

/// What a [`Guard`] makes of one poll of the body it guards.
pub enum Guarded<E> {
    /// The inner body's frame (or end), passed on as it is.
    Frame(Option<Result<Frame<Bytes>, E>>),
    /// The stream ends here, with this status.
    End(Status),
}

/// Decides when a [`GuardedBody`] ends early.
pub trait Guard<B> {
    /// The guarded body's error type.
    type Error;

    /// Polls `inner` for its next frame, or ends the stream with a status instead.
    fn poll_guarded(
        self: Pin<&mut Self>,
        inner: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Guarded<Self::Error>>;

    /// How the stream's reader is told the status that ended it: in the trailers, as a
    /// response's client reads it; a request's guard answers with an error instead.
    fn ending(status: Status) -> Result<Frame<Bytes>, Self::Error> {
        in_trailers(status)
    }
}

/// The trailers frame that ends a response stream with `status`.
fn in_trailers<E>(status: Status) -> Result<Frame<Bytes>, E> {
    let mut trailers = HeaderMap::new();
    // A status whose message cannot be encoded would lose only its message; the guards pass
    // fixed, plain-text ones.
    let _ = status.add_header(&mut trailers);
    Ok(Frame::trailers(trailers))
}

pin_project! {
    /// A body that its [`Guard`] may end early with a status; otherwise transparent.
    pub struct GuardedBody<B, G> {
        #[pin]
        inner: B,
        #[pin]
        guard: G,
        ended: bool,
    }
}

impl<B, G> GuardedBody<B, G> {
    /// `inner`, guarded by `guard`.
    pub(crate) fn new(inner: B, guard: G) -> Self {
        Self {
            inner,
            guard,
            ended: false,
        }
    }
}

/// An empty body that never ends early: what a layer outside makes up when it has to answer
/// without the inner service (the panic catcher's `INTERNAL` response).
impl<B: Default, G: Default> Default for GuardedBody<B, G> {
    fn default() -> Self {
        Self::new(B::default(), G::default())
    }
}

impl<B, G> Body for GuardedBody<B, G>
where
    B: Body<Data = Bytes>,
    G: Guard<B>,
{
    type Data = Bytes;
    type Error = G::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, G::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        Poll::Ready(
            match std::task::ready!(this.guard.poll_guarded(this.inner, cx)) {
                Guarded::Frame(frame) => frame,
                Guarded::End(status) => {
                    // The inner body is never polled again (it may be poisoned by a panic).
                    *this.ended = true;
                    Some(G::ending(status))
                }
            },
        )
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            return SizeHint::with_exact(0);
        }
        // A lower bound only: the guard may end the stream before the inner body would, so an
        // exact size (which a server may send as content-length) could turn out wrong.
        let mut hint = SizeHint::new();
        hint.set_lower(self.inner.size_hint().lower());
        hint
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Yields its frames, then ends.
    #[derive(Default)]
    struct Frames(VecDeque<Frame<Bytes>>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }

        fn size_hint(&self) -> SizeHint {
            let bytes: usize = self
                .0
                .iter()
                .filter_map(Frame::data_ref)
                .map(Bytes::len)
                .sum();
            SizeHint::with_exact(bytes as u64)
        }
    }

    /// Ends the stream after `allowed` frames.
    #[derive(Default)]
    struct AfterFrames {
        allowed: usize,
    }

    impl Guard<Frames> for AfterFrames {
        type Error = Status;

        fn poll_guarded(
            mut self: Pin<&mut Self>,
            inner: Pin<&mut Frames>,
            cx: &mut Context<'_>,
        ) -> Poll<Guarded<Status>> {
            if self.allowed == 0 {
                return Poll::Ready(Guarded::End(Status::unavailable("enough")));
            }
            self.allowed -= 1;
            inner.poll_frame(cx).map(Guarded::Frame)
        }
    }

    #[tokio::test]
    async fn the_status_ends_the_stream_in_its_trailers_and_nothing_follows() {
        let data = || Frame::data(Bytes::from_static(b"x"));
        let inner = Frames([data(), data(), data()].into());
        let mut body = std::pin::pin!(GuardedBody::new(inner, AfterFrames { allowed: 1 }));
        let next = |body: &mut Pin<&mut GuardedBody<Frames, AfterFrames>>| {
            futures_util::FutureExt::now_or_never(std::future::poll_fn(|cx| {
                body.as_mut().poll_frame(cx)
            }))
            .expect("the frames are ready")
        };

        assert!(next(&mut body).unwrap().unwrap().is_data());
        assert!(!body.is_end_stream());
        assert_eq!(body.size_hint().lower(), 2, "the two frames left");
        assert_eq!(
            body.size_hint().upper(),
            None,
            "the guard may end it before then"
        );
        let trailers = next(&mut body).unwrap().unwrap().into_trailers().unwrap();
        assert_eq!(trailers.get("grpc-status").unwrap(), "14");
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(next(&mut body).is_none(), "nothing after the status");
    }
}
