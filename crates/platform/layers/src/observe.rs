//! Watching a gRPC body go by: counting length-prefixed messages and seeing its trailers.
//!
//! Middleware that reports on a call (metrics, error logging) cannot stop at the response
//! future: a streaming call's status arrives in the trailers, after every message, and a client
//! may hang up half way. [`ObservedBody`] forwards every frame unchanged and tells a
//! [`BodyObserver`] what it saw; the observer's own `Drop` marks the end of the call, so a body
//! that is dropped early (a cancelled call) is accounted for exactly once as well.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;

/// The response header (or trailer) carrying a call's status code. A `HeaderName`, not a
/// `&str`: looking a `&str` up parses and validates it first, on every call.
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

/// Reads the status code from headers or trailers, if they carry one.
pub(crate) fn code_from(headers: &HeaderMap) -> Option<Code> {
    headers
        .get(&GRPC_STATUS)
        .map(|value| Code::from_bytes(value.as_bytes()))
}

/// Told what an [`ObservedBody`] saw. The end of the call is the observer's `Drop`.
pub trait BodyObserver: Send + 'static {
    /// A complete gRPC message went by.
    fn on_message(&mut self) {}
    /// Trailers went by (for a response: the call's status).
    fn on_trailers(&mut self, _trailers: &HeaderMap) {}
    /// The call failed without a response; its client sees `code`.
    fn on_failure(&mut self, _code: Code) {}
    /// Whether [`BodyObserver::on_message`] is wanted: counting messages reads every frame's
    /// length prefixes, which an observer that ignores them need not pay for.
    fn counts_messages(&self) -> bool {
        true
    }
    /// Runs one poll of the watched response future or body: the tracer polls inside the
    /// call's span, so what the handler logs is joined to its trace.
    fn around_poll<T>(&mut self, poll: impl FnOnce() -> T) -> T {
        poll()
    }
}

/// Counts length-prefixed gRPC messages (1 flag byte, 4 length bytes, payload) across
/// arbitrarily split data frames.
#[derive(Debug, Default)]
pub(crate) struct MessageFramer {
    header_len: u8,
    length: [u8; 4],
    remaining: usize,
    in_payload: bool,
    largest: usize,
}

impl MessageFramer {
    /// The largest length any message announced so far (known as soon as its prefix is read,
    /// before its payload arrives).
    pub(crate) fn largest(&self) -> usize {
        self.largest
    }

    /// Whether the data fed so far stops part way through a message.
    pub(crate) fn mid_message(&self) -> bool {
        self.in_payload || self.header_len > 0
    }

    /// Feeds a chunk; returns how many messages it completed.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> usize {
        let mut completed = 0;
        while !data.is_empty() {
            if self.in_payload {
                let take = self.remaining.min(data.len());
                self.remaining -= take;
                data = &data[take..];
                if self.remaining == 0 {
                    self.in_payload = false;
                    completed += 1;
                }
                continue;
            }
            if self.header_len > 0 {
                self.length[usize::from(self.header_len) - 1] = data[0];
            }
            data = &data[1..];
            self.header_len += 1;
            if self.header_len == 5 {
                self.header_len = 0;
                let length = u32::from_be_bytes(self.length) as usize;
                self.largest = self.largest.max(length);
                if length == 0 {
                    completed += 1;
                } else {
                    self.remaining = length;
                    self.in_payload = true;
                }
            }
        }
        completed
    }
}

pin_project! {
    /// A body that reports messages and trailers to an observer and is otherwise transparent.
    pub struct ObservedBody<B, O> {
        #[pin]
        inner: B,
        framer: MessageFramer,
        observer: O,
    }
}

impl<B, O> ObservedBody<B, O> {
    /// Wraps `inner`, reporting to `observer`.
    pub(crate) fn new(inner: B, observer: O) -> Self {
        Self {
            inner,
            framer: MessageFramer::default(),
            observer,
        }
    }
}

impl<B, O> Body for ObservedBody<B, O>
where
    B: Body<Data = Bytes>,
    O: BodyObserver,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let inner = this.inner;
        let frame = std::task::ready!(this.observer.around_poll(|| inner.poll_frame(cx)));
        if let Some(Ok(frame)) = &frame {
            if let Some(data) = frame.data_ref() {
                if this.observer.counts_messages() {
                    for _ in 0..this.framer.feed(data.chunk()) {
                        this.observer.on_message();
                    }
                }
            } else if let Some(trailers) = frame.trailers_ref() {
                this.observer.on_trailers(trailers);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project! {
    /// The response future of a watched call: the observer sees the status of a trailers-only
    /// response (a handler that returned `Err`) in its headers, or `on_failure` if the service
    /// failed outright, and then travels on with the body, which it watches to the end.
    ///
    /// A named future rather than `Box::pin(async move { .. })`: the stack runs several of
    /// these per call, and each box is an allocation and an indirect poll on the hot path.
    pub struct ObservedResponse<F, O, E> {
        #[pin]
        inner: F,
        observer: Option<O>,
        classify: fn(&E) -> Code,
    }
}

impl<F, O, E> ObservedResponse<F, O, E> {
    /// Watches the response of `inner`; `classify` says which code the client sees when the
    /// service fails with an error instead of a response.
    pub(crate) fn new(inner: F, observer: O, classify: fn(&E) -> Code) -> Self {
        Self {
            inner,
            observer: Some(observer),
            classify,
        }
    }
}

impl<F, O, E, B> Future for ObservedResponse<F, O, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    O: BodyObserver,
{
    type Output = Result<Response<ObservedBody<B, O>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let observer = this
            .observer
            .as_mut()
            .expect("ObservedResponse polled after it completed");
        let inner = this.inner;
        let result = std::task::ready!(observer.around_poll(|| inner.poll(cx)));
        let Some(mut observer) = this.observer.take() else {
            unreachable!("checked above");
        };
        Poll::Ready(match result {
            Ok(response) => {
                if response.headers().contains_key(&GRPC_STATUS) {
                    observer.on_trailers(response.headers());
                }
                Ok(response.map(|body| ObservedBody::new(body, observer)))
            }
            Err(error) => {
                observer.on_failure((this.classify)(&error));
                Err(error)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn counts_messages_split_at_every_possible_byte() {
        let mut wire = frame(b"hello");
        wire.extend(frame(b""));
        wire.extend(frame(&[7; 300]));
        for split in 0..wire.len() {
            let mut framer = MessageFramer::default();
            let (a, b) = wire.split_at(split);
            assert_eq!(framer.feed(a) + framer.feed(b), 3, "split at {split}");
        }
        let mut framer = MessageFramer::default();
        let one_byte_at_a_time: usize = wire.iter().map(|b| framer.feed(&[*b])).sum();
        assert_eq!(one_byte_at_a_time, 3);
    }

    #[test]
    fn knows_the_largest_announced_length_before_the_payload_arrives() {
        let mut framer = MessageFramer::default();
        assert_eq!(framer.feed(&frame(b"hi")), 1);
        let big = frame(&[7; 300]);
        assert_eq!(framer.feed(&big[..5]), 0);
        assert_eq!(framer.largest(), 300);
    }

    #[test]
    fn reads_status_codes() {
        let mut headers = HeaderMap::new();
        assert_eq!(code_from(&headers), None);
        headers.insert(GRPC_STATUS, "5".parse().unwrap());
        assert_eq!(code_from(&headers), Some(Code::NotFound));
    }
}
