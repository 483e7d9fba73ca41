//! Everything a request to the demo service can get wrong, and which gRPC status each failure
//! is. The mapping to `tonic::Status` is written once, here. The limits live beside the code
//! that enforces them; each error carries the limit it broke.

use std::time::Duration;

use bookstore_layers::GrpcError;
use tonic::{Code, Status};

/// A request the demo service refuses (what stops the process is a
/// `bookstore_serve::ServeError`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Unary or Bidirectional message with no text.
    #[error("message must not be empty")]
    EmptyMessage,
    /// A Unary or Bidirectional message above the limit.
    #[error("message is {bytes} bytes long; the limit is {limit} bytes")]
    MessageTooLong {
        /// The message's length in bytes (UTF-8).
        bytes: usize,
        /// The longest message accepted, in bytes.
        limit: usize,
    },
    /// A countdown start outside `1..=max`.
    #[error("start must be between 1 and {max}, got {start}")]
    CountdownStart {
        /// The start sent.
        start: u32,
        /// The largest start accepted.
        max: u32,
    },
    /// A countdown that would run longer than the limit.
    #[error(
        "the countdown would take {duration:?} ((start - 1) x interval); the limit is {limit:?}"
    )]
    CountdownTooLong {
        /// How long it would take.
        duration: Duration,
        /// The longest countdown accepted.
        limit: Duration,
    },
    /// A Sum call streaming more values than the limit.
    #[error("at most {limit} values can be summed in one call")]
    TooManyValues {
        /// The most values one call may sum.
        limit: u32,
    },
    /// A sum outside the range of a signed 64-bit integer.
    #[error("the sum does not fit in a signed 64-bit integer")]
    SumOverflow,
}

impl GrpcError for Error {
    fn code(&self) -> Code {
        match self {
            Self::EmptyMessage
            | Self::MessageTooLong { .. }
            | Self::CountdownStart { .. }
            | Self::CountdownTooLong { .. }
            | Self::TooManyValues { .. } => Code::InvalidArgument,
            // The request is well formed; the answer is what falls outside the representable range.
            Self::SumOverflow => Code::OutOfRange,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        bookstore_layers::into_status(error)
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
            limit: Duration::from_secs(300),
        });
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "the countdown would take 400s ((start - 1) x interval); the limit is 300s"
        );
    }
}
