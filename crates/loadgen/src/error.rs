//! Everything that stops a load test before it can report (failed requests during a test are
//! not errors here: they are counted by status in the report).

use std::path::PathBuf;
use std::time::Duration;

/// Why loadgen could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag, or a combination of flags, makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// An `https://` address: TLS to gRPC targets is asked for with `--ca`; HTTP targets (the
    /// web apps) serve plain HTTP.
    #[error(
        "https:// addresses are not used: pass --ca (and --cert/--key for mutual TLS) to call a gRPC target over TLS; HTTP targets are plain HTTP"
    )]
    TlsUnsupported,
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] bookstore_platform::tls::TlsError),
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
