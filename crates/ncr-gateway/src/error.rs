//! Everything a request to the nCr gateway can run into, and which HTTP status each failure
//! is. The mapping is written once, here:
//!
//! | failure | status |
//! |---|---|
//! | bad input (not a whole number, r > n, n above the limit), or the Factorial service rejecting it | 400 |
//! | the Factorial service down, unreachable, too slow, or this gateway shutting down | 503 |
//! | the Factorial service failing or answering nonsense | 502 |
//! | a page failing to render (a bug: templates are checked at compile time) | 500 |
//!
//! 4xx messages tell the client what to fix. 5xx messages say what happened in general terms;
//! the detail (addresses, upstream messages) goes to the log only. A message quotes what the
//! client sent short, its quotes escaped ([`quote_input`], [`shorten_input`]); its markup is
//! escaped where it is written, by [`SafeJson`](bookstore_layers::SafeJson).

use std::time::Duration;

use axum::http::StatusCode;
use bookstore_layers::{quote_input, shorten_input};
use tonic::Code;

/// Why the gateway could not answer a request: bad input, or an upstream failure. (What stops
/// the process is [`RunError`](crate::RunError).)
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `n` or `r` is not a whole number (negative, fractional, or not a number at all).
    #[error("{name} must be a whole number (0, 1, 2, ...), got {}", quote_input(.value))]
    NotAWholeNumber {
        /// `n` or `r`.
        name: &'static str,
        /// The path segment sent.
        value: String,
    },
    /// `n` is above the limit.
    #[error("n must be at most {max_n}, got {}", shorten_input(.value))]
    AboveLimit {
        /// The n sent (digits only).
        value: String,
        /// The limit.
        max_n: u64,
    },
    /// `r` is larger than `n`.
    #[error("r must not be larger than n, got n = {n} and r = {}", shorten_input(.r))]
    ROverN {
        /// The n sent.
        n: u64,
        /// The r sent (digits only).
        r: String,
    },
    /// The Factorial service rejected an argument (its limit may be lower than this gateway's).
    #[error("the factorial service rejected the input: {message}")]
    UpstreamRejected {
        /// What the Factorial service said.
        message: String,
    },
    /// The Factorial service cannot be reached (down, refusing connections, connect timeout).
    #[error("the factorial service is unavailable: {detail}")]
    UpstreamUnavailable {
        /// What the transport said.
        detail: String,
    },
    /// The Factorial service did not answer within the deadline.
    #[error("the factorial service did not answer within {timeout:?}")]
    UpstreamTimeout {
        /// The deadline.
        timeout: Duration,
    },
    /// The Factorial service failed with a status this gateway cannot help with.
    #[error("the factorial service failed with {code:?}: {message}")]
    UpstreamFault {
        /// The status code.
        code: Code,
        /// Its message.
        message: String,
    },
    /// The Factorial service's answer is inconsistent (wrong n, or factorials that do not divide).
    #[error("the factorial service answered inconsistently: {0}")]
    BadUpstreamAnswer(String),
    /// The computation was abandoned because the process is shutting down.
    #[error("the gateway is shutting down")]
    ShuttingDown,
    /// A page failed to render.
    #[error("rendering a page failed: {0}")]
    Render(#[from] askama::Error),
}

/// The message clients see for a failure on our side or the upstream's.
const UPSTREAM_FAULT_MESSAGE: &str =
    "the factorial service failed; this is not a problem with your input";

impl Error {
    /// Maps a status from the Factorial service. `timeout` is the deadline the call had.
    pub fn from_upstream(status: &tonic::Status, timeout: Duration) -> Self {
        match status.code() {
            Code::InvalidArgument | Code::OutOfRange => Self::UpstreamRejected {
                message: status.message().to_owned(),
            },
            Code::Unavailable => Self::UpstreamUnavailable {
                detail: status.message().to_owned(),
            },
            // tonic reports its local deadline as CANCELLED ("Timeout expired").
            Code::DeadlineExceeded | Code::Cancelled => Self::UpstreamTimeout { timeout },
            code => Self::UpstreamFault {
                code,
                message: status.message().to_owned(),
            },
        }
    }

