//! The sockets a service serves on, bound before it starts: so tests can bind port 0 and read
//! the port back, a launcher can bind every service's ports before running any, and a port
//! that is taken fails before anything runs.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::error::ServeError;

/// A service's listeners.
#[derive(Debug)]
pub struct Listeners {
    /// The service's own traffic: gRPC, or HTTP for a web app.
    pub main: TcpListener,
    /// The admin endpoint (`/metrics`, `/healthz`) of a gRPC service; none for web apps, which
    /// serve `/metrics` on their own port.
    pub admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds `host:port` and, if given, `host:admin_port`.
    pub async fn bind(host: &str, port: u16, admin_port: Option<u16>) -> Result<Self, ServeError> {
        let main = bind(host, port).await?;
        let admin = match admin_port {
            Some(port) => Some(bind(host, port).await?),
            None => None,
        };
        Ok(Self { main, admin })
    }

    /// Both listeners on free loopback ports, for tests.
    pub async fn ephemeral() -> Result<Self, ServeError> {
        Self::bind("127.0.0.1", 0, Some(0)).await
    }

    /// The main address.
    pub fn main_addr(&self) -> SocketAddr {
        self.main
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The admin address, if any.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }
}

/// How long accepting pauses after a failed `accept` (out of file descriptors, say), instead
/// of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The next connection `listener` accepts, with Nagle's algorithm off (gRPC's small frames
/// must not wait for the last one's acknowledgement). Failures are logged and waited out.
pub(crate) async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((socket, remote)) => {
                let _ = socket.set_nodelay(true);
                return (socket, remote);
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Binds a TCP listener, resolving `host` (a name such as `localhost`, or an address).
async fn bind(host: &str, port: u16) -> Result<TcpListener, ServeError> {
    let addr = tokio::net::lookup_host((host, port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port)));
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}
