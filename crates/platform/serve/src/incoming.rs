//! The connections a gRPC server serves, in one stream whatever the configuration: plaintext as
//! they are accepted, or TLS once their handshake is done; accepted and served on the caller's
//! runtime (0 server threads), or handed to the server threads (`server_threads`),
//! each of which runs its own handshakes and serves its own connections.

use std::sync::Arc;

use bookstore_tls::ServerTls;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, StreamExt as _, TryFutureExt as _};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

use crate::connection::Connection;
use crate::error::ServeError;
use crate::server_threads::{Serve, ServerThreads, ThreadConnections};
use crate::tls_accept;

/// How a server serves a stream of connections until told to stop.
pub(crate) type ServeOn = dyn Fn(
        BoxStream<'static, std::io::Result<Connection>>,
    ) -> BoxFuture<'static, Result<(), tonic::transport::Error>>
    + Send
    + Sync;

/// Serves the connections `listener` accepts with `serve_on`: on the caller's runtime with 0
/// `threads`, else on that many server threads, until `stop`.
pub(crate) fn serve_connections(
    serve_on: Arc<ServeOn>,
    listener: TcpListener,
    tls: Option<Arc<ServerTls>>,
    threads: usize,
    stop: CancellationToken,
) -> Result<BoxFuture<'static, Result<(), ServeError>>, ServeError> {
    if threads == 0 {
        let incoming: BoxStream<'static, std::io::Result<Connection>> = match tls {
            Some(tls) => tls_accept::incoming(listener, tls, stop)
                .map(|accepted| accepted.map(|tls| Connection::Tls(Box::new(tls))))
                .boxed(),
            None => TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .map(|accepted| accepted.map(Connection::Plain))
                .boxed(),
        };
        return Ok(serve_on(incoming).map_err(ServeError::from).boxed());
    }
    let thread_stop = stop.clone();
    let serve: Serve = Box::new(move |connections| {
        serve_on(thread_incoming(
            connections,
            tls.clone(),
            thread_stop.clone(),
        ))
        .map_err(std::io::Error::other)
        .boxed()
    });
    let threads =
        ServerThreads::spawn(threads, "grpc", &listener, serve).map_err(ServeError::Io)?;
    Ok(threads.run(listener, stop).map_err(ServeError::Io).boxed())
}

/// A server thread's connections as tonic takes them: plaintext as they come, TLS after a
/// handshake run on the thread's own runtime.
fn thread_incoming(
    connections: ThreadConnections,
    tls: Option<Arc<ServerTls>>,
    stop: CancellationToken,
) -> BoxStream<'static, std::io::Result<Connection>> {
    let accepted = connections.into_stream();
    match tls {
        Some(tls) => tls_accept::handshakes(accepted, tls, stop)
            .map(|established| established.map(|tls| Connection::Tls(Box::new(tls))))
            .boxed(),
        None => accepted
            .map(|(tcp, _remote)| Ok(Connection::Plain(tcp)))
            .boxed(),
    }
}
