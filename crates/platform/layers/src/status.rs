//! How a service's typed errors become gRPC statuses — written once, here.
//!
//! Each service crate has one `thiserror` enum that implements [`GrpcError`] (which code each
//! variant is) and converts to `tonic::Status` through [`into_status`]. Client mistakes carry
//! their message to the client; server faults are logged here with their detail and reach the
//! client only as a generic message, so no internal detail leaks.

use tonic::{Code, Status};

/// An error that knows which gRPC status code it is: the counterpart of grpc-interceptor's
/// `NotFound`, `InvalidArgument`, ... exception classes.
pub trait GrpcError: std::error::Error + Send + Sync + 'static {
    /// The status code the client should receive.
    fn code(&self) -> Code;
}

/// The message clients see for a server fault.
pub(crate) const INTERNAL_MESSAGE: &str = "internal error";

/// Maps a typed error to the status the client receives.
pub fn into_status<E: GrpcError>(error: E) -> Status {
    let code = error.code();
    match code {
        Code::Internal | Code::Unknown | Code::DataLoss => {
            tracing::error!(error = %error, ?code, "server fault (detail hidden from the client)");
            Status::new(code, INTERNAL_MESSAGE)
        }
        _ => Status::new(code, error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Example {
        #[error("book 7 not found")]
        Missing,
        #[error("database password rejected for user admin")]
        Secret,
    }

    impl GrpcError for Example {
        fn code(&self) -> Code {
            match self {
                Self::Missing => Code::NotFound,
                Self::Secret => Code::Internal,
            }
        }
    }

    #[test]
    fn client_errors_keep_their_message_and_faults_hide_theirs() {
        let status = into_status(Example::Missing);
        assert_eq!(
            (status.code(), status.message()),
            (Code::NotFound, "book 7 not found")
        );
        let status = into_status(Example::Secret);
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, INTERNAL_MESSAGE)
        );
    }
}
