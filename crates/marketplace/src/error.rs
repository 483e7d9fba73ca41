//! Everything a request to the marketplace can run into, and what the visitor sees for each —
//! written once, here. (What stops the process is [`RunError`](crate::RunError).)
//!
//! A message that names a value from the query string quotes it short, with its quotes
//! escaped ([`quote_input`]); its markup is escaped where the message is written, by askama on
//! a page and by [`SafeJson`](bookstore_layers::SafeJson) in the JSON API, so no answer echoes
//! markup from a request.

use axum::http::StatusCode;
use bookstore_layers::quote_input;

/// Why a page or an API call could not be answered as asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query string names a category the marketplace does not offer.
    #[error(
        "There is no category called {}. Choose one of: {}.",
        quote_input(.slug),
        .known.join(", ")
    )]
    UnknownCategory {
        /// The slug asked for.
        slug: String,
        /// The slugs there are.
        known: Vec<&'static str>,
    },
    /// `max_results` is not a whole number in range.
    #[error("max_results must be a whole number from 1 to {max}, got {}.", quote_input(.text))]
    BadMaxResults {
        /// What was sent.
        text: String,
        /// The most allowed.
        max: i32,
    },
    /// The query string cannot be read at all.
    #[error("The query string is not understood: {0}.")]
    BadQueryString(String),
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
            Self::UnknownCategory { .. } | Self::BadMaxResults { .. } | Self::BadQueryString(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::Upstream(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message safe to show a visitor: no internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::UnknownCategory { .. } | Self::BadMaxResults { .. } | Self::BadQueryString(_) => {
                self.to_string()
            }
            Self::Upstream(_) => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Render(_) => "Something went wrong on our side.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_quoted_short() {
        let error = Error::UnknownCategory {
            slug: "poetry".into(),
            known: vec!["mystery", "fantasy"],
        };
        assert_eq!(
            error.public_message(),
            r#"There is no category called "poetry". Choose one of: mystery, fantasy."#
        );
        let error = Error::BadMaxResults {
            text: format!("\"{}", "9".repeat(100)),
            max: 50,
        };
        assert_eq!(
            error.public_message(),
            format!(
                r#"max_results must be a whole number from 1 to 50, got "\"{}…"."#,
                "9".repeat(39)
            )
        );
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    }
}
