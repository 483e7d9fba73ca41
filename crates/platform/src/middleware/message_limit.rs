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
//! and the metrics outside hear of it (`call_events`) and record the call as `CANCELLED`,
//! whatever tonic then makes of the broken body (`UNKNOWN` "h2 protocol error", `INTERNAL`
//! "Missing request message"). The body's error itself is passed on unchanged, so that the
//! handler stops: tonic would take a `CANCELLED` body error for a clean end of the stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::Request;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::call_events;
use crate::grpc_body::MessageFramer;

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
    S: Service<Request<LimitedBody<B>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let max_bytes = self.max_bytes;
        // Wrapped in place, not boxed: tonic's router boxes the body once, whatever its type.
        self.inner.call(request.map(|inner| LimitedBody {
            inner,
            framer: MessageFramer::default(),
            max_bytes,
            failed: false,
        }))
    }
}

/// Whether a request body's error means the client went away: tonic's `CANCELLED` (hyper's
/// "canceled", or an RST_STREAM with CANCEL), or an HTTP/2 error from the client's side — a
/// reset or GOAWAY it sent, or its connection breaking — which tonic reports as `UNKNOWN`
/// "h2 protocol error".
fn client_went_away(status: &Status) -> bool {
    if status.code() == Code::Cancelled {
        return true;
    }
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            return h2.is_io() || (h2.is_remote() && (h2.is_reset() || h2.is_go_away()));
        }
        source = error.source();
    }
    false
}

pin_project! {
    /// A request body that fails with `RESOURCE_EXHAUSTED` once a message announces more than
    /// the limit. tonic hands a body's `Status` error to the handler as it is, so the handler
    /// (and the client) see exactly this status.
    pub struct LimitedBody<B> {
        #[pin]
        inner: B,
        framer: MessageFramer,
        max_bytes: usize,
        failed: bool,
    }
}

impl<B> http_body::Body for LimitedBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Status>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        let frame =
            std::task::ready!(this.inner.poll_frame(cx)).map(|frame| frame.map_err(Into::into));
        match &frame {
            Some(Err(status)) if client_went_away(status) => call_events::client_gone(),
            // The body stopped inside a message: the stream was cut off (hyper ends the body
            // of a stream the client reset with CANCEL as if it were complete).
            None if this.framer.mid_message() => call_events::client_gone(),
            _ => {}
        }
        if let Some(data) = frame
            .as_ref()
            .and_then(|frame| frame.as_ref().ok()?.data_ref())
        {
            this.framer.feed(data.chunk());
            if this.framer.largest() > *this.max_bytes {
                *this.failed = true;
                return Poll::Ready(Some(Err(Status::resource_exhausted(format!(
                    "request message of {} bytes is larger than the server's limit of {} bytes",
                    this.framer.largest(),
                    this.max_bytes
                )))));
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
