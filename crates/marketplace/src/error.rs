//! Everything a request to the marketplace can run into, and what the visitor sees for each —
//! written once, here: its HTTP status, the heading of its page and its message. (What stops
//! the process is [`RunError`](crate::RunError); how an error becomes a page or a JSON answer
//! is `respond`.)
//!
//! A message that names a value from the request quotes it short, with its quotes escaped
//! ([`quote_input`]); its markup is escaped where the message is written, by askama on a page
//! and by [`SafeJson`](bookstore_layers::SafeJson) in the JSON API, so no answer echoes markup
//! from a request. Limits are carried in the variants' fields (they live beside the code that
//! enforces them), so this module imports nothing back from the rest of the crate.

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
    /// A search longer than the catalog accepts.
    #[error("A search can be at most {max} characters long.")]
    QueryTooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// A `page_token` the catalog does not accept: cut, edited, or from another search.
    #[error(
        "This page of results cannot be found: its link is incomplete or belongs to another \
         search. Please start the search again."
    )]
    BadPageToken,
    /// The catalog refused a search (a first page, so not for its page token).
    #[error("This search cannot be run. Please try fewer or shorter words.")]
    SearchRejected,
    /// No route answers this path.
    #[error("There is no page at this address.")]
    NoSuchPage,
    /// The path names a book the catalog does not hold (or no book id at all).
    #[error("There is no book with the id {}.", quote_input(.id))]
    NoSuchBook {
        /// The id as it was given.
        id: String,
    },
    /// The path names a category the marketplace does not offer.
    #[error("There is no category called {}.", quote_input(.slug))]
    NoSuchCategory {
        /// The slug as it was given.
        slug: String,
    },
    /// The path exists, but not for this method.
    #[error("This address does not accept {method} requests.")]
    MethodNotAllowed {
        /// The method used.
        method: String,
    },
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

/// What visitors read when something failed on the marketplace's side.
pub const INTERNAL_MESSAGE: &str = "Something went wrong on our side.";

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownCategory { .. }
            | Self::BadMaxResults { .. }
            | Self::BadQueryString(_)
            | Self::QueryTooLong { .. }
            | Self::BadPageToken
            | Self::SearchRejected => StatusCode::BAD_REQUEST,
            Self::NoSuchPage | Self::NoSuchBook { .. } | Self::NoSuchCategory { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Upstream(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading of the page that explains this error.
    pub fn heading(&self) -> &'static str {
        match self {
            Self::NoSuchBook { .. } => "Book not found",
            Self::NoSuchCategory { .. } => "Category not found",
            Self::NoSuchPage => "Page not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Upstream(_) => "Temporarily unavailable",
            Self::Render(_) => "Something went wrong",
            Self::UnknownCategory { .. }
            | Self::BadMaxResults { .. }
            | Self::BadQueryString(_)
            | Self::QueryTooLong { .. }
            | Self::BadPageToken
            | Self::SearchRejected => "That request is not understood",
        }
    }

    /// The message safe to show a visitor: no internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::Upstream(_) => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Render(_) => INTERNAL_MESSAGE.to_owned(),
            _ => self.to_string(),
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
        let error = Error::NoSuchBook {
            id: "x".repeat(100),
        };
        assert_eq!(
            error.public_message(),
            format!(r#"There is no book with the id "{}…"."#, "x".repeat(40))
        );
    }

    #[test]
    fn each_error_has_its_status_and_no_internal_detail_leaks() {
        let cases = [
            (Error::NoSuchPage, 404),
            (Error::NoSuchBook { id: "0".into() }, 404),
            (Error::NoSuchCategory { slug: "x".into() }, 404),
            (Error::QueryTooLong { max: 200 }, 400),
            (Error::BadPageToken, 400),
            (Error::SearchRejected, 400),
            (
                Error::MethodNotAllowed {
                    method: "POST".into(),
                },
                405,
            ),
            (
                Error::Upstream(tonic::Status::unavailable("10.0.0.7 refused")),
                503,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert!(!error.heading().is_empty());
            assert!(!error.public_message().contains("10.0.0.7"), "{error:?}");
        }
        assert_eq!(
            Error::QueryTooLong { max: 200 }.public_message(),
            "A search can be at most 200 characters long."
        );
    }
}
