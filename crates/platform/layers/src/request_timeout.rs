//! The server's own time limit on a call: past it, the call fails with `DEADLINE_EXCEEDED`, as
//! gRPC specifies — and as the metrics and the error log, which sit outside this layer, record
//! it. (tonic's `Server::timeout` answers `CANCELLED` from outside every layer, so the metrics
//! could only see a call that vanished.)
//!
//! The limit covers the handler's work until the response starts: a unary or client-streaming
//! call in full, a server-streaming or bidi call until its stream is returned. Long-lived
//! streams such as health `Watch` are therefore not cut by it; the grace deadline at shutdown
//! ends those.
//!
//! A deadline the caller sends (`grpc-timeout`) that is sooner than the limit is the limit of
//! that call, and ends it the same way. tonic applies it too, but from outside every layer and
//! as `CANCELLED`; this layer's timer is set first, so it answers first. [`grpc_timeout`] reads
//! the header as the gRPC spec writes it (the platform's clients read it with the same function).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, HeaderName, Request, Response};
use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tonic::Status;
use tower::{Layer, Service};

/// How the message of a call cut at its caller's deadline begins (the error log reports those
/// at DEBUG: the deadline was the caller's choice).
pub(crate) const CALLER_DEADLINE: &str = "the caller's deadline of";

/// The header carrying a caller's deadline.
/// (A `HeaderName`, not a `&str`: a string key is parsed into a name on every lookup.)
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// The caller's deadline from its `grpc-timeout` header, as the gRPC spec writes it: 1 to 8
/// ASCII digits, then a unit (`H`, `M`, `S`, `m`, `u`, `n`). `None` without the header, or
/// if it is malformed (a sign, a space, a ninth digit, another unit, ...). The servers' stack
/// and the clients' deadline layer both read it with this function.
///
/// Written by hand because tonic keeps its parser private (and takes a leading `+`), and the
/// format is a few lines.
pub fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(&GRPC_TIMEOUT)?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    // `str::parse` alone would also take a leading `+`.
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

/// Fails calls whose handler takes longer than a limit, or than the caller's deadline if that
/// is sooner, with `DEADLINE_EXCEEDED`.
#[derive(Clone, Copy, Debug)]
pub struct RequestTimeoutLayer {
    limit: Duration,
}

impl RequestTimeoutLayer {
    /// Handlers get `limit` to produce their response.
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for RequestTimeoutLayer {
    type Service = RequestTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTimeout {
            inner,
            limit: self.limit,
        }
    }
}

/// The service made by [`RequestTimeoutLayer`].
#[derive(Clone, Debug)]
pub struct RequestTimeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestTimeout<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestTimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let limit = match grpc_timeout(request.headers()) {
            Some(deadline) if deadline < self.limit => Limit::Caller(deadline),
            _ => Limit::Server(self.limit),
        };
        // The timer is registered only if the handler does not answer on its first poll.
        RequestTimeoutFuture {
            inner: tokio::time::timeout(limit.duration(), self.inner.call(request)),
            limit,
        }
    }
}

/// Whose limit a call has.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// The server's own.
    Server(Duration),
    /// The caller's `grpc-timeout`, sooner than the server's.
    Caller(Duration),
}

impl Limit {
    fn duration(self) -> Duration {
        match self {
            Self::Server(duration) | Self::Caller(duration) => duration,
        }
    }
}

pin_project! {
    /// The response future of [`RequestTimeout`].
    pub struct RequestTimeoutFuture<F> {
        #[pin]
        inner: Timeout<F>,
        limit: Limit,
    }
}

impl<F, B, E> Future for RequestTimeoutFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(match std::task::ready!(this.inner.poll(cx)) {
            Ok(result) => result,
            Err(_elapsed) => Ok(Status::deadline_exceeded(match *this.limit {
                Limit::Server(limit) => format!(
                    "the server's time limit of {} ran out",
                    humantime::format_duration(limit)
                ),
                Limit::Caller(deadline) => format!(
                    "{CALLER_DEADLINE} {} ran out",
                    humantime::format_duration(deadline)
                ),
            })
            .into_http()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bookstore_testing::property_cases;
    use proptest::prelude::*;
    use proptest::test_runner::Config as ProptestConfig;
    use tonic::Code;
    use tower::{ServiceExt as _, service_fn};

    use super::*;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, value.parse().unwrap());
        grpc_timeout(&headers)
    }

    #[test]
    fn reads_grpc_timeout_as_the_spec_writes_it() {
        assert_eq!(parse("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(
            parse("99999999H"),
            Some(Duration::from_secs(99_999_999 * 3600))
        );
        // "+1S": found by the property tests (a sign is no digit, but `str::parse` takes one).
        for bad in [
            "",
            "S",
            "123456789S",
            "10x",
            "-1S",
            "1.5S",
            "+1S",
            " 1S",
            "1S ",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
    }

    /// A generated `grpc-timeout` value, in parts: what comes before the digits, the digits,
    /// the unit, and what comes after.
    fn timeout_parts() -> impl Strategy<Value = (String, String, String, String)> {
        let junk = prop_oneof![4 => Just(String::new()), 1 => "[ -~]{1,3}"];
        let unit = prop_oneof![4 => "[HMSmun]", 1 => "[ -~]?"];
        (junk.clone(), "[0-9]{0,10}", unit, junk)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(property_cases(1024))
        })]

        /// Exactly the spec's values are deadlines, and each is its number of units.
        #[test]
        fn reads_exactly_the_specs_grpc_timeouts((before, digits, unit, after) in timeout_parts()) {
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
            // Parts can combine into another valid value ("1" "2" "S" ""), so the property is
            // on what the whole value reads as when its parts say it is not valid.
            let read = parse(&value).map(|duration| duration.as_nanos());
            match expected {
                Some(nanos) => prop_assert_eq!(read, Some(nanos), "{:?}", value),
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

    /// A call whose handler takes `handling`, with `grpc-timeout: <header>` if given, under a
    /// server limit of 10 s: its status code.
    async fn call(header: Option<&str>, handling: Duration) -> Code {
        let slow = service_fn(move |_: Request<()>| async move {
            tokio::time::sleep(handling).await;
            Ok::<_, Infallible>(Response::new(()))
        });
        let service = RequestTimeoutLayer::new(Duration::from_secs(10)).layer(slow);
        let mut request = Request::new(());
        if let Some(header) = header {
            request
                .headers_mut()
                .insert(GRPC_TIMEOUT, header.parse().unwrap());
        }
        let response = service.oneshot(request).await.unwrap();
        Status::from_header_map(response.headers()).map_or(Code::Ok, |status| status.code())
    }

    #[tokio::test(start_paused = true)]
    async fn a_callers_sooner_deadline_is_the_limit() {
        // "12n": found by the property tests, answered CANCELLED by tonic before this layer read it.
        assert_eq!(
            call(Some("12n"), Duration::from_secs(1)).await,
            Code::DeadlineExceeded
        );
        assert_eq!(
            call(Some("100m"), Duration::from_millis(50)).await,
            Code::Ok
        );
        assert_eq!(
            call(Some("1H"), Duration::from_secs(11)).await,
            Code::DeadlineExceeded
        );
        assert_eq!(call(Some("+1n"), Duration::from_secs(1)).await, Code::Ok);
        assert_eq!(call(None, Duration::from_secs(9)).await, Code::Ok);
    }
}
