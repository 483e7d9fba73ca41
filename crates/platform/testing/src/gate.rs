//! A TCP proxy a test can close and open again, as a database or server that goes away and
//! comes back: closing cuts every connection through it at once (no goodbye, as a crash or a
//! network loss) and refuses new ones until it is opened.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A proxy to one upstream for any number of connections (see the module docs).
#[derive(Debug)]
pub struct Gate {
    /// Where clients connect.
    pub addr: SocketAddr,
    open: Arc<watch::Sender<bool>>,
    task: JoinHandle<()>,
}

impl Gate {
    /// An open gate to `upstream` on `127.0.0.1:0`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let open = Arc::new(watch::channel(true).0);
        let task = tokio::spawn(accept(listener, upstream, open.clone()));
        Self { addr, open, task }
    }

    /// Cuts every connection and refuses new ones.
    pub fn close(&self) {
        self.open.send_replace(false);
    }

    /// Lets connections through again.
    pub fn open(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.close();
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, open: Arc<watch::Sender<bool>>) {
    while let Ok((client, _)) = listener.accept().await {
        if !*open.borrow() {
            // Dropped at once: the client sees the connection reset or closed.
            continue;
        }
        tokio::spawn(relay(client, upstream, open.subscribe()));
    }
}

/// Copies both ways between `client` and `upstream` until either ends or the gate closes.
async fn relay(mut client: TcpStream, upstream: SocketAddr, mut open: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = open.wait_for(|open| !*open) => {}
    }
}
