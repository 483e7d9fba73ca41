//! The Factorial microservice of Online Books For You: service 2 of the nCr article.
//!
//! Serves n! over gRPC on two faces: the article's original, unpackaged `Factorial` service
//! (`fact.proto`, a 32-bit float, so its Python clients work unchanged; answers past 34! are
//! `OUT_OF_RANGE`, never `inf`) and `bookstore.factorial.v1.FactorialService` (exact, up to a
//! configurable limit). Large factorials run off the async runtime under a concurrency limit
//! ([`Calculator`]). Health, reflection, metrics, error mapping and graceful shutdown come from
//! the platform crates (`crates/platform/`).
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

pub mod calculator;
pub mod error;
pub mod math;
pub mod service;

use std::num::NonZeroUsize;

use bookstore_layers::Metrics;
use bookstore_proto::factorial::v1::factorial_service_server::FactorialServiceServer;
use bookstore_proto::legacy::factorial_server::FactorialServer;
use bookstore_serve::{
    GrpcServeArgs, GrpcServer, GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults,
};

pub use calculator::{Calculator, Computed, Representation};
pub use error::Error;
use service::{FactorialV1, LegacyFactorial};

/// The default largest n of the v1 API. Computing 100000! and writing it in base 10 takes about
/// 0.15 s of one core (release build, see `examples/cost_curve.rs`); the answer is 456,574
/// digits, well within gRPC's default 4 MiB message limit.
pub const DEFAULT_MAX_N: u64 = 100_000;

/// What tells this service's serving flags from the others': its name and ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactorialService;

impl ServiceDefaults for FactorialService {
    const NAME: &'static str = "factorial";
    const PORT_ENV: &'static str = "FACTORIAL_PORT";
    const DEFAULT_PORT: u16 = 50052;
}

impl GrpcServiceDefaults for FactorialService {
    const DEFAULT_METRICS_PORT: u16 = 9102;
}

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "factorial",
    version,
    about = "The Factorial gRPC microservice of Online Books For You."
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: GrpcServeArgs<FactorialService>,

    /// Largest n the v1 API computes; larger ones are rejected with OUT_OF_RANGE. Responses grow
    /// with n (about 6.5 bytes per unit of n): past ~600000, clients need a larger message limit.
    #[arg(long, env = "FACTORIAL_MAX_N", default_value_t = DEFAULT_MAX_N)]
    pub max_n: u64,

    /// Most large factorials (n > 1000) computed at once, each on a blocking thread
    /// [default: the number of CPUs this process may use].
    #[arg(long, env = "FACTORIAL_MAX_BIG_FACTORIALS")]
    pub max_big_factorials: Option<NonZeroUsize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            serve: GrpcServeArgs::default(),
            max_n: DEFAULT_MAX_N,
            max_big_factorials: None,
        }
    }
}

impl Config {
    /// How many large factorials may run at once: `--max-big-factorials`, else one per CPU.
    pub fn max_big_factorials(&self) -> NonZeroUsize {
        self.max_big_factorials
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
) -> Result<(), ServeError> {
    let calculator = Calculator::new(config.max_n, config.max_big_factorials());
    tracing::info!(
        grpc = %listeners.main_addr(),
        metrics = listeners.admin_addr().map(tracing::field::display),
        max_n = calculator.max_n(),
        max_big_factorials = calculator.max_big_factorials(),
        "factorial serving"
    );
    let metrics = Metrics::new();
    calculator.register_metrics(&metrics);
    GrpcServer::new(&config.serve.server, &metrics)
        .tls(&config.serve.tls)
        .faults(&config.serve.faults)
        .add_service(FactorialServer::new(LegacyFactorial))
        .add_service(FactorialServiceServer::new(FactorialV1::new(calculator)))
        .serve(listeners, shutdown)
        .await
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
    fn max_big_factorials_defaults_to_the_cpus_and_rejects_zero() {
        let cpus = std::thread::available_parallelism().unwrap();
        assert_eq!(Config::default().max_big_factorials(), cpus);
        let config = Config::try_parse_from(["factorial", "--max-big-factorials", "3"]).unwrap();
        assert_eq!(config.max_big_factorials().get(), 3);
        assert!(Config::try_parse_from(["factorial", "--max-big-factorials", "0"]).is_err());
    }
}
