//! Integration tests of the middleware against real servers on `127.0.0.1:0`, through the
//! test harness (`bookstore-testing`): errors mapped and logged, panics caught, metrics
//! counted, faults — malformed messages, vanishing clients, oversized requests — answered
//! right, requests that are not gRPC refused, calls past the server's limit shed, and faults
//! injected on purpose.
//!
//! One test binary (rather than one per file) so the suite links once.

mod client_metrics;
mod content_type;
mod errors;
mod fault_injection;
mod faults;
mod metrics;
mod panics;
mod shedding;
mod stack;

/// The health of the dummy service, asked over `channel` (probes must get their answer even
/// from a server that is shedding or failing every call on purpose).
async fn dummy_health(
    channel: tonic::transport::Channel,
) -> tonic_health::pb::health_check_response::ServingStatus {
    let request = tonic_health::pb::HealthCheckRequest {
        service: bookstore_testing::DUMMY.to_owned(),
    };
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(request)
        .await
        .expect("the health check is answered")
        .into_inner()
        .status()
}

/// The dummy service on the platform's whole `GrpcServer`, with a client, its metrics and its
/// error reports.
struct PlatformServer {
    running: bookstore_testing::Running<bookstore_serve::ServeError>,
    client: bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient<
        tonic::transport::Channel,
    >,
    metrics: bookstore_layers::Metrics,
    reporter: std::sync::Arc<bookstore_testing::RecordingReporter>,
}

/// Serves the dummy service with `cases` under `settings` and `faults`.
async fn serve_on_platform(
    settings: &bookstore_serve::ServerSettings,
    faults: &bookstore_serve::FaultSettings,
    cases: bookstore_testing::SpecialCases,
) -> PlatformServer {
    use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
    let metrics = bookstore_layers::Metrics::new();
    let reporter = std::sync::Arc::new(bookstore_testing::RecordingReporter::new());
    let server = bookstore_serve::GrpcServer::new(settings, &metrics)
        .faults(faults)
        .error_reporter(reporter.clone())
        .add_service(DummyServiceServer::new(
            bookstore_testing::DummyService::new(cases),
        ));
    let running =
        bookstore_testing::spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
    let client = bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient::new(
        running.channel().await,
    );
    PlatformServer {
        running,
        client,
        metrics,
        reporter,
    }
}
