//! Everything a request to the marketplace can run into, and what the visitor sees for each —
//! written once, here. (What stops the process is [`RunError`](crate::RunError).)

use axum::http::StatusCode;

/// Why a page or an API call could not be answered as asked.
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
            Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message safe to show a visitor: no internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::BadQuery(message) => message.clone(),
            Self::Upstream(_) => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Render(_) => "Something went wrong on our side.".to_owned(),
        }
    }
}
