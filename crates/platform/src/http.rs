//! Serving an axum web app the way every gRPC service is served: request ids, request
//! metrics by route template, `/metrics`, a request timeout, graceful shutdown with a
//! deadline, and connections served thread-per-core ([`crate::workers`]).

use std::future::IntoFuture as _;
use std::net::SocketAddr;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::admin::metrics_router;
use crate::config::ServerSettings;
use crate::metrics::Metrics;
use crate::middleware::{HttpMetricsLayer, REQUEST_ID_HEADER, RequestIdLayer};
use crate::workers::{Serve, WorkerConnections, Workers};

/// Serves the app `make_app` builds on `listener` until `shutdown` completes, then lets
/// in-flight requests finish within the grace period. Adds `GET /metrics` to the app.
///
/// With `server_threads` > 0 each worker thread builds its own app inside its own runtime
/// ([`crate::workers`]), so what the app owns — above all its gRPC channels, whose connection
/// tasks run where they were made — lives on the thread that uses it. A `make_app` that fails
/// stops the server with its error.
pub async fn serve_http(
    listener: TcpListener,
    make_app: impl Fn() -> std::io::Result<axum::Router> + Send + Sync + 'static,
    metrics: &Metrics,
    settings: &ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (metrics, request_timeout) = (metrics.clone(), settings.request_timeout);
    let build = move || -> std::io::Result<axum::Router> {
        Ok(with_platform_layers(make_app()?, &metrics, request_timeout))
    };
    let stop = CancellationToken::new();
    let server: BoxFuture<'static, std::io::Result<()>> = if settings.server_threads == 0 {
        axum::serve(listener, build()?)
            .with_graceful_shutdown(stop.clone().cancelled_owned())
            .into_future()
            .boxed()
    } else {
        let serve_stop = stop.clone();
        let serve: Serve = Box::new(move |connections| {
            let app = match build() {
                Ok(app) => app,
                Err(error) => return std::future::ready(Err(error)).boxed(),
            };
            axum::serve(WorkerListener(connections), app)
                .with_graceful_shutdown(serve_stop.clone().cancelled_owned())
                .into_future()
                .boxed()
        });
        Workers::spawn(settings.server_threads, "http", &listener, serve)?
            .run(listener, stop.clone())
            .boxed()
    };
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = shutdown => {
            stop.cancel();
            match tokio::time::timeout(settings.grace_period, &mut server).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(
                        grace_period = ?settings.grace_period,
                        "grace period over; dropping the requests still in flight"
                    );
                    Ok(())
                }
            }
        }
    }
}

/// The app with what every web app gets: request ids, metrics by route, `/metrics`, tracing
/// spans and the request timeout.
fn with_platform_layers(
    app: axum::Router,
    metrics: &Metrics,
    request_timeout: std::time::Duration,
) -> axum::Router {
    app.route_layer(HttpMetricsLayer::new(metrics))
        .merge(metrics_router(metrics.clone()))
        .layer(
            ServiceBuilder::new()
                .layer(RequestIdLayer)
                .layer(
                    TraceLayer::new_for_http()
                        // The request id joins this service's log lines to the gRPC services'.
                        .make_span_with(|request: &http::Request<_>| {
                            let request_id = request
                                .headers()
                                .get(REQUEST_ID_HEADER)
                                .and_then(|id| id.to_str().ok())
                                .unwrap_or("-");
                            tracing::debug_span!(
                                "http_request",
                                method = %request.method(),
                                uri = %request.uri(),
                                request_id,
                            )
                        })
                        // Apps log their own failures with context; a second, generic line
                        // per 5xx would only be noise.
                        .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
                )
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                )),
        )
}

/// A worker thread's connections as axum takes them (see [`crate::workers`]).
struct WorkerListener(WorkerConnections);

impl axum::serve::Listener for WorkerListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        match self.0.next().await {
            Some(connection) => connection,
            // No more connections are coming: the graceful shutdown that stopped them ends
            // axum's accept loop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.0.local_addr())
    }
}
