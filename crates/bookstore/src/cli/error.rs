//! Why a command-line call failed, each said in one line a person at a terminal can act on:
//! the service is not running, did not answer in time, or refused the request (in the
//! server's own words).

use std::time::Duration;

use bookstore_client::UpstreamError;

/// Why a command failed; `main` prints it as one line and exits with status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Nothing listens at the service's address.
    #[error("cannot reach {service} at {address} — is `bookstore up` running?")]
    NotRunning {
        /// The service.
        service: &'static str,
        /// `host:port`.
        address: String,
    },
    /// The service's address could not be reached for another reason (a name that does not
    /// resolve, a network that does not route, a TLS handshake that fails).
    #[error("cannot reach {service} at {address}: {reason}")]
    Unreachable {
        /// The service.
        service: &'static str,
        /// `host:port`.
        address: String,
        /// The innermost cause.
        reason: String,
    },
    /// No answer within the deadline.
    #[error("{service} at {address} did not answer within {timeout:?}")]
    Timeout {
        /// The service.
        service: &'static str,
        /// `host:port`.
        address: String,
        /// The deadline.
        timeout: Duration,
    },
    /// The service answered with an error: a gRPC status or an HTTP status, and its message.
    #[error("{service} answered {status}: {message}")]
    Refused {
        /// The service.
        service: &'static str,
        /// `INVALID_ARGUMENT`, `400 Bad Request`, ...
        status: String,
        /// What the service said.
        message: String,
    },
    /// The service answered something this client cannot read.
    #[error("{service} sent an answer this client cannot read: {reason}")]
    BadAnswer {
        /// The service.
        service: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A service cannot be called as configured (unreadable TLS files, say).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// `bookstore health` found services that are not serving.
    #[error("{} of {total} services not serving: {}", .services.len(), .services.join(", "))]
    NotServing {
        /// The services that are not.
        services: Vec<&'static str>,
        /// How many were checked.
        total: usize,
    },
    /// Writing the answer failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The innermost cause of an error: what a person can act on ("Connection refused") rather
/// than its wrappers ("transport error").
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Whether anything in `error`'s chain is a refused connection: nothing listens there.
pub(crate) fn is_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The error for a connection to `address` that failed with `error`.
pub(crate) fn unreachable(
    service: &'static str,
    address: String,
    error: &(dyn std::error::Error + 'static),
) -> CliError {
    if is_refused(error) {
        CliError::NotRunning { service, address }
    } else {
        CliError::Unreachable {
            service,
            address,
            reason: root_cause(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_asks_whether_the_system_runs() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = unreachable("recommendations", "localhost:50051".into(), &refused);
        assert_eq!(
            error.to_string(),
            "cannot reach recommendations at localhost:50051 — is `bookstore up` running?"
        );
        let other = std::io::Error::other("no route to host");
        let error = unreachable("factorial", "10.0.0.9:50052".into(), &other);
        assert_eq!(
            error.to_string(),
            "cannot reach factorial at 10.0.0.9:50052: no route to host"
        );
        let down = CliError::NotServing {
            services: vec!["factorial", "demo"],
            total: 5,
        };
        assert_eq!(
            down.to_string(),
            "2 of 5 services not serving: factorial, demo"
        );
    }
}
