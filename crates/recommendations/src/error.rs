//! Everything that can go wrong in the Recommendations service, and which gRPC status each
//! failure is. The mapping to `tonic::Status` is written once, here.

use std::path::PathBuf;

use bookstore_platform::GrpcError;
use bookstore_platform::server::ServeError;
use tonic::{Code, Status};

/// A Recommendations error: a bad request, a bad catalog, or a server that could not run.
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
    /// The catalog file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    CatalogRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The catalog is not valid TOML of the expected shape.
    #[error("catalog {origin} is malformed: {message}")]
    CatalogParse {
        /// The file, or "built-in".
        origin: String,
        /// What the parser said, with the line.
        message: String,
    },
    /// The catalog breaks a rule (duplicate id, empty title, unknown category, ...).
    #[error("catalog {origin} is invalid: {problem}")]
    CatalogInvalid {
        /// The file, or "built-in".
        origin: String,
        /// Which book and which rule.
        problem: String,
    },
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
            Self::CategoryNotFound => Code::NotFound,
            Self::CategoryRequired | Self::Negative { .. } => Code::InvalidArgument,
            Self::CatalogRead { .. }
            | Self::CatalogParse { .. }
            | Self::CatalogInvalid { .. }
            | Self::Serve(_)
            | Self::Tls(_) => Code::Internal,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        bookstore_platform::status::into_status(error)
    }
}
