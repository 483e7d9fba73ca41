//! A gRPC body seen by the interop layers (`server_layer`, `client_layer`): it records the
//! compressed flag of each message passing through, gzips the messages the call's plan says to,
//! and adds a trailer of the layer's own to the trailers — each only if asked.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;

use crate::call_compression::CallCompression;
use crate::frames::{FrameRewriter, FrameScanner};

pin_project! {
    /// `inner`, with the features asked for.
    pub(crate) struct WireBody<B> {
        #[pin]
        inner: B,
        record: Option<(FrameScanner, CallCompression)>,
        compress: Option<(FrameRewriter, CallCompression)>,
        trailer: Option<(HeaderName, HeaderValue)>,
    }
}

impl<B> WireBody<B> {
    /// `inner` as it is.
    pub(crate) fn new(inner: B) -> Self {
        Self {
            inner,
            record: None,
            compress: None,
            trailer: None,
        }
    }

    /// Also records each message's compressed flag into `call`.
    pub(crate) fn recording(mut self, call: &CallCompression) -> Self {
        self.record = Some((FrameScanner::default(), call.clone()));
        self
    }

    /// Also gzips the messages `call` plans to send compressed.
    pub(crate) fn compressing(mut self, call: &CallCompression) -> Self {
        self.compress = Some((FrameRewriter::default(), call.clone()));
        self
    }

    /// Also adds `name: value` to the trailers.
    pub(crate) fn with_trailer(mut self, trailer: Option<(HeaderName, HeaderValue)>) -> Self {
        self.trailer = trailer;
        self
    }
}

impl<B> Body for WireBody<B>
where
    B: Body<Data = Bytes, Error = Status>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        loop {
            let frame = match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None => {
                    if this.compress.as_ref().is_some_and(|(r, _)| r.is_holding()) {
                        return Poll::Ready(Some(Err(Status::internal(
                            "the body ended inside a message",
                        ))));
                    }
                    return Poll::Ready(None);
                }
            };
            let frame = match frame.into_data() {
                Ok(data) => {
                    if let Some((scanner, call)) = this.record.as_mut() {
                        scanner.scan(&data, |compressed| call.record_received(compressed));
                    }
                    match this.compress.as_mut() {
                        None => Frame::data(data),
                        Some((rewriter, call)) => {
                            match rewriter.push(&data, || call.next_to_send()) {
                                Ok(Some(rewritten)) => Frame::data(rewritten),
                                Ok(None) => continue,
                                Err(error) => {
                                    return Poll::Ready(Some(Err(Status::internal(format!(
                                        "compressing a message failed: {error}"
                                    )))));
                                }
                            }
                        }
                    }
                }
                Err(frame) => match frame.into_trailers() {
                    Ok(_) if this.compress.as_ref().is_some_and(|(r, _)| r.is_holding()) => {
                        return Poll::Ready(Some(Err(Status::internal(
                            "the body ended inside a message",
                        ))));
                    }
                    Ok(mut trailers) => {
                        if let Some((name, value)) = this.trailer.take() {
                            trailers.insert(name, value);
                        }
                        Frame::trailers(trailers)
                    }
                    Err(other) => other,
                },
            };
            return Poll::Ready(Some(Ok(frame)));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.compress.is_some() {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}
