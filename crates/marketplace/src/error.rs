//! Everything that can go wrong in the marketplace, and what the visitor sees for each —
//! written once, here.

use axum::http::StatusCode;

/// A marketplace error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query string asks for something the marketplace does not offer.
    #[error("{0}")]
    BadQuery(String),
    /// The Recommendations service failed or did not answer in time.
    #[error("recommendations are unavailable right now ({})", .0.code())]
    Upstream(tonic::Status),
    /// A page failed to render (a bug: templates are checked at compile time).
    #[error("rendering the page failed: {0}")]
    Render(#[from] askama::Error),
    /// The upstream address is malformed.
    #[error("invalid Recommendations address: {0}")]
    UpstreamAddress(#[from] tonic::transport::Error),
    /// The TLS files for Recommendations could not be used.
    #[error("TLS to Recommendations: {0}")]
    Tls(#[from] bookstore_platform::tls::TlsError),
    /// The listener could not be bound.
    #[error(transparent)]
    Bind(#[from] bookstore_platform::ServeError),
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// What visitors read when recommendations cannot be fetched.
pub const UNAVAILABLE_MESSAGE: &str =
    "Recommendations are unavailable right now. Please try again in a moment.";

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::Upstream(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Render(_)
            | Self::UpstreamAddress(_)
            | Self::Bind(_)
            | Self::Serve(_)
            | Self::Tls(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message safe to show a visitor: no internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::BadQuery(message) => message.clone(),
            Self::Upstream(_) => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Render(_)
            | Self::UpstreamAddress(_)
            | Self::Bind(_)
            | Self::Serve(_)
            | Self::Tls(_) => "Something went wrong on our side.".to_owned(),
        }
    }
}
