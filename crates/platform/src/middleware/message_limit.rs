//! Request messages larger than the server's limit fail with `RESOURCE_EXHAUSTED`, the code
//! gRPC's own implementations (C core, Go, Java, Python) use and their clients expect — tonic's
//! built-in check answers `OUT_OF_RANGE` instead.
//!
//! The request body is watched as it arrives: the limit is enforced as soon as a message's
//! length prefix announces too much, before its payload is buffered. The generated servers'
//! own `max_decoding_message_size` stays in place behind this layer as a backstop.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::Request;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;
use tower::{Layer, Service};

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
