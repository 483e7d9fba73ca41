//! Why a server could not start or stopped with an error: failures of the process, never of a
//! request (those are each service's own error type). Only `main` sees these.

use std::net::SocketAddr;

/// Why a server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] bookstore_tls::TlsError),
    /// The reflection service could not be built from the descriptor set.
    #[error("building the reflection service failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The gRPC transport failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The admin (metrics) endpoint failed.
    #[error("the admin endpoint failed: {0}")]
    Admin(#[source] std::io::Error),
    /// A server thread could not be started, or failed; or the HTTP server failed.
    #[error("serving failed: {0}")]
    Io(#[source] std::io::Error),
}
