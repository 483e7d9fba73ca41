//! TLS and mutual TLS material, with rustls, done the way the tutorial says is hard to do by
//! hand. What a server or client *does* with it (accepting handshakes, reloading on change,
//! dialling) lives with the server (`bookstore-serve`) and the client (`bookstore-client`).
//!
//! - `settings`: [`TlsSettings`] (a server: plaintext, TLS, or mutual TLS with an allow-list)
//!   and [`UpstreamTlsSettings`] (a client), as clap arguments.
//! - `server`: [`ServerTls`], a server's certificate, key and (for mutual TLS) the CA its
//!   clients' certificates must chain to, rebuilt from the files when they change; a bad
//!   replacement is refused and the current configuration stays.
//! - `client`: [`ClientTls`], what a client presents and trusts.
//! - `names`: [`certificate_names`], who a certificate says its holder is.
//! - `dev_certs` (feature `dev-certs`): a development CA and per-service certificates, for
//!   `bookstore certs` and for tests, which generate theirs at run time.

mod client;
#[cfg(feature = "dev-certs")]
pub mod dev_certs;
mod names;
mod server;
mod settings;

use std::path::PathBuf;

pub use client::ClientTls;
pub use names::certificate_names;
pub use server::{ServerTls, ServerTlsPaths};
pub use settings::{TlsSettings, UpstreamTlsSettings};

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
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
