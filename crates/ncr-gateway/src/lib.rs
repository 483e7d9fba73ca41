//! The nCr API gateway of Online Books For You: service 1 of the nCr article.
//!
//! `GET /api/ncr/{n}/{r}` answers nCr = n! / ((n−r)! · r!) exactly, from three concurrent calls
//! to the Factorial service's `bookstore.factorial.v1` API over one long-lived, lazily connected
//! channel (see [`routes`] for the JSON, [`ncr`] for when `"ncr"` is a number and when a
//! string, [`error`] for the statuses). For people, `GET /` is a usage page with a form whose
//! answer page computes through the same code ([`pages`]). Request ids, HTTP metrics at
//! `/metrics`, a request timeout and graceful shutdown come from the platform crates
//! (`crates/platform/`).
//!
//! [`run`] takes an already-bound listener and a shutdown future, so tests can bind port 0 and
//! stop the gateway at will.

pub mod error;
pub mod gateway;
pub mod ncr;
pub mod pages;
pub mod routes;
pub mod upstream;

use std::num::NonZeroUsize;

use bookstore_client::{UpstreamConfig, UpstreamError, UpstreamOptions};
use bookstore_layers::Metrics;
use bookstore_serve::{HttpServeArgs, Listeners, ServeError, ServiceDefaults, serve_http};
use bookstore_tls::UpstreamTlsSettings;

pub use error::Error;
pub use gateway::Gateway;
pub use upstream::FactorialUpstream;

/// Where the Factorial service is by default.
pub const DEFAULT_FACTORIAL_HOST: &str = "localhost";
/// The Factorial service's default port.
pub const DEFAULT_FACTORIAL_PORT: u16 = 50052;
/// The default largest n: the Factorial service's own default limit, so that every n this
/// gateway accepts, the service computes.
pub const DEFAULT_MAX_N: u64 = 100_000;

/// What tells this service's serving flags from the others': its name and port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NcrGatewayService;

impl ServiceDefaults for NcrGatewayService {
    const NAME: &'static str = "ncr-gateway";
    const PORT_ENV: &'static str = "NCR_GATEWAY_PORT";
    const DEFAULT_PORT: u16 = 5001;
}

/// The gateway's configuration: flags, each with an environment variable.
///
/// The article's gateway reads the Factorial service's address from `HOST` and `PORT`; here
/// they are `FACTORIAL_HOST` and `FACTORIAL_PORT`, because `PORT` conventionally names the port
/// a process itself listens on (Heroku, Cloud Run, ...) and `HOST` is set by some shells.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "ncr-gateway",
    version,
    about = "The nCr HTTP API gateway of Online Books For You.",
    long_about = None
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: HttpServeArgs<NcrGatewayService>,

    /// Host name or address of the Factorial service (the article's HOST).
    #[arg(long, env = "FACTORIAL_HOST", default_value = DEFAULT_FACTORIAL_HOST)]
    pub factorial_host: String,

    /// gRPC port of the Factorial service (the article's PORT).
    #[arg(long, env = "FACTORIAL_PORT", default_value_t = DEFAULT_FACTORIAL_PORT)]
    pub factorial_port: u16,

    /// Largest n accepted; larger ones get a 400 without calling the Factorial service. Keep it
    /// at most the Factorial service's --max-n (requests between the two get a 400 too, after
    /// a call).
    #[arg(long, env = "NCR_MAX_N", default_value_t = DEFAULT_MAX_N)]
    pub max_n: u64,

    /// Deadlines of the calls to the Factorial service.
    #[command(flatten)]
    pub upstream: UpstreamOptions,

    /// TLS or mutual TLS to the Factorial service.
    #[command(flatten)]
    pub upstream_tls: UpstreamTlsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            serve: HttpServeArgs::default(),
            factorial_host: DEFAULT_FACTORIAL_HOST.to_owned(),
            factorial_port: DEFAULT_FACTORIAL_PORT,
            max_n: DEFAULT_MAX_N,
            upstream: UpstreamOptions::default(),
            upstream_tls: UpstreamTlsSettings::default(),
        }
    }
}

impl Config {
    /// How to reach the Factorial service; fails if its TLS files cannot be read or its address
    /// is malformed.
    pub fn factorial_upstream(&self) -> Result<UpstreamConfig, UpstreamError> {
        UpstreamConfig::from_settings(
            "the factorial service",
            &self.factorial_host,
            self.factorial_port,
            &self.upstream,
            &self.upstream_tls,
        )
    }
}

/// Why the gateway could not run (never a request's failure: those are [`Error`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The Factorial service cannot be called as configured.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The server could not run.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Serves on `listeners.main` until `shutdown` completes and in-flight requests have finished
/// (or the grace period is over). The Factorial service need not be up: the channel connects on
/// first use and reconnects by itself.
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let metrics = Metrics::new();
    let factorial = config.factorial_upstream()?;
    tracing::info!(
        http = %listeners.main_addr(),
        factorial = %factorial.uri(),
        max_n = config.max_n,
        "ncr-gateway serving"
    );
    // Big divisions run off the runtime, at most one per CPU this process may use.
    let cpus = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let (max_n, permits, app_metrics) = (
        config.max_n,
        Gateway::division_permits(cpus),
        metrics.clone(),
    );
    // Built once per server thread: each gets its own channel, on its own runtime, and all
    // share one limit on big divisions.
    let make_app = move || {
        let upstream = FactorialUpstream::connect_lazy(factorial.clone(), &app_metrics)
            .map_err(std::io::Error::other)?;
        Ok(routes::router(Gateway::sharing(
            upstream,
            max_n,
            permits.clone(),
        )))
    };
    serve_http(
        listeners.main,
        make_app,
        &metrics,
        &config.serve.server,
        shutdown,
    )
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
            Config::try_parse_from(["ncr-gateway"]).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn factorial_address_comes_from_its_own_flags() {
        let config = Config::try_parse_from([
            "ncr-gateway",
            "--factorial-host",
            "factorial",
            "--factorial-port",
            "6000",
            "--upstream-timeout",
            "250ms",
        ])
        .unwrap();
        let upstream = config.factorial_upstream().unwrap();
        assert_eq!(upstream.uri(), "http://factorial:6000");
        assert_eq!(upstream.call_timeout, std::time::Duration::from_millis(250));
    }
}
