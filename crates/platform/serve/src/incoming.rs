//! The connections a gRPC server serves, in one stream whatever the configuration: plaintext as
//! they are accepted, or TLS once their handshake is done; accepted and served on the caller's
//! runtime (0 server threads), or handed to the server threads (`server_threads`),
//! each of which runs its own handshakes and serves its own connections. Every connection is
//! admitted by the server's `guard` (its limit, its first-bytes deadline) or turned away by
//! `refusal`.

use std::sync::Arc;
use std::time::Duration;

use bookstore_tls::ServerTls;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, StreamExt as _, TryFutureExt as _};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

use crate::connection::Connection;
use crate::error::ServeError;
use crate::guard::{ConnectionGuard, Guarded};
use crate::refusal::refuse;
use crate::server_threads::{Serve, ServerThreads, ThreadConnections};
use crate::tls_accept;

/// How a server serves a stream of connections until told to stop.
pub(crate) type ServeOn = dyn Fn(
        BoxStream<'static, std::io::Result<Guarded<Connection>>>,
    ) -> BoxFuture<'static, Result<(), tonic::transport::Error>>
    + Send
    + Sync;

/// How a server's connections are accepted.
#[derive(Clone, Debug)]
pub(crate) struct Accepting {
    /// TLS, if served.
    pub(crate) tls: Option<Arc<ServerTls>>,
    /// Server threads; 0 serves on the caller's runtime.
    pub(crate) threads: usize,
    /// The limit and first-bytes deadline every connection passes.
    pub(crate) guard: ConnectionGuard,
    /// Longest a TLS handshake may take.
    pub(crate) handshake_timeout: Duration,
}

/// Serves the connections `listener` accepts with `serve_on`, as `accepting` says, until
/// `stop`.
pub(crate) fn serve_connections(
    serve_on: Arc<ServeOn>,
    listener: TcpListener,
    accepting: Accepting,
    stop: CancellationToken,
) -> Result<BoxFuture<'static, Result<(), ServeError>>, ServeError> {
    let Accepting {
        tls,
        threads,
        guard,
        handshake_timeout,
    } = accepting;
    if threads == 0 {
        let incoming: BoxStream<'static, std::io::Result<Connection>> = match tls {
            Some(tls) => tls_accept::incoming(listener, tls, handshake_timeout, stop)
                .map(|accepted| accepted.map(|tls| Connection::Tls(Box::new(tls))))
                .boxed(),
            None => TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .map(|accepted| accepted.map(Connection::Plain))
                .boxed(),
        };
        return Ok(serve_on(admitted(incoming, guard))
            .map_err(ServeError::from)
            .boxed());
    }
    let thread_stop = stop.clone();
    let serve: Serve = Box::new(move |connections| {
        let incoming = thread_incoming(
            connections,
            tls.clone(),
            handshake_timeout,
            thread_stop.clone(),
        );
        serve_on(admitted(incoming, guard.clone()))
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
    handshake_timeout: Duration,
    stop: CancellationToken,
) -> BoxStream<'static, std::io::Result<Connection>> {
    let accepted = connections.into_stream();
    match tls {
        Some(tls) => tls_accept::handshakes(accepted, tls, handshake_timeout, stop)
            .map(|established| established.map(|tls| Connection::Tls(Box::new(tls))))
            .boxed(),
        None => accepted
            .map(|(tcp, _remote)| Ok(Connection::Plain(tcp)))
            .boxed(),
    }
}

/// `incoming`, each connection admitted by `guard`; those beyond its limit are refused (on a
/// task of their own) and left out.
fn admitted(
    incoming: BoxStream<'static, std::io::Result<Connection>>,
    guard: ConnectionGuard,
) -> BoxStream<'static, std::io::Result<Guarded<Connection>>> {
    incoming
        .filter_map(move |accepted| {
            let admitted = match accepted {
                Ok(connection) => match guard.admit(connection) {
                    Ok(guarded) => Some(Ok(guarded)),
                    Err(connection) => {
                        tracing::warn!(
                            limit = guard.limit(),
                            "connection refused: at the connection limit"
                        );
                        tokio::spawn(refuse(connection, guard.limit()));
                        None
                    }
                },
                Err(error) => Some(Err(error)),
            };
            std::future::ready(admitted)
        })
        .boxed()
}
