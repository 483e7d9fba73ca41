//! The usual alternative to our hand-off server threads, for measuring one against the other:
//! N threads, each with its own single-threaded runtime *and its own listening socket* on the
//! same port (`SO_REUSEPORT`), so the kernel spreads new connections over them by a hash of
//! their addresses and nothing is handed from thread to thread.
//!
//! BENCHMARKS.md ("Server threads: hand-off or SO_REUSEPORT") compares it with
//! [`crate::serve_on_threads`], which accepts on one socket and deals connections round-robin.

use std::net::SocketAddr;

use bookstore_proto::legacy::recommendations_server::RecommendationsServer;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

use crate::{ConstantRecommendations, Error};

/// The backlog of each listening socket (the kernel caps it at `somaxconn`).
const BACKLOG: u32 = 1024;

/// Serves [`ConstantRecommendations`] on `threads` threads, each accepting on its own socket
/// bound to `addr` with `SO_REUSEPORT`, until `shutdown` completes.
pub async fn serve_with_reuseport(
    addr: SocketAddr,
    threads: usize,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let bind = |addr: SocketAddr| -> std::io::Result<std::net::TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        socket.listen(BACKLOG)?.into_std()
    };
    let first = bind(addr).map_err(|source| Error::Bind { addr, source })?;
    // Port 0 picks a port for the first socket; the others join it there.
    let addr = first.local_addr().map_err(Error::Thread)?;
    let mut listeners = vec![first];
    for _ in 1..threads.max(1) {
        listeners.push(bind(addr).map_err(|source| Error::Bind { addr, source })?);
    }
    let stop = CancellationToken::new();
    let handles = listeners
        .into_iter()
        .enumerate()
        .map(|(index, listener)| {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("reuseport-{index}"))
                .spawn(move || serve_one(listener, stop))
                .map_err(Error::Thread)
        })
        .collect::<Result<Vec<_>, _>>()?;
    shutdown.await;
    stop.cancel();
    // Joined off the runtime: blocking it would stall whatever else it runs (in a test, the
    // clients whose connections the threads wait for).
    let joined = tokio::task::spawn_blocking(move || {
        handles
            .into_iter()
            .map(|handle| handle.join())
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|error| Error::Thread(std::io::Error::other(error)))?;
    for result in joined {
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    }
    Ok(())
}

/// One thread: its own runtime, its own socket, its connections, until `stop`.
fn serve_one(listener: std::net::TcpListener, stop: CancellationToken) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Thread)?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).map_err(Error::Thread)?;
        tonic::transport::Server::builder()
            .add_service(RecommendationsServer::new(
                ConstantRecommendations::default(),
            ))
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop.cancelled_owned(),
            )
            .await
            .map_err(Error::from)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bookstore_proto::legacy::RecommendationRequest;
    use bookstore_proto::legacy::recommendations_client::RecommendationsClient;

    use super::*;

    #[tokio::test]
    async fn the_group_serves_every_connection_until_shut_down() {
        // A free port, released: the group binds it again.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve_with_reuseport(
            addr,
            2,
            stop.clone().cancelled_owned(),
        ));
        // The sockets are bound on the server's task: wait for the first answer.
        let url = format!("http://{addr}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while RecommendationsClient::connect(url.clone()).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "never listening");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for _ in 0..20 {
            // New connections, spread by the kernel over the group's sockets: every one of
            // them is answered, whichever socket it reaches.
            let mut client = RecommendationsClient::connect(url.clone()).await.unwrap();
            let response = client
                .recommend(RecommendationRequest::default())
                .await
                .unwrap()
                .into_inner();
            assert_eq!(response.recommendations.len(), 3);
        }
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
    }
}
