//! Client-side deadlines that fail as `DEADLINE_EXCEEDED`.
//!
//! A call's deadline travels to the server as the `grpc-timeout` header, and a healthy server
//! answers `DEADLINE_EXCEEDED` itself. But a server that is hung, or a network that drops
//! packets, never answers; the client must give up on its own. tonic's `Endpoint::timeout` does
//! that, but reports it as `CANCELLED` ("Timeout expired"), which misleads callers and client
//! metrics alike. This layer enforces the same `grpc-timeout` locally and answers with the
//! status gRPC specifies for it — over the whole call, as gRPC defines a deadline: a stream
//! whose messages stop coming after its headers fails at the deadline too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bookstore_layers::grpc_timeout;
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

/// Fails calls whose `grpc-timeout` passes before the response arrives.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ClientDeadlineLayer;

impl<S> Layer<S> for ClientDeadlineLayer {
    type Service = ClientDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientDeadline { inner }
    }
}

/// The service made by [`ClientDeadlineLayer`].
#[derive(Clone, Debug)]
pub struct ClientDeadline<S> {
    inner: S,
}

impl<S, ReqBody> Service<Request<ReqBody>> for ClientDeadline<S>
where
    S: Service<Request<ReqBody>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ClientDeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let deadline = grpc_timeout(request.headers()).map(|limit| Deadline {
            // Boxed so that it can move, still armed, from the call into the response body.
            sleep: Box::pin(tokio::time::sleep(limit)),
            limit,
            // Kept for the message of a call that runs out (a reference count, not a copy).
            uri: request.uri().clone(),
        });
        ClientDeadlineFuture {
            call: self.inner.call(request),
            deadline,
        }
    }
}

/// A call's deadline: the timer, and what to say when it fires.
struct Deadline {
    sleep: Pin<Box<Sleep>>,
    limit: Duration,
    uri: Uri,
}

impl Deadline {
    fn exceeded(&self) -> Status {
        Status::deadline_exceeded(format!(
            "no answer from {} within the {:?} deadline",
            self.uri.path(),
            self.limit
        ))
    }
}

pin_project! {
    /// The response future of [`ClientDeadline`].
    pub struct ClientDeadlineFuture<F> {
        #[pin]
        call: F,
        deadline: Option<Deadline>,
    }
}

impl<F, E> Future for ClientDeadlineFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(deadline) = this.deadline else {
            return this.call.poll(cx);
        };
        if deadline.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(deadline.exceeded().into_http()));
        }
        let response = std::task::ready!(this.call.poll(cx))?;
        let deadline = this.deadline.take().expect("checked above");
        // The deadline covers the whole call: a stream that stalls after its headers fails too.
        Poll::Ready(Ok(response.map(|body| {
            Body::new(DeadlineBody {
                inner: body,
                deadline,
            })
        })))
    }
}

pin_project! {
    /// A response body that fails with `DEADLINE_EXCEEDED` once the call's deadline passes.
    struct DeadlineBody {
        #[pin]
        inner: Body,
        deadline: Deadline,
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        // The timer first: a stream that never stops sending must end at its deadline too.
        if this.deadline.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(this.deadline.exceeded())));
        }
        this.inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Code;
    use tower::{Layer as _, Service as _, ServiceExt as _, service_fn};

    use super::*;

    /// A body that never sends anything.
    struct Silent;

    impl http_body::Body for Silent {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Pending
        }
    }

    /// A body that never stops sending.
    struct Endless;

    impl http_body::Body for Endless {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"more")))))
        }
    }

    /// The response body of a call with a 100 ms deadline to a server answering with `body`.
    async fn body_of_a_call_answered_with(body: fn() -> Body) -> Body {
        let server = service_fn(move |_request: Request<Body>| async move {
            Ok::<_, Infallible>(Response::new(body()))
        });
        let mut channel = ClientDeadlineLayer.layer(server);
        let request = Request::builder()
            .uri("/bookstore.Test/Stream")
            .header("grpc-timeout", "100m")
            .body(Body::empty())
            .unwrap();
        let response = channel.ready().await.unwrap().call(request).await.unwrap();
        response.into_body()
    }

    async fn next_frame(body: &mut Body) -> Option<Result<Frame<Bytes>, Status>> {
        std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut *body), cx)).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_stalls_after_its_headers_fails_at_the_deadline() {
        let mut body = body_of_a_call_answered_with(|| Body::new(Silent)).await;
        let status = next_frame(&mut body).await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_never_stops_ends_at_the_deadline() {
        let mut body = body_of_a_call_answered_with(|| Body::new(Endless)).await;
        for _ in 0..3 {
            assert!(next_frame(&mut body).await.unwrap().is_ok());
        }
        tokio::time::advance(Duration::from_millis(150)).await;
        let status = next_frame(&mut body).await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    }
}
