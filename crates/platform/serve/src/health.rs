//! What every gRPC server serves beside its own services: `grpc.health.v1.Health` (one status
//! per service plus the overall `""`, `Watch` included) and server reflection, v1 and v1alpha
//! (so grpcurl needs no proto files).

use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};

use crate::error::ServeError;

/// The health service's own name.
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
/// The reflection services' names.
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Every service a server with `services` of its own serves: those, health and reflection.
pub(crate) fn served_services<'a>(
    services: &'a [&'static str],
) -> impl Iterator<Item = &'static str> + 'a {
    services
        .iter()
        .copied()
        .chain([HEALTH_SERVICE])
        .chain(REFLECTION_SERVICES)
}

/// Adds health and reflection to `routes`, listing `services` (the server's own) in both.
pub(crate) fn add_health_and_reflection(
    routes: &mut RoutesBuilder,
    health: &HealthReporter,
    services: &[&'static str],
) -> Result<(), ServeError> {
    let reflection = || {
        let builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(bookstore_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        served_services(services).fold(builder, |builder, name| builder.with_service_name(name))
    };
    routes.add_service(reflection().build_v1()?);
    routes.add_service(reflection().build_v1alpha()?);
    routes.add_service(HealthServer::new(HealthService::from_health_reporter(
        health.clone(),
    )));
    Ok(())
}

/// Marks every service `SERVING`, and the server as a whole (`""`).
pub(crate) async fn start_serving(health: HealthReporter, services: &[&'static str]) {
    for service in services.iter().copied().chain([""]) {
        health
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
}

/// Marks every service `NOT_SERVING` until [`start_serving`]; the server as a whole (`""`,
/// what liveness probes ask) stays `SERVING`.
pub(crate) async fn stand_by(health: HealthReporter, services: &[&'static str]) {
    for service in services {
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
}

/// Flips every status to `NOT_SERVING`, then ends the open `Watch` streams once they have seen
/// it: a watch never ends by itself, and hyper's graceful shutdown waits for every open stream,
/// so one health watcher (a load balancer, say) would otherwise hold every shutdown for the
/// whole grace period. `Check` keeps answering `NOT_SERVING`.
pub(crate) async fn stop_serving(mut health: HealthReporter, services: &[&'static str]) {
    for service in services.iter().copied().chain([""]) {
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
        // Dropping a status's channel ends its watches after they delivered the last value;
        // setting it again serves `Check` (and any later watch).
        health.clear_service_status(service).await;
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
}
