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

use bytes::Bytes;
use http::{HeaderMap, Request, Response, Uri};
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

/// The header carrying a call's deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
///
/// Written by hand because tonic keeps its parser private and the format is a few lines.
pub(crate) fn parse_grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(GRPC_TIMEOUT)?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    // Digits only: `str::parse` alone would also take a leading `+`.
    if !(1..=8).contains(&digits.len()) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
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
        let deadline = parse_grpc_timeout(request.headers()).map(|limit| Deadline {
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
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(this.deadline.exceeded()))),
            Poll::Pending => Poll::Pending,
        }
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
    use bookstore_testing::property_cases;
    use proptest::prelude::*;
    use proptest::test_runner::Config as ProptestConfig;

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
        // "+1S": found by the property below (`str::parse` takes a sign).
        for bad in ["", "S", "123456789S", "10x", "-1S", "1.5S", "+1S"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse_grpc_timeout(&HeaderMap::new()), None);
    }

    /// A generated `grpc-timeout` value, in parts: what comes before the digits, the digits,
    /// the unit, and what comes after.
    fn timeout_parts() -> impl Strategy<Value = (String, String, String, String)> {
        let junk = prop_oneof![4 => Just(String::new()), 1 => "[-+ .]", 1 => "[ -~]{1,3}"];
        let unit = prop_oneof![4 => "[HMSmun]", 1 => "[ -~]?"];
        (junk.clone(), "[0-9]{0,10}", unit, junk)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(property_cases(1024))
        })]

        /// Exactly the spec's values (1 to 8 ASCII digits and a unit) are deadlines, each its
        /// number of units; anything else is malformed.
        #[test]
        fn reads_exactly_the_specs_values((before, digits, unit, after) in timeout_parts()) {
            let value = format!("{before}{digits}{unit}{after}");
            let nanos_per_unit: Option<u128> = match unit.as_str() {
                "H" => Some(3_600_000_000_000),
                "M" => Some(60_000_000_000),
                "S" => Some(1_000_000_000),
                "m" => Some(1_000_000),
                "u" => Some(1_000),
                "n" => Some(1),
                _ => None,
            };
            let expected = nanos_per_unit
                .filter(|_| before.is_empty() && after.is_empty())
                .filter(|_| (1..=8).contains(&digits.len()))
                .map(|nanos| digits.parse::<u128>().unwrap() * nanos);
            let read = parse(&value).map(|duration| duration.as_nanos());
            match expected {
                Some(nanos) => prop_assert_eq!(read, Some(nanos), "{:?}", value),
                // The parts may still join into a valid value ("1" "2" "S" ""): then it must
                // be one as a whole.
                None if read.is_some() => {
                    let digits = &value[..value.len() - 1];
                    prop_assert!((1..=8).contains(&digits.len()), "{:?}", value);
                    prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{:?}", value);
                    prop_assert!(value.ends_with(['H', 'M', 'S', 'm', 'u', 'n']), "{:?}", value);
                }
                None => {}
            }
        }
    }
}
