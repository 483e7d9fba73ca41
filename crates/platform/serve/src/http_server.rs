//! Serving an axum web app the way every gRPC service is served: request ids, request
//! metrics by route template, `/metrics`, a request timeout, a limit of requests in progress
//! (past it, 503 at once), graceful shutdown with a
//! deadline, connection hygiene (`guard`, `http_connections`), and connections served
//! thread-per-core (`server_threads`).

use std::net::SocketAddr;

use bookstore_layers::{HttpStack, Metrics};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::admin::metrics_router;
use crate::drain::serve_and_drain;
use crate::error::ServeError;
use crate::guard::ConnectionGuard;
use crate::http_connections::{http_builder, serve_app};
use crate::server_threads::{Serve, ServerThreads, ThreadConnections};
use crate::settings::ServerSettings;

/// Serves the app `make_app` builds on `listener` until `shutdown` completes, then lets
/// in-flight requests finish within the grace period (`drain`). Adds `GET /metrics`
/// to the app, and puts it inside the one HTTP stack (`bookstore_layers::HttpStack`).
///
/// With `server_threads` > 0 each server thread builds its own app inside its own runtime
/// (`server_threads`), so what the app owns — above all its gRPC channels, whose
/// connection tasks run where they were made — lives on the thread that uses it. A `make_app`
/// that fails stops the server with its error.
pub async fn serve_http(
    listener: TcpListener,
    make_app: impl Fn() -> std::io::Result<axum::Router> + Send + Sync + 'static,
    metrics: &Metrics,
    settings: &ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (stack, metrics) = (
        HttpStack::new(
            metrics,
            settings.request_timeout,
            settings.access_log,
            settings.max_concurrent_calls,
        ),
        metrics.clone(),
    );
    let build = move || -> std::io::Result<axum::Router> {
        Ok(stack.around(make_app()?, metrics_router(metrics.clone())))
    };
    let stop = CancellationToken::new();
    let connections = &settings.connections;
    let guard = ConnectionGuard::new(connections.max_connections, connections.handshake_timeout);
    let builder = http_builder(settings);
    let server: BoxFuture<'static, std::io::Result<()>> = if settings.server_threads == 0 {
        serve_app(
            listener,
            build().map_err(ServeError::Io)?,
            builder,
            guard,
            stop.clone(),
        )
        .boxed()
    } else {
        let serve_stop = stop.clone();
        let serve: Serve = Box::new(move |connections| {
            let app = match build() {
                Ok(app) => app,
                Err(error) => return std::future::ready(Err(error)).boxed(),
            };
            serve_app(
                ThreadListener(connections),
                app,
                builder.clone(),
                guard.clone(),
                serve_stop.clone(),
            )
            .boxed()
        });
        ServerThreads::spawn(settings.server_threads, "http", &listener, serve)
            .map_err(ServeError::Io)?
            .run(listener, stop.clone())
            .boxed()
    };
    let begin_drain = async { stop.cancel() };
    serve_and_drain(server, shutdown, settings.grace_period, begin_drain, None)
        .await
        .map_err(ServeError::Io)
}

/// A server thread's connections as axum takes them (see `server_threads`).
struct ThreadListener(ThreadConnections);

impl axum::serve::Listener for ThreadListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        match self.0.next().await {
            Some(connection) => connection,
            // No more connections are coming: the graceful shutdown that stopped them ends
            // the accept loop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.0.local_addr())
    }
}
