//! Who is on the other end of a connection: its address and, under mutual TLS, the names in its
//! client certificate. The server puts it into every request's extensions (read once, at the
//! handshake, never per request); [`AuthorizeLayer`](crate::AuthorizeLayer) reads it.

use std::net::SocketAddr;
use std::sync::Arc;

/// The identity of a connection's peer, attached to every request on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// The DNS names and common name of the client certificate (empty without one).
    pub names: Arc<[String]>,
}

impl PeerIdentity {
    /// Whether the peer presented a certificate carrying any of `allowed`.
    pub fn is_any_of(&self, allowed: &[String]) -> bool {
        self.names.iter().any(|name| allowed.contains(name))
    }
}
