//! How one request failed, named as the specifications name it (`grpc NOT_FOUND`, `http 503`,
//! `timeout`), or as loadgen was told to judge it (`degraded`): what the report counts errors by.

use std::fmt;

use tonic::Code;

/// How one request went, when it did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Failure {
    /// A gRPC status other than OK (tonic reports transport failures as `UNAVAILABLE`).
    Grpc(Code),
    /// An HTTP status other than 2xx.
    Http(u16),
    /// The HTTP connection failed (refused, reset, closed mid-response, bad response).
    HttpTransport,
    /// No answer within `--timeout`.
    Timeout,
    /// A health check answered, but not `SERVING`.
    NotServing,
    /// An HTTP 2xx whose body holds the `--fail-if-body-contains` text: a page served in a
    /// degraded form (the homepage's "Recommendations are unavailable right now" notice).
    Degraded,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Grpc(code) => write!(f, "grpc {}", grpc_code_name(*code)),
            Self::Http(status) => write!(f, "http {status}"),
            Self::HttpTransport => f.write_str("http transport error"),
            Self::Timeout => f.write_str("timeout"),
            Self::NotServing => f.write_str("health not SERVING"),
            Self::Degraded => f.write_str("degraded"),
        }
    }
}

/// The canonical name of a status code, as the gRPC specification writes it.
fn grpc_code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_failures_as_the_specs_do() {
        assert_eq!(Failure::Grpc(Code::NotFound).to_string(), "grpc NOT_FOUND");
        assert_eq!(Failure::Http(503).to_string(), "http 503");
        assert_eq!(Failure::Timeout.to_string(), "timeout");
        assert_eq!(Failure::Degraded.to_string(), "degraded");
    }
}
