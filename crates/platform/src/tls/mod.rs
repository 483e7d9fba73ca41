//! TLS and mutual TLS with rustls, done the way the tutorial says is hard to do by hand:
//!
//! - [`ServerTls`]: a server's certificate, key and (for mutual TLS) the CA its clients'
//!   certificates must chain to, **reloaded without a restart** when the files change (checked
//!   every `--tls-reload-interval` and on SIGHUP). A bad replacement is refused with a logged
//!   error and the current certificate stays in use; connections already open are untouched.
//! - [`incoming`]: the accept loop that performs handshakes off the accept path (a slow or
//!   hostile client cannot stall others) and tags each connection with the client's identity
//!   ([`PeerIdentity`]: the DNS names and common name of its certificate), which the
//!   authorization layer reads.
//! - [`ClientTls`]: what a client presents and trusts.
//! - `dev_certs` (feature `dev-certs`): a development CA and per-service certificates, for
//!   `bookstore certs` and for tests, which generate theirs at run time.

mod client;
#[cfg(feature = "dev-certs")]
pub mod dev_certs;
mod identity;
mod incoming;
mod reload;
mod server;
mod settings;

use std::path::PathBuf;

pub use client::ClientTls;
pub use identity::{PeerIdentity, certificate_names};
pub use incoming::{TlsConnection, handshakes, incoming};
pub use reload::spawn_reloader;
pub use server::{ServerTls, ServerTlsPaths};
pub use settings::{DEFAULT_RELOAD_INTERVAL, TlsSettings, UpstreamTlsSettings};

/// Why TLS material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file holds no usable PEM item of the expected kind.
    #[error("{path} does not contain a valid {what}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// A certificate, a private key, ...
        what: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the combination (e.g. the key does not match the certificate).
    #[error("the TLS configuration is invalid: {0}")]
    Config(String),
    /// Only part of a client identity was given.
    #[error("a client certificate needs both --upstream-cert and --upstream-key")]
    PartialIdentity,
}

/// The rustls crypto provider the whole system uses.
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
