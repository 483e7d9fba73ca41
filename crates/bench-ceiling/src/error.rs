//! Why the ceiling server could not run.

/// A failure to bind or serve.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC transport failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A server thread could not be started, or failed.
    #[error("a server thread failed: {0}")]
    Thread(#[source] std::io::Error),
}
