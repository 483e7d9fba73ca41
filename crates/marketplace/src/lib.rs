//! The Marketplace web app of Online Books For You.
//!
//! Renders the tutorial's homepage ("Mystery books you may like"), any other category, and a
//! JSON API, from the Recommendations service over one long-lived gRPC channel. The channel
//! connects lazily, so the marketplace starts before Recommendations does and recovers when it
//! comes back; every call has a deadline, so a slow upstream cannot hold a page.

pub mod category;
pub mod error;
pub mod pages;
pub mod routes;
pub mod upstream;

use bookstore_platform::Metrics;
use bookstore_platform::client::{UpstreamConfig, UpstreamOptions};
use bookstore_platform::config::ServerSettings;
use bookstore_platform::http::serve_http;
use bookstore_platform::tls::{TlsError, UpstreamTlsSettings};
use tokio::net::TcpListener;

pub use error::Error;
pub use routes::{AppState, router};
pub use upstream::Recommendations;

/// The default HTTP port, as in the tutorial.
pub const DEFAULT_PORT: u16 = 5000;
/// The default Recommendations port.
pub const DEFAULT_RECOMMENDATIONS_PORT: u16 = 50051;

/// The web app's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "marketplace",
    version,
    about = "The Marketplace web app of Online Books For You."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// HTTP port (pages, the JSON API and /metrics).
    #[arg(long, env = "MARKETPLACE_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Host of the Recommendations service, as in the tutorial.
    #[arg(long, env = "RECOMMENDATIONS_HOST", default_value = "localhost")]
    pub recommendations_host: String,

    /// Port of the Recommendations service.
    #[arg(long, env = "RECOMMENDATIONS_PORT", default_value_t = DEFAULT_RECOMMENDATIONS_PORT)]
    pub recommendations_port: u16,

    /// Deadlines of calls to Recommendations.
    #[command(flatten)]
    pub upstream: UpstreamOptions,

    /// TLS or mutual TLS to Recommendations.
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
            recommendations_host: "localhost".to_owned(),
            recommendations_port: DEFAULT_RECOMMENDATIONS_PORT,
            upstream: UpstreamOptions::default(),
            upstream_tls: UpstreamTlsSettings::default(),
            server: ServerSettings::default(),
        }
    }
}

impl Config {
    /// Where Recommendations is, how long calls to it may take, and how they are secured;
    /// fails if the TLS files cannot be read.
    pub fn upstream(&self) -> Result<UpstreamConfig, TlsError> {
        let upstream = UpstreamConfig::new(
            &self.recommendations_host,
            self.recommendations_port,
            &self.upstream,
        );
        Ok(upstream.with_tls(self.upstream_tls.load()?))
    }
}

/// Serves the marketplace on `listener` until `shutdown` completes and in-flight requests have
/// finished (or the grace period is over).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let metrics = Metrics::new();
    let upstream = config.upstream()?;
    // Fails now on a malformed address, rather than in every server thread.
    upstream.check()?;
    tracing::info!(
        http = %listener.local_addr()?,
        recommendations = %upstream.uri(),
        "marketplace serving"
    );
    let app_metrics = metrics.clone();
    // Built once per server thread: each gets its own channel, on its own runtime.
    let make_app = move || {
        let channel = upstream
            .channel(&app_metrics)
            .map_err(std::io::Error::other)?;
        Ok(router(AppState {
            recommendations: Recommendations::new(channel, upstream.clone()),
        }))
    };
    serve_http(listener, make_app, &metrics, &config.server, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn default_config_matches_the_flags_defaults() {
        assert_eq!(
            Config::try_parse_from(["marketplace"]).unwrap(),
            Config::default()
        );
    }
}
