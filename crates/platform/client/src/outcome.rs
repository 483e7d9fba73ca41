//! What an attempt came back with, as gRPC's retry design (gRFC A6) reads it: committed (hand
//! it to the caller) or retryable (nothing of a response came, or a status saying the call was
//! not served) — and the `grpc-timeout` a later attempt carries.

use std::time::Duration;

use http::{HeaderValue, Response, StatusCode};
use tonic::Code;
use tonic::body::Body;

use crate::retry::is_retryable;

const GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");

/// What one attempt came back with.
pub(crate) type Attempted = Result<Response<Body>, tonic::transport::Error>;

/// How an attempt ended.
pub(crate) enum Outcome {
    /// Hand it to the caller; `true` if it is a success (its latency counts for hedging).
    Committed(Response<Body>, bool),
    /// It may be tried again.
    Retryable(Attempted),
}

pub(crate) fn classify(result: Attempted) -> Outcome {
    let response = match result {
        Ok(response) => response,
        Err(error) => return Outcome::Retryable(Err(error)),
    };
    // A status in the headers is a trailers-only answer: nothing of a response came.
    let code = response
        .headers()
        .get(GRPC_STATUS)
        .and_then(|value| value.to_str().ok()?.parse::<i32>().ok())
        .map(Code::from_i32);
    match code {
        Some(code) if is_retryable(code) => Outcome::Retryable(Ok(response)),
        Some(code) => Outcome::Committed(response, code == Code::Ok),
        // No gRPC status and not 200: a proxy or an ingress answered, not the service. gRPC's
        // HTTP-to-status table makes 429, 502, 503 and 504 UNAVAILABLE (retryable); the rest
        // are handed to the caller (tonic reports them), but are no success.
        None if response.status() != StatusCode::OK => match response.status().as_u16() {
            429 | 502 | 503 | 504 => Outcome::Retryable(Ok(response)),
            _ => Outcome::Committed(response, false),
        },
        None => Outcome::Committed(response, true),
    }
}

/// `remaining` as a `grpc-timeout` value: microseconds while they fit the header's eight
/// digits, else milliseconds.
pub(crate) fn grpc_timeout_value(remaining: Duration) -> HeaderValue {
    let micros = remaining.as_micros().max(1);
    let text = if micros < 100_000_000 {
        format!("{micros}u")
    } else {
        format!("{}m", remaining.as_millis().min(99_999_999))
    };
    HeaderValue::from_str(&text).expect("digits and a unit make a header value")
}

#[cfg(test)]
mod tests {
    use bookstore_layers::grpc_timeout;
    use tonic::Status;

    use super::*;

    #[test]
    fn later_attempts_carry_what_is_left_of_the_deadline() {
        assert_eq!(grpc_timeout_value(Duration::from_millis(250)), "250000u");
        assert_eq!(grpc_timeout_value(Duration::ZERO), "1u");
        assert_eq!(grpc_timeout_value(Duration::from_secs(1000)), "1000000m");
        let parsed = {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", grpc_timeout_value(Duration::from_millis(7)));
            grpc_timeout(&headers)
        };
        assert_eq!(parsed, Some(Duration::from_millis(7)));
    }

    #[test]
    fn trailers_only_retryable_statuses_and_transport_failures_may_be_retried() {
        let retryable = |code: Code| {
            let response = Status::new(code, "x").into_http::<Body>();
            matches!(classify(Ok(response)), Outcome::Retryable(_))
        };
        assert!(retryable(Code::Unavailable));
        assert!(retryable(Code::ResourceExhausted));
        assert!(!retryable(Code::NotFound));
        assert!(!retryable(Code::Ok));
        let headers_only = Response::new(Body::empty());
        assert!(matches!(
            classify(Ok(headers_only)),
            Outcome::Committed(_, true)
        ));
        // A proxy's answer, without a gRPC status, read as gRPC reads HTTP statuses.
        let from_proxy = |status: u16| {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            classify(Ok(response))
        };
        for status in [429, 502, 503, 504] {
            assert!(
                matches!(from_proxy(status), Outcome::Retryable(_)),
                "{status}"
            );
        }
        for status in [400, 404, 500] {
            assert!(
                matches!(from_proxy(status), Outcome::Committed(_, false)),
                "{status}"
            );
        }
    }
}
