//! Everything that stops a load test before it can report (failed requests during a test are
//! not errors here: they are counted by status in the report), and [`error_chain`], which puts a
//! transport error's causes into the one line an [`Error`] reports.

use std::path::PathBuf;
use std::time::Duration;

/// Why loadgen could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag, or a combination of flags, makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// An `https://` address: TLS to gRPC targets is asked for with `--upstream-ca`; HTTP
    /// targets (the web apps) serve plain HTTP.
    #[error(
        "https:// addresses are not used: pass --upstream-ca (and --upstream-cert/--upstream-key for mutual TLS) to call a gRPC target over TLS; HTTP targets are plain HTTP"
    )]
    TlsUnsupported,
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] bookstore_tls::TlsError),
    /// The target address is not a usable URI.
    #[error("invalid address {address:?}: {reason}")]
    Address {
        /// What was given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A connection could not be opened before the test started.
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// Where.
        endpoint: String,
        /// The transport's message, with its causes.
        reason: String,
    },
    /// `--wait-ready` ran out of time.
    #[error("{endpoint} did not answer successfully within {timeout:?} (last: {last})")]
    NotReady {
        /// Where.
        endpoint: String,
        /// How long we tried.
        timeout: Duration,
        /// The last failure seen.
        last: String,
    },
    /// A client thread or its runtime could not be started.
    #[error("cannot start a client thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A client thread panicked.
    #[error("a client thread panicked: {0}")]
    Panicked(String),
    /// A result or plot file could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A saved result is not loadgen JSON.
    #[error("{path} is not a loadgen result: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// An error and its causes on one line (transport errors hide the useful part in `source`).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
