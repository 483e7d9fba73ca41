//! The Recommendations microservice of Online Books For You.
//!
//! Serves book recommendations over gRPC on two faces that share one [`Recommender`]: the
//! tutorial's original, unpackaged `Recommendations` service (so its Python clients work
//! unchanged) and `bookstore.recommendations.v1.RecommendationsService`, which also gets books
//! by id and searches them a page at a time ([`search`]). Health, reflection,
//! metrics, error mapping and graceful shutdown come from the platform crates (`crates/platform/`).
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

mod book_index;
pub mod catalog;
pub mod error;
mod page_token;
mod query;
pub mod recommender;
pub mod search;
pub mod service;

use std::path::PathBuf;
use std::sync::Arc;

use bookstore_layers::Metrics;
use bookstore_proto::legacy::recommendations_server::RecommendationsServer;
use bookstore_proto::recommendations::v1::recommendations_service_server::RecommendationsServiceServer;
use bookstore_serve::{
    GrpcServeArgs, GrpcServer, GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults,
};

pub use catalog::{Catalog, CatalogError, Category};
pub use error::Error;
pub use recommender::Recommender;
use service::{LegacyRecommendations, RecommendationsV1};

/// What tells this service's serving flags from the others': its name and ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecommendationsService;

impl ServiceDefaults for RecommendationsService {
    const NAME: &'static str = "recommendations";
    const PORT_ENV: &'static str = "RECOMMENDATIONS_PORT";
    /// The tutorial's port.
    const DEFAULT_PORT: u16 = 50051;
}

impl GrpcServiceDefaults for RecommendationsService {
    const DEFAULT_METRICS_PORT: u16 = 9101;
}

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, Default, PartialEq, Eq)]
#[command(
    name = "recommendations",
    version,
    about = "The Recommendations gRPC microservice of Online Books For You."
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: GrpcServeArgs<RecommendationsService>,

    /// Catalog file to serve (TOML); the built-in catalog when not given.
    #[arg(long, env = "CATALOG_PATH")]
    pub catalog: Option<PathBuf>,

    /// Seed for the random choice of books, for reproducible answers.
    #[arg(long, env = "RECOMMENDATIONS_SEED")]
    pub seed: Option<u64>,
}

impl Config {
    /// Loads and validates the configured catalog.
    pub fn load_catalog(&self) -> Result<Catalog, CatalogError> {
        match &self.catalog {
            Some(path) => Catalog::load(path),
            None => Catalog::built_in(),
        }
    }
}

/// Why the service could not run (never a request's failure: those are [`Error`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The catalog cannot be served.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The server could not run.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Loads the catalog, then serves on `listeners` until `shutdown` completes and in-flight
/// calls have finished (or the grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let catalog = config.load_catalog()?;
    tracing::info!(
        books = catalog.len(),
        grpc = %listeners.main_addr(),
        metrics = listeners.admin_addr().map(tracing::field::display),
        "recommendations serving"
    );
    let recommender = Arc::new(Recommender::new(catalog, config.seed));
    let metrics = Metrics::new();
    GrpcServer::new(&config.serve.server, &metrics)
        .tls(&config.serve.tls)
        .faults(&config.serve.faults)
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
