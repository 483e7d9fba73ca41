//! Serving an axum web app the way every gRPC service is served: request ids, request
//! metrics by route template, `/metrics`, a request timeout, and graceful shutdown with a
//! deadline.

use http::StatusCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::admin::metrics_router;
use crate::config::ServerSettings;
use crate::metrics::Metrics;
use crate::middleware::{HttpMetricsLayer, REQUEST_ID_HEADER, RequestIdLayer};

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// within the grace period. Adds `GET /metrics` to the app.
pub async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    metrics: &Metrics,
    settings: &ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = app
        .route_layer(HttpMetricsLayer::new(metrics))
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
                    settings.request_timeout,
                )),
        );
    let stop = CancellationToken::new();
    let server = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
    let mut server = std::pin::pin!(server.into_future());
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
