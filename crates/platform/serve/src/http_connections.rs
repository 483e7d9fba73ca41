//! The web apps' connection loop: what `axum::serve` does, plus the connection hygiene it has
//! no settings for — the limit and first-bytes deadline of `guard`, an HTTP/1 header-read
//! timeout, and HTTP/2 keepalive pings — with the same graceful shutdown (stop accepting, let
//! each connection finish its requests).
//!
//! Written here rather than configured because `axum::serve` builds its hyper connection
//! builder internally, without a timer, so hyper's header-read timeout and keepalive cannot be
//! turned on through it; hyper-util's `auto::Builder` and `GracefulShutdown`, which it uses, are.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::serve::Listener;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::guard::ConnectionGuard;
use crate::refusal::refuse;
use crate::settings::ServerSettings;

/// The hyper connection builder for web apps, with `settings`' timeouts.
pub(crate) fn http_builder(settings: &ServerSettings) -> auto::Builder<TokioExecutor> {
    let connections = &settings.connections;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(connections.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.max_concurrent_streams)
        .keep_alive_interval(connections.http2_keepalive_interval)
        .keep_alive_timeout(connections.http2_keepalive_timeout);
    builder
}

/// Serves `app` on the connections `listener` accepts, each admitted by `guard`, until `stop`
/// is cancelled; then closes the listener and waits for the open connections to finish (the
/// caller bounds that wait with the grace period).
pub(crate) async fn serve_app<L>(
    mut listener: L,
    app: Router,
    builder: auto::Builder<TokioExecutor>,
    guard: ConnectionGuard,
    stop: CancellationToken,
) -> io::Result<()>
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, remote) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let io = match guard.admit(tcp) {
            Ok(io) => io,
            Err(tcp) => {
                tracing::warn!(%remote, limit = guard.limit(), "connection refused: at the connection limit");
                tokio::spawn(refuse(tcp, guard.limit()));
                continue;
            }
        };
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(app.clone()))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
