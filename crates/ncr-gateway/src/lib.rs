//! The nCr API gateway of Online Books For You: service 1 of the nCr article.
//!
//! `GET /api/ncr/{n}/{r}` answers nCr = n! / ((n−r)! · r!) exactly, from three concurrent calls
//! to the Factorial service's `bookstore.factorial.v1` API over one long-lived, lazily connected
//! channel (see [`routes`] for the JSON, [`ncr`] for when `"ncr"` is a number and when a
//! string, [`error`] for the statuses). Request ids, HTTP metrics at `/metrics`, a request
//! timeout and graceful shutdown come from `bookstore-platform`.
//!
//! [`run`] takes an already-bound listener and a shutdown future, so tests can bind port 0 and
//! stop the gateway at will.

pub mod error;
pub mod gateway;
pub mod ncr;
pub mod routes;
pub mod upstream;

use std::num::NonZeroUsize;

use bookstore_platform::client::UpstreamOptions;
use bookstore_platform::config::ServerSettings;
use bookstore_platform::http::serve_http;
use bookstore_platform::tls::{TlsError, UpstreamTlsSettings};
use bookstore_platform::{Metrics, UpstreamConfig};
use tokio::net::TcpListener;

pub use error::Error;
pub use gateway::Gateway;
pub use upstream::FactorialUpstream;

/// The default HTTP port.
pub const DEFAULT_PORT: u16 = 5001;
/// Where the Factorial service is by default.
pub const DEFAULT_FACTORIAL_HOST: &str = "localhost";
/// The Factorial service's default port.
pub const DEFAULT_FACTORIAL_PORT: u16 = 50052;
/// The default largest n: the Factorial service's own default limit, so that every n this
/// gateway accepts, the service computes.
pub const DEFAULT_MAX_N: u64 = 100_000;

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
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// HTTP port.
    #[arg(long, env = "NCR_GATEWAY_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

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

    /// Limits and shutdown.
    #[command(flatten)]
    pub server: ServerSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: DEFAULT_PORT,
            factorial_host: DEFAULT_FACTORIAL_HOST.to_owned(),
            factorial_port: DEFAULT_FACTORIAL_PORT,
            max_n: DEFAULT_MAX_N,
            upstream: UpstreamOptions::default(),
            upstream_tls: UpstreamTlsSettings::default(),
            server: ServerSettings::default(),
        }
    }
}

impl Config {
    /// How to reach the Factorial service; fails if its TLS files cannot be read.
    pub fn factorial_upstream(&self) -> Result<UpstreamConfig, TlsError> {
        Ok(
            UpstreamConfig::new(&self.factorial_host, self.factorial_port, &self.upstream)
                .with_tls(self.upstream_tls.load()?),
        )
    }
}

/// Serves on `listener` until `shutdown` completes and in-flight requests have finished (or the
/// grace period is over). The Factorial service need not be up: the channel connects on first
/// use and reconnects by itself.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let metrics = Metrics::new();
    let factorial = config.factorial_upstream()?;
    // Fails now on a malformed address, rather than in every server thread.
    factorial.check().map_err(|source| Error::UpstreamAddress {
        uri: factorial.uri(),
        source,
    })?;
    tracing::info!(
        http = ?listener.local_addr().ok(),
        factorial = %factorial.uri(),
        max_n = config.max_n,
        "ncr-gateway serving"
    );
    let workers = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let (max_n, permits, app_metrics) = (
        config.max_n,
        Gateway::division_permits(workers),
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
    serve_http(listener, make_app, &metrics, &config.server, shutdown)
        .await
        .map_err(Error::Serve)
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
