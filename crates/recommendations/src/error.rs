//! Everything a request to the Recommendations service can get wrong, and which gRPC status
//! each failure is. The mapping to `tonic::Status` is written once, here. (What can stop the
//! process — a bad catalog, a port in use — is [`RunError`](crate::RunError).)

use bookstore_layers::GrpcError;
use tonic::{Code, Status};

/// A request the Recommendations service refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested category is not one the API knows. The message is the tutorial's.
    #[error("Category not found")]
    CategoryNotFound,
    /// A v1 request without a category.
    #[error("category is required")]
    CategoryRequired,
    /// A count or id below zero.
    #[error("{field} must not be negative, got {value}")]
    Negative {
        /// The request field.
        field: &'static str,
        /// The value sent.
        value: i64,
    },
}

impl GrpcError for Error {
    fn code(&self) -> Code {
        match self {
            Self::CategoryNotFound => Code::NotFound,
            Self::CategoryRequired | Self::Negative { .. } => Code::InvalidArgument,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        bookstore_layers::into_status(error)
    }
}
