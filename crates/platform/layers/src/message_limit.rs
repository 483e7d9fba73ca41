//! Request messages larger than the server's limit fail with `RESOURCE_EXHAUSTED`, the code
//! gRPC's own implementations (C core, Go, Java, Python) use and their clients expect — tonic's
//! built-in check answers `OUT_OF_RANGE` instead.
//!
//! The request body is watched as it arrives: the limit is enforced as soon as a message's
//! length prefix announces too much, before its payload is buffered. The generated servers'
//! own `max_decoding_message_size` stays in place behind this layer as a backstop.
//!
//! Being the last to see a request body before the handler, this is also where a client that
//! goes away mid-request (resets the stream, drops the connection) is noticed: the error log
//! and the metrics outside read it from the call's [`CallContext`] and record the call as `CANCELLED`,
//! whatever tonic then makes of the broken body (`UNKNOWN` "h2 protocol error", `INTERNAL`
//! "Missing request message"). The handler still gets an error, so that it stops: a
//! `CANCELLED` body error becomes `ABORTED` on its way, because tonic takes a `CANCELLED`
//! request-body error for a clean end of the stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::Request;
use http_body::{Body, Frame};
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::call_context::CallContext;
use crate::guarded_body::{Guard, Guarded, GuardedBody};
use crate::observe::MessageFramer;

/// Fails requests whose messages exceed a size limit with `RESOURCE_EXHAUSTED`.
#[derive(Clone, Copy, Debug)]
pub struct MessageLimitLayer {
    max_bytes: usize,
}

impl MessageLimitLayer {
    /// Accepts request messages of up to `max_bytes` bytes.
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }
}

impl<S> Layer<S> for MessageLimitLayer {
    type Service = MessageLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageLimit {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// The service made by [`MessageLimitLayer`].
#[derive(Clone, Debug)]
pub struct MessageLimit<S> {
    inner: S,
    max_bytes: usize,
}

impl<S, B> Service<Request<B>> for MessageLimit<S>
where
    S: Service<Request<GuardedBody<B, LimitGuard>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let guard = LimitGuard {
            framer: MessageFramer::default(),
            max_bytes: self.max_bytes,
            context: CallContext::of(&mut request),
        };
        // Wrapped in place, not boxed: tonic's router boxes the body once, whatever its type.
        self.inner
            .call(request.map(|inner| GuardedBody::new(inner, guard)))
    }
}

/// Whether a request body's error means the client went away: tonic's `CANCELLED` (hyper's
/// "canceled", or an RST_STREAM with CANCEL), its connection breaking, or a reset or GOAWAY it
/// sent with a reason that says it is simply leaving (`NO_ERROR`, `CANCEL`, `STREAM_CLOSED`) —
/// tonic reports the last two as `UNKNOWN` "h2 protocol error". A reset that blames the server
/// (`PROTOCOL_ERROR`, `ENHANCE_YOUR_CALM`, ...) keeps the status tonic gives it.
///
/// The `h2::Error` is found by downcasting, which works while this crate and hyper use the
/// same h2 (one `h2 0.4` in `Cargo.lock`; the client-gone test fails if they ever diverge).
fn client_went_away(status: &Status) -> bool {
    if status.code() == Code::Cancelled {
        return true;
    }
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            let leaving = matches!(
                h2.reason(),
                Some(h2::Reason::NO_ERROR | h2::Reason::CANCEL | h2::Reason::STREAM_CLOSED)
            );
            return h2.is_io() || (h2.is_remote() && (h2.is_reset() || h2.is_go_away()) && leaving);
        }
        source = error.source();
    }
    false
}

/// What the handler gets instead of a `CANCELLED` body error, which tonic would take for a
/// clean end of the request stream (a client-streaming handler would accept a truncated
/// stream as complete). Nobody receives the call's answer; the observers record `CANCELLED`.
fn abandoned() -> Status {
    Status::aborted("the client went away while sending its request")
}

/// Fails a request stream with `RESOURCE_EXHAUSTED` once a message announces more than the
/// limit. tonic hands a body's `Status` error to the handler as it is, so the handler (and the
/// client) see exactly this status.
#[derive(Debug)]
pub struct LimitGuard {
    framer: MessageFramer,
    max_bytes: usize,
    context: CallContext,
}

impl<B> Guard<B> for LimitGuard
where
    B: Body<Data = Bytes>,
    B::Error: Into<Status>,
{
    type Error = Status;

    fn poll_guarded(
        self: Pin<&mut Self>,
        inner: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Guarded<Status>> {
        let this = self.get_mut();
        let mut frame =
            std::task::ready!(inner.poll_frame(cx)).map(|frame| frame.map_err(Into::into));
        match &frame {
            Some(Err(status)) if client_went_away(status) => {
                this.context.record_client_gone();
                if status.code() == Code::Cancelled {
                    frame = Some(Err(abandoned()));
                }
            }
            // The body stopped inside a message: the stream was cut off (hyper ends the body
            // of a stream the client reset with NO_ERROR as if it were complete; a client that
            // really sent END_STREAM there is broken, and gets tonic's INTERNAL).
            None if this.framer.mid_message() => this.context.record_client_gone(),
            _ => {}
        }
        if let Some(data) = frame
            .as_ref()
            .and_then(|frame| frame.as_ref().ok()?.data_ref())
        {
            this.framer.feed(data.chunk());
            if this.framer.largest() > this.max_bytes {
                return Poll::Ready(Guarded::End(Status::resource_exhausted(format!(
                    "request message of {} bytes is larger than the server's limit of {} bytes",
                    this.framer.largest(),
                    this.max_bytes
                ))));
            }
        }
        Poll::Ready(Guarded::Frame(frame))
    }

    fn ending(status: Status) -> Result<Frame<Bytes>, Status> {
        Err(status)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A request body that yields the given frames, then ends.
    struct Frames(VecDeque<Result<Frame<Bytes>, Status>>);

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Ready(self.0.pop_front())
        }
    }

    async fn read_all(frames: Vec<Result<Frame<Bytes>, Status>>) -> Vec<Result<usize, Status>> {
        let guard = LimitGuard {
            framer: MessageFramer::default(),
            max_bytes: 1024,
            context: CallContext::default(),
        };
        let mut body = std::pin::pin!(GuardedBody::new(Frames(frames.into()), guard));
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            out.push(frame.map(|frame| frame.into_data().map_or(0, |data| data.len())));
        }
        out
    }

    #[tokio::test]
    async fn a_cancelled_request_stream_fails_rather_than_ending() {
        let message = Frame::data(Bytes::from_static(&[0, 0, 0, 0, 1, 7]));
        let read = read_all(vec![Ok(message), Err(Status::cancelled("reset"))]).await;
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].as_ref().ok(), Some(&6));
        let status = read[1].as_ref().unwrap_err();
        assert_eq!(status.code(), Code::Aborted, "{status:?}");
        assert!(status.message().contains("went away"), "{status:?}");

        // Other errors pass through as they are.
        let read = read_all(vec![Err(Status::data_loss("disk"))]).await;
        assert_eq!(read[0].as_ref().unwrap_err().code(), Code::DataLoss);
    }
}
