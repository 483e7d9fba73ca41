//! The Factorial microservice of Online Books For You: service 2 of the nCr article.
//!
//! Serves n! over gRPC on two faces: the article's original, unpackaged `Factorial` service
//! (`fact.proto`, a 32-bit float, so its Python clients work unchanged; answers past 34! are
//! `OUT_OF_RANGE`, never `inf`) and `bookstore.factorial.v1.FactorialService` (exact, up to a
//! configurable limit). Large factorials run off the async runtime under a concurrency limit
//! ([`Calculator`]). Health, reflection, metrics, error mapping and graceful shutdown come from
//! `bookstore-platform`.
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

pub mod calculator;
pub mod error;
pub mod math;
pub mod service;

use std::num::NonZeroUsize;

use bookstore_platform::Metrics;
use bookstore_platform::config::ServerSettings;
use bookstore_platform::server::{GrpcServer, Listeners};
use bookstore_platform::tls::TlsSettings;
use bookstore_proto::factorial::v1::factorial_service_server::FactorialServiceServer;
use bookstore_proto::legacy::factorial_server::FactorialServer;

pub use calculator::{Calculator, Computed, Representation};
pub use error::Error;
use service::{FactorialV1, LegacyFactorial};

/// The default gRPC port.
pub const DEFAULT_PORT: u16 = 50052;
/// The default port of the admin endpoint (`/metrics`).
pub const DEFAULT_METRICS_PORT: u16 = 9102;
/// The default largest n of the v1 API. Computing 100000! and writing it in base 10 takes about
/// 0.15 s of one core (release build, see `examples/cost_curve.rs`); the answer is 456,574
/// digits, well within gRPC's default 4 MiB message limit.
pub const DEFAULT_MAX_N: u64 = 100_000;

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "factorial",
    version,
    about = "The Factorial gRPC microservice of Online Books For You."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// gRPC port.
    #[arg(long, env = "FACTORIAL_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Port of the admin endpoint serving Prometheus metrics at /metrics.
    #[arg(long, env = "METRICS_PORT", default_value_t = DEFAULT_METRICS_PORT)]
    pub metrics_port: u16,

    /// Largest n the v1 API computes; larger ones are rejected with OUT_OF_RANGE. Responses grow
    /// with n (about 6.5 bytes per unit of n): past ~600000, clients need a larger message limit.
    #[arg(long, env = "FACTORIAL_MAX_N", default_value_t = DEFAULT_MAX_N)]
    pub max_n: u64,

    /// Most large factorials computed at once [default: the number of CPU cores].
    #[arg(long, env = "FACTORIAL_WORKERS")]
    pub workers: Option<NonZeroUsize>,

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
            max_n: DEFAULT_MAX_N,
            workers: None,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
        }
    }
}

impl Config {
    /// How many large factorials may run at once: `--workers`, else one per CPU core.
    pub fn workers(&self) -> NonZeroUsize {
        self.workers
            .or_else(|| std::thread::available_parallelism().ok())
            .unwrap_or(NonZeroUsize::MIN)
    }
}

/// Serves on `listeners` until `shutdown` completes and in-flight calls have finished (or the
/// grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let calculator = Calculator::new(config.max_n, config.workers());
    tracing::info!(
        grpc = %listeners.grpc_addr(),
        metrics = ?listeners.admin_addr(),
        max_n = calculator.max_n(),
        workers = calculator.workers(),
        "factorial serving"
    );
    let metrics = Metrics::new();
    calculator.register_metrics(&metrics);
    GrpcServer::new(&config.server, &metrics)
        .tls(&config.tls)?
        .add_service(FactorialServer::new(LegacyFactorial))
        .add_service(FactorialServiceServer::new(FactorialV1::new(calculator)))
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
            Config::try_parse_from(["factorial"]).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn workers_default_to_the_cores_and_reject_zero() {
        let cores = std::thread::available_parallelism().unwrap();
        assert_eq!(Config::default().workers(), cores);
        let config = Config::try_parse_from(["factorial", "--workers", "3"]).unwrap();
        assert_eq!(config.workers().get(), 3);
        assert!(Config::try_parse_from(["factorial", "--workers", "0"]).is_err());
    }
}
