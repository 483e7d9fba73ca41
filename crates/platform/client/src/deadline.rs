//! Client-side deadlines that fail as `DEADLINE_EXCEEDED`.
//!
//! A call's deadline travels to the server as the `grpc-timeout` header, and a healthy server
//! answers `DEADLINE_EXCEEDED` itself. But a server that is hung, or a network that drops
//! packets, never answers; the client must give up on its own. tonic's `Endpoint::timeout` does
//! that, but reports it as `CANCELLED` ("Timeout expired"), which misleads callers and client
//! metrics alike. This layer enforces the same `grpc-timeout` locally and answers with the
//! status gRPC specifies for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, Request, Response, Uri};
use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tonic::Status;
use tower::{Layer, Service};

/// The header carrying a call's deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
///
/// Written by hand because tonic keeps its parser private and the format is a few lines.
pub(crate) fn parse_grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(GRPC_TIMEOUT)?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClientDeadline<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ClientDeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let call = match parse_grpc_timeout(request.headers()) {
            Some(deadline) => {
                // Kept for the message of a call that runs out (a reference count, not a copy).
                let uri = request.uri().clone();
                Call::Bounded {
                    call: tokio::time::timeout(deadline, self.inner.call(request)),
                    deadline,
                    uri,
                }
            }
            None => Call::Unbounded {
                call: self.inner.call(request),
            },
        };
        ClientDeadlineFuture { call }
    }
}

pin_project! {
    /// A call, with or without a deadline.
    #[project = CallProj]
    enum Call<F> {
        Bounded {
            #[pin]
            call: Timeout<F>,
            deadline: Duration,
            uri: Uri,
        },
        Unbounded {
            #[pin]
            call: F,
        },
    }
}

pin_project! {
    /// The response future of [`ClientDeadline`].
    pub struct ClientDeadlineFuture<F> {
        #[pin]
        call: Call<F>,
    }
}

impl<F, B, E> Future for ClientDeadlineFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().call.project() {
            CallProj::Unbounded { call } => call.poll(cx),
            CallProj::Bounded {
                call,
                deadline,
                uri,
            } => Poll::Ready(match std::task::ready!(call.poll(cx)) {
                Ok(result) => result,
                Err(_elapsed) => Ok(Status::deadline_exceeded(format!(
                    "no answer from {} within the {deadline:?} deadline",
                    uri.path()
                ))
                .into_http()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, value.parse().unwrap());
        parse_grpc_timeout(&headers)
    }

    #[test]
    fn parses_every_unit_and_rejects_the_rest() {
        assert_eq!(parse("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse("9n"), Some(Duration::from_nanos(9)));
        for bad in ["", "S", "123456789S", "10x", "-1S", "1.5S"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse_grpc_timeout(&HeaderMap::new()), None);
    }
}
