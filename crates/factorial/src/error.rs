//! Everything a request to the Factorial service can get wrong, and which gRPC status each
//! failure is. The mapping to `tonic::Status` is written once, here.
//!
//! Input the API can never accept (negative, fractional, not a number, an unknown enum value) is
//! `INVALID_ARGUMENT`. A well-formed n whose answer is beyond what the server gives — past the
//! float range on the legacy API, past the configured limit on v1 — is `OUT_OF_RANGE`, the code
//! gRPC reserves for "past the valid range", so a client can tell "fix your input" from "this
//! server will not go that far".

use bookstore_layers::GrpcError;
use tonic::{Code, Status};

/// A request the Factorial service refuses (what stops the process is a
/// `bookstore_serve::ServeError`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The legacy API got NaN or an infinity.
    #[error("n must be a finite number, got {value}")]
    NotFinite {
        /// The value sent.
        value: f32,
    },
    /// The legacy API got a negative number.
    #[error("n must not be negative, got {value}")]
    Negative {
        /// The value sent.
        value: f32,
    },
    /// The legacy API got a number with a fractional part.
    #[error("n must be a whole number, got {value}")]
    NotWhole {
        /// The value sent.
        value: f32,
    },
    /// The legacy API's answer would not fit its 32-bit float.
    #[error(
        "{value}! does not fit a 32-bit float (the legacy Factorial API goes up to {max_n}!); \
         use bookstore.factorial.v1.FactorialService for exact results"
    )]
    FloatOverflow {
        /// The value sent.
        value: f32,
        /// The largest n whose factorial fits.
        max_n: u32,
    },
    /// A v1 request above the server's limit.
    #[error("n must be at most {max_n}, got {n}")]
    AboveLimit {
        /// The n sent.
        n: u64,
        /// The server's limit.
        max_n: u64,
    },
    /// A v1 request with a `view` this server does not know.
    #[error("unknown view {0}")]
    UnknownView(i32),
    /// The computation was abandoned because the process is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl GrpcError for Error {
    fn code(&self) -> Code {
        match self {
            Self::NotFinite { .. }
            | Self::Negative { .. }
            | Self::NotWhole { .. }
            | Self::UnknownView(_) => Code::InvalidArgument,
            Self::FloatOverflow { .. } | Self::AboveLimit { .. } => Code::OutOfRange,
            Self::ShuttingDown => Code::Unavailable,
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
    fn client_mistakes_reach_the_client_with_their_message() {
        let status = Status::from(Error::NotWhole { value: 2.5 });
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "n must be a whole number, got 2.5");

        let status = Status::from(Error::AboveLimit { n: 7, max_n: 5 });
        assert_eq!(status.code(), Code::OutOfRange);
        assert_eq!(status.message(), "n must be at most 5, got 7");

        let status = Status::from(Error::FloatOverflow {
            value: 35.0,
            max_n: 34,
        });
        assert_eq!(status.code(), Code::OutOfRange);
        assert!(
            status
                .message()
                .starts_with("35! does not fit a 32-bit float")
        );
    }
}
