//! The Recommendations microservice of Online Books For You.
//!
//! Serves book recommendations over gRPC on two faces that share one [`Recommender`]: the
//! tutorial's original, unpackaged `Recommendations` service (so its Python clients work
//! unchanged) and `bookstore.recommendations.v1.RecommendationsService`. Health, reflection,
//! metrics, error mapping and graceful shutdown come from `bookstore-platform`.
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

pub mod catalog;
pub mod error;
pub mod recommender;
pub mod service;

use std::path::PathBuf;
use std::sync::Arc;

use bookstore_platform::Metrics;
use bookstore_platform::config::ServerSettings;
use bookstore_platform::server::{GrpcServer, Listeners};
use bookstore_platform::tls::TlsSettings;
use bookstore_proto::legacy::recommendations_server::RecommendationsServer;
use bookstore_proto::recommendations::v1::recommendations_service_server::RecommendationsServiceServer;

pub use catalog::{Catalog, Category};
pub use error::Error;
pub use recommender::Recommender;
use service::{LegacyRecommendations, RecommendationsV1};

/// The default gRPC port, as in the tutorial.
pub const DEFAULT_PORT: u16 = 50051;
/// The default port of the admin endpoint (`/metrics`).
pub const DEFAULT_METRICS_PORT: u16 = 9101;

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "recommendations",
    version,
    about = "The Recommendations gRPC microservice of Online Books For You."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// gRPC port.
    #[arg(long, env = "RECOMMENDATIONS_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Port of the admin endpoint serving Prometheus metrics at /metrics.
    #[arg(long, env = "METRICS_PORT", default_value_t = DEFAULT_METRICS_PORT)]
    pub metrics_port: u16,

    /// Catalog file to serve (TOML); the built-in catalog when not given.
    #[arg(long, env = "CATALOG_PATH")]
    pub catalog: Option<PathBuf>,

    /// Seed for the random choice of books, for reproducible answers.
    #[arg(long, env = "RECOMMENDATIONS_SEED")]
    pub seed: Option<u64>,

    /// Limits and shutdown.
    #[command(flatten)]
    pub server: ServerSettings,

    /// TLS or mutual TLS on the gRPC port.
    #[command(flatten)]
    pub tls: TlsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: DEFAULT_PORT,
            metrics_port: DEFAULT_METRICS_PORT,
            catalog: None,
            seed: None,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
        }
    }
}

impl Config {
    /// Loads and validates the configured catalog.
    pub fn load_catalog(&self) -> Result<Catalog, Error> {
        match &self.catalog {
            Some(path) => Catalog::load(path),
            None => Catalog::built_in(),
        }
    }
}

/// Loads the catalog, then serves on `listeners` until `shutdown` completes and in-flight
/// calls have finished (or the grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let catalog = config.load_catalog()?;
    tracing::info!(
        books = catalog.len(),
        grpc = %listeners.grpc_addr(),
        metrics = ?listeners.admin_addr(),
        "recommendations serving"
    );
    let recommender = Arc::new(Recommender::new(catalog, config.seed));
    let metrics = Metrics::new();
    GrpcServer::new(&config.server, &metrics)
        .tls(&config.tls)?
        .add_service(RecommendationsServer::new(LegacyRecommendations::new(
            recommender.clone(),
        )))
        .add_service(RecommendationsServiceServer::new(RecommendationsV1::new(
            recommender,
        )))
        .serve(listeners, shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn default_config_matches_the_flags_defaults() {
        assert_eq!(
            Config::try_parse_from(["recommendations"]).unwrap(),
            Config::default()
        );
    }
}