    /// The HTTP status the client receives.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotAWholeNumber { .. }
            | Self::AboveLimit { .. }
            | Self::ROverN { .. }
            | Self::UpstreamRejected { .. } => StatusCode::BAD_REQUEST,
            Self::UpstreamUnavailable { .. }
            | Self::UpstreamTimeout { .. }
            | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamFault { .. } | Self::BadUpstreamAnswer(_) => StatusCode::BAD_GATEWAY,
            Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the client should change its request (a 400).
    pub fn is_bad_input(&self) -> bool {
        self.status() == StatusCode::BAD_REQUEST
    }

    /// The message the client receives: what to fix for a 400; for the rest, what happened in
    /// general terms (the caller logs the detail, which may name hosts and upstream messages).
    pub fn client_message(&self) -> String {
        match self {
            _ if self.is_bad_input() => self.to_string(),
            Self::UpstreamUnavailable { .. } => {
                "the factorial service is unavailable; try again later".to_owned()
            }
            Self::UpstreamTimeout { timeout } => format!(
                "the factorial service did not answer within {}; try again later",
                humanize(*timeout)
            ),
            Self::ShuttingDown => self.to_string(),
            Self::Render(_) => "something went wrong in the gateway".to_owned(),
            _ => UPSTREAM_FAULT_MESSAGE.to_owned(),
        }
    }
}

/// `1s`, `250ms`: how durations are written in flags.
fn humanize(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use tonic::Status;

    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(1500);

    #[test]
    fn upstream_statuses_map_to_gateway_statuses() {
        let cases = [
            (
                Status::out_of_range("n must be at most 5, got 7"),
                StatusCode::BAD_REQUEST,
            ),
            (Status::invalid_argument("bad"), StatusCode::BAD_REQUEST),
            (
                Status::unavailable("tcp connect error"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Status::deadline_exceeded("late"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Status::cancelled("Timeout expired"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (Status::internal("boom"), StatusCode::BAD_GATEWAY),
            (
                Status::unknown("h2 protocol error"),
                StatusCode::BAD_GATEWAY,
            ),
        ];
        for (status, expected) in cases {
            assert_eq!(
                Error::from_upstream(&status, TIMEOUT).status(),
                expected,
                "{status:?}"
            );
        }
    }

    #[test]
    fn client_messages_say_what_to_fix_or_hide_the_detail() {
        let rejected =
            Error::from_upstream(&Status::out_of_range("n must be at most 5, got 7"), TIMEOUT);
        assert_eq!(
            rejected.client_message(),
            "the factorial service rejected the input: n must be at most 5, got 7"
        );
        let down = Error::UpstreamUnavailable {
            detail: "tcp connect error: 10.0.0.7:50052".into(),
        };
        assert!(!down.client_message().contains("10.0.0.7"));
        let slow = Error::UpstreamTimeout { timeout: TIMEOUT };
        assert_eq!(
            slow.client_message(),
            "the factorial service did not answer within 1500ms; try again later"
        );
        let fault = Error::UpstreamFault {
            code: Code::Internal,
            message: "disk on fire".into(),
        };
        assert!(!fault.client_message().contains("disk"));
    }

    #[test]
    fn input_is_quoted_short() {
        let error = Error::NotAWholeNumber {
            name: "n",
            value: format!("\"{}", "x".repeat(100)),
        };
        assert_eq!(
            error.client_message(),
            format!(
                r#"n must be a whole number (0, 1, 2, ...), got "\"{}…""#,
                "x".repeat(39)
            )
        );
        let error = Error::AboveLimit {
            value: "9".repeat(100),
            max_n: 5,
        };
        assert_eq!(
            error.client_message(),
            format!("n must be at most 5, got {}…", "9".repeat(40))
        );
    }
}
