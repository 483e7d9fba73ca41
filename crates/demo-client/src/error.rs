//! Why a demo call failed, each said in one line a person at a terminal can act on.

use std::time::Duration;

use bookstore_tls::TlsError;
use tonic::Status;

use crate::args::DEFAULT_SERVER;

/// Why a client call failed; each displays as one line for a person at a terminal.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server address is not a URL.
    #[error("invalid server address {server:?}: expected a URL such as {DEFAULT_SERVER}")]
    InvalidServer {
        /// The address given.
        server: String,
    },
    /// No connection to the server could be made.
    #[error(
        "cannot connect to the demo server at {server}: {}",
        root_cause(source)
    )]
    Connect {
        /// The server's URL.
        server: String,
        /// The cause.
        #[source]
        source: tonic::transport::Error,
    },
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The server ended the call with an error status.
    #[error("the server answered {:?}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    /// The call did not finish within its deadline.
    #[error("no complete answer within the deadline of {deadline:?}")]
    DeadlineExceeded {
        /// The deadline.
        deadline: Duration,
    },
    /// A bidirectional call ended without a reply to a message.
    #[error("the server closed the stream without answering {message:?}")]
    Unanswered {
        /// The message left unanswered.
        message: String,
    },
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The innermost cause of an error: for a failed connection, the part a person can act on
/// ("Connection refused") rather than the wrapper ("transport error").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Whether a status reports the call's deadline passing, whichever side noticed first: the
/// server (`DEADLINE_EXCEEDED`) or tonic's own enforcement of the deadline sent with the
/// request (which reports `CANCELLED`, caused by `TimeoutExpired`).
pub(crate) fn is_deadline(status: &Status) -> bool {
    let mut cause = std::error::Error::source(status);
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = error.source();
    }
    status.code() == tonic::Code::DeadlineExceeded
}
