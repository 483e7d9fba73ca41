//! A TCP proxy between a client and a server that a test can cut, as a vanishing client (a
//! crash, a network loss) would.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A TCP proxy for one connection to `upstream`; aborting it cuts the connection on both sides
/// at once, as a client that vanishes (crash, network loss) would.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on `127.0.0.1:0`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let task = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.expect("a client connects");
            let mut server = tokio::net::TcpStream::connect(upstream)
                .await
                .expect("the server is listening");
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
        Self { addr, task }
    }

    /// Closes both sockets without any HTTP/2 goodbye.
    pub fn cut(self) {
        self.task.abort();
    }
}
