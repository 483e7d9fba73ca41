//! Why a client could not be configured: failures at start-up, never of a call (a call's
//! failure is the `tonic::Status` it returns).

/// Why an upstream's channel cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The TLS files for the upstream could not be used.
    #[error("TLS to {upstream}: {source}")]
    Tls {
        /// The upstream's name, as its settings call it.
        upstream: String,
        /// The cause.
        #[source]
        source: bookstore_tls::TlsError,
    },
    /// The upstream's address does not make a valid URI.
    #[error("invalid address {uri}: {source}")]
    Address {
        /// The URI it makes.
        uri: String,
        /// The cause.
        #[source]
        source: tonic::transport::Error,
    },
}
