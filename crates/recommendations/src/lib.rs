//! The Recommendations microservice of Online Books For You.
//!
//! Serves book recommendations over gRPC on two faces that share one [`Recommender`]: the
//! tutorial's original, unpackaged `Recommendations` service (so its Python clients work
//! unchanged) and `bookstore.recommendations.v1.RecommendationsService`, which also gets books
//! by id and searches them a page at a time ([`search`]), and `bookstore.catalog.v1.CatalogService`,
//! which manages the catalog's books ([`catalog_service`]). Health, reflection,
//! metrics, error mapping and graceful shutdown come from the platform crates (`crates/platform/`).
//!
//! The catalog is the built-in one (read-only), or, with `DATABASE_URL`, a database's
//! ([`database`]: SQLite or PostgreSQL), served from an in-memory snapshot that follows the
//! database ([`catalog_sync`]), so no request waits on it.
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

mod book_index;
pub mod book_rules;
pub mod catalog;
pub mod catalog_service;
pub mod catalog_sync;
mod category;
pub mod database;
pub mod error;
mod page_token;
mod query;
pub mod recommender;
pub mod search;
pub mod service;
pub mod write_access;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookstore_config::parse_positive_duration;
use bookstore_layers::Metrics;
use bookstore_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use bookstore_proto::legacy::recommendations_server::RecommendationsServer;
use bookstore_proto::recommendations::v1::recommendations_service_server::RecommendationsServiceServer;
use bookstore_serve::{
    GrpcServeArgs, GrpcServer, GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults,
};

pub use catalog::{Catalog, CatalogError, Category};
use catalog_service::CatalogV1;
use catalog_sync::CatalogSync;
use database::StoreError;
pub use error::Error;
pub use recommender::Recommender;
use service::{LegacyRecommendations, RecommendationsV1};
use tokio_util::sync::CancellationToken;
use write_access::{DEFAULT_WRITER, WriteAccess};

impl Default for Config {
    fn default() -> Self {
        Self {
            serve: GrpcServeArgs::default(),
            catalog: None,
            seed: None,
            database_url: None,
            catalog_refresh: Duration::from_secs(1),
            catalog_writers: vec![DEFAULT_WRITER.to_owned()],
        }
    }
}

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
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "recommendations",
    version,
    about = "The Recommendations gRPC microservice of Online Books For You."
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: GrpcServeArgs<RecommendationsService>,

    /// Catalog file to serve (TOML); the built-in catalog when not given. With a database,
    /// the books a new database is seeded with.
    #[arg(long, env = "CATALOG_PATH")]
    pub catalog: Option<PathBuf>,

    /// The catalog's database: `sqlite://PATH` (created if missing) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE`. Without one, the catalog is read-only.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// How often to check the database for other replicas' changes to the catalog.
    #[arg(long, env = "CATALOG_REFRESH", default_value = "1s", value_parser = parse_positive_duration)]
    pub catalog_refresh: Duration,

    /// Client identities that may change the catalog under mutual TLS (without it, any client
    /// may, when there is a database).
    #[arg(long, env = "CATALOG_WRITERS", value_delimiter = ',', default_value = DEFAULT_WRITER)]
    pub catalog_writers: Vec<String>,

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
    /// The catalog's database cannot be used (a bad URL, a failed migration).
    #[error(transparent)]
    Database(#[from] StoreError),
    /// The server could not run.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Loads the catalog (from its database, when there is one: migrated and, if new, seeded),
/// then serves on `listeners` until `shutdown` completes and in-flight calls have finished (or
/// the grace period is over). A database that is unreachable at start is waited for, with the
/// services reporting `NOT_SERVING`; one that cannot be migrated stops the service.
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let catalog = config.load_catalog()?;
    let metrics = Metrics::new();
    let mutual_tls = config.serve.tls.tls_client_ca.is_some();
    let mut server = GrpcServer::new(&config.serve.server, &metrics)
        .tls(&config.serve.tls)
        .faults(&config.serve.faults);
    let stop_watching = CancellationToken::new();
    let failure = Arc::new(Mutex::new(None));
    let (recommender, sync) = match &config.database_url {
        None => {
            tracing::info!(
                books = catalog.len(),
                "serving the built-in catalog, read-only (no DATABASE_URL)"
            );
            (Arc::new(Recommender::new(catalog, config.seed)), None)
        }
        Some(url) => {
            let recommender = Arc::new(Recommender::without_catalog(config.seed));
            let sync = CatalogSync::new(database::open(url)?, recommender.clone(), &metrics);
            let refresh = config.catalog_refresh;
            match sync.prepare(&catalog).await {
                Ok(()) => sync.clone().start_watching(refresh, stop_watching.clone()),
                Err(error) if error.is_unreachable() => {
                    tracing::warn!(%error, "waiting for the catalog database; NOT_SERVING until it answers");
                    server = server.serving_after(wait_for_database(
                        sync.clone(),
                        catalog,
                        refresh,
                        failure.clone(),
                        stop_watching.clone(),
                    ));
                }
                Err(error) => return Err(error.into()),
            }
            if !mutual_tls {
                tracing::warn!("without mutual TLS every client may change the catalog");
            }
            (recommender, Some(sync))
        }
    };
    let access = WriteAccess::new(sync.is_some(), mutual_tls, &config.catalog_writers);
    tracing::info!(
        books = recommender.snapshot().map(|s| s.catalog().len()).ok(),
        grpc = %listeners.main_addr(),
        metrics = listeners.admin_addr().map(tracing::field::display),
        "recommendations serving"
    );
    let served = server
        .add_service(RecommendationsServer::new(LegacyRecommendations::new(
            recommender.clone(),
        )))
        .add_service(RecommendationsServiceServer::new(RecommendationsV1::new(
            recommender.clone(),
        )))
        .add_service(CatalogServiceServer::new(CatalogV1::new(
            recommender,
            sync,
            access,
        )))
        .serve(listeners, async {
            tokio::select! {
                () = shutdown => {}
                () = stop_watching.cancelled() => {}
            }
        })
        .await;
    stop_watching.cancel();
    served?;
    match failure
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        Some(error) => Err(RunError::Database(error)),
        None => Ok(()),
    }
}

/// Prepares the catalog once its database answers, then watches it for other replicas'
/// writes (not before: a check between the migration and the seeding would publish an empty
/// catalog). If preparing fails otherwise (a migration that cannot apply), leaves the error in
/// `failure` and stops the service through `stop`.
async fn wait_for_database(
    sync: Arc<CatalogSync>,
    catalog: Catalog,
    refresh: Duration,
    failure: Arc<Mutex<Option<StoreError>>>,
    stop: CancellationToken,
) {
    match sync.prepare_when_reachable(&catalog).await {
        Ok(()) => {
            tracing::info!("catalog loaded: SERVING");
            sync.start_watching(refresh, stop);
        }
        Err(error) => {
            *failure
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
            stop.cancel();
            std::future::pending::<()>().await;
        }
    }
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
