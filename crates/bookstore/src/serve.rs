//! `bookstore serve SERVICE [FLAGS]`: one service, alone in its process, exactly as its own
//! binary runs it (the same flags and variables, the same telemetry under its own name) — for a
//! machine that has only the `bookstore` binary, and for tests that need the services as
//! separate processes.

use std::process::ExitCode;

use bookstore_serve::run_service;
use clap::Subcommand;

/// The service to run, with its own flags.
#[derive(Subcommand, Debug, Clone)]
pub enum Service {
    /// The Recommendations gRPC service (as the `recommendations` binary).
    Recommendations(recommendations::Config),
    /// The Marketplace web app (as the `marketplace` binary).
    Marketplace(marketplace::Config),
    /// The Factorial gRPC service (as the `factorial` binary).
    Factorial(factorial::Config),
    /// The nCr HTTP API gateway (as the `ncr-gateway` binary).
    NcrGateway(ncr_gateway::Config),
    /// The demo gRPC service (as the `demo-server` binary).
    Demo(demo::Config),
}

/// Runs `service` until SIGTERM/SIGINT, and says how it ended.
pub async fn run(service: Service) -> ExitCode {
    match service {
        Service::Recommendations(config) => {
            run_service(config.serve.clone(), |listeners, shutdown| {
                recommendations::run(listeners, config, shutdown)
            })
            .await
        }
        Service::Marketplace(config) => {
            run_service(config.serve.clone(), |listeners, shutdown| {
                marketplace::run(listeners, config, shutdown)
            })
            .await
        }
        Service::Factorial(config) => {
            run_service(config.serve.clone(), |listeners, shutdown| {
                factorial::run(listeners, config, shutdown)
            })
            .await
        }
        Service::NcrGateway(config) => {
            run_service(config.serve.clone(), |listeners, shutdown| {
                ncr_gateway::run(listeners, config, shutdown)
            })
            .await
        }
        Service::Demo(config) => {
            run_service(config.serve.clone(), |listeners, shutdown| {
                demo::run(listeners, config, shutdown)
            })
            .await
        }
    }
}
