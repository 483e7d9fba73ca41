//! The admin HTTP endpoint of a gRPC service: Prometheus metrics at `GET /metrics`, liveness at
//! `GET /healthz` and readiness at `GET /readyz`, on its own port so scraping never competes with gRPC
//! traffic. It keeps answering while the server drains, so the drain itself can be watched.
//! Its connections pass the same hygiene as the web apps' (`http_connections`): a limit (a
//! small one of its own), the first-bytes deadline, the header-read timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use bookstore_layers::Metrics;

use crate::guard::ConnectionGuard;
use crate::http_connections::{http_builder, serve_app};
use crate::settings::ServerSettings;

/// Most connections the admin port holds at once: scrapers and health checks need a few, and
/// they count against the process's descriptors beside the gRPC port's `max_connections`.
const ADMIN_CONNECTIONS: usize = 64;

/// The content type of the OpenMetrics text format `prometheus-client` writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`, to merge into any axum app.
pub(crate) fn metrics_router(metrics: Metrics) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { ([(CONTENT_TYPE, OPENMETRICS)], metrics.encode()).into_response() }
        }),
    )
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until `stop` is cancelled, so HTTP
/// health checks see what `grpc.health.v1` says: Docker's, and Kubernetes probes where the
/// gRPC port needs TLS, which its native gRPC probes cannot speak.
///
/// - `/healthz` (liveness) answers 200 while `serving` is set and 503 once it is cleared (the
///   server is draining);
/// - `/readyz` (readiness) answers 200 only while the services also are `ready`: a service
///   waiting for its database is alive (restarting it would not help) but takes no traffic.
pub(crate) fn serve_admin(
    listener: TcpListener,
    metrics: Metrics,
    serving: Arc<AtomicBool>,
    ready: Arc<AtomicBool>,
    settings: &ServerSettings,
    stop: CancellationToken,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    let alive = serving.clone();
    let healthz = get(move || {
        let serving = alive.load(Ordering::Relaxed);
        async move {
            if serving {
                (StatusCode::OK, "serving\n")
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            }
        }
    });
    let readyz = get(move || {
        let answer = match (
            serving.load(Ordering::Relaxed),
            ready.load(Ordering::Relaxed),
        ) {
            (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
            (true, false) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: waiting for a dependency\n",
            ),
            (true, true) => (StatusCode::OK, "ready\n"),
        };
        async move { answer }
    });
    let app = metrics_router(metrics)
        .route("/healthz", healthz)
        .route("/readyz", readyz);
    let guard = ConnectionGuard::new(ADMIN_CONNECTIONS, settings.connections.handshake_timeout);
    serve_app(listener, app, http_builder(settings), guard, stop)
}
