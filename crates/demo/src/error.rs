//! Everything that can go wrong in the demo service, and which gRPC status each failure is. The
//! mapping to `tonic::Status` is written once, here.

use std::time::Duration;

use bookstore_platform::GrpcError;
use bookstore_platform::server::ServeError;
use tonic::{Code, Status};

use crate::countdown::{MAX_COUNTDOWN_DURATION, MAX_COUNTDOWN_START};
use crate::replies::MAX_MESSAGE_BYTES;
use crate::sum::MAX_SUM_VALUES;

/// A demo error: a request the service refuses, or a server that could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Unary or Bidirectional message with no text.
    #[error("message must not be empty")]
    EmptyMessage,
    /// A Unary or Bidirectional message above [`MAX_MESSAGE_BYTES`].
    #[error("message is {bytes} bytes long; the limit is {MAX_MESSAGE_BYTES} bytes")]
    MessageTooLong {
        /// The message's length in bytes (UTF-8).
        bytes: usize,
    },
    /// A countdown start outside `1..=MAX_COUNTDOWN_START`.
    #[error("start must be between 1 and {MAX_COUNTDOWN_START}, got {start}")]
    CountdownStart {
        /// The start sent.
        start: u32,
    },
    /// A countdown that would run longer than [`MAX_COUNTDOWN_DURATION`].
    #[error(
        "the countdown would take {:?} ((start - 1) x interval); the limit is {:?}",
        duration,
        MAX_COUNTDOWN_DURATION
    )]
    CountdownTooLong {
        /// How long it would take.
        duration: Duration,
    },
    /// A Sum call streaming more than [`MAX_SUM_VALUES`] values.
    #[error("at most {MAX_SUM_VALUES} values can be summed in one call")]
    TooManyValues,
    /// A sum outside the range of a signed 64-bit integer.
    #[error("the sum does not fit in a signed 64-bit integer")]
    SumOverflow,
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] bookstore_platform::tls::TlsError),
}

impl GrpcError for Error {
    fn code(&self) -> Code {
        match self {
            Self::EmptyMessage
            | Self::MessageTooLong { .. }
            | Self::CountdownStart { .. }
            | Self::CountdownTooLong { .. }
            | Self::TooManyValues => Code::InvalidArgument,
            // The request is well formed; the answer is what falls outside the representable range.
            Self::SumOverflow => Code::OutOfRange,
            Self::Serve(_) | Self::Tls(_) => Code::Internal,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        bookstore_platform::status::into_status(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_keep_their_message_and_code() {
        let status = Status::from(Error::EmptyMessage);
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "message must not be empty")
        );
        let status = Status::from(Error::SumOverflow);
        assert_eq!(status.code(), Code::OutOfRange);
        let status = Status::from(Error::CountdownTooLong {
            duration: Duration::from_secs(400),
        });
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "the countdown would take 400s ((start - 1) x interval); the limit is 300s"
        );
    }
}
