//! The Marketplace web app of Online Books For You.
//!
//! A storefront rendered on the server: the tutorial's homepage ("Mystery books you may
//! like"), a page per book, search, a page per category, and a JSON API, from the
//! Recommendations service over one long-lived gRPC channel. The channel connects lazily, so
//! the marketplace starts before Recommendations does and recovers when it comes back; every
//! call has a deadline, so a slow upstream cannot hold a page.
//!
//! Modules: `routes` (the router and its route table), `request` (the app state and query
//! readers every handler shares), one per page or API (`home`, `book`,
//! `search`, `category_page`, `api`), `assets` (the stylesheet and the favicon), `pages`
//! (askama templates), `book_view` (a book as pages show it), `cover` (generated covers, from
//! `bookstore_layers::fnv`), `category` (category names),
//! `upstream` (the gRPC client), `error` (what can go wrong, and its status) and `respond`
//! (errors as pages or JSON).

mod api;
mod assets;
mod book;
pub mod book_view;
pub mod category;
mod category_page;
pub mod cover;
pub mod error;
mod home;
pub mod pages;
mod request;
mod respond;
pub mod routes;
mod search;
pub mod upstream;

use bookstore_client::{UpstreamConfig, UpstreamError, UpstreamOptions};
use bookstore_layers::Metrics;
use bookstore_serve::{HttpServeArgs, Listeners, ServeError, ServiceDefaults, serve_http};
use bookstore_tls::UpstreamTlsSettings;

pub use assets::STYLESHEET_PATH;
pub use error::Error;
pub use request::AppState;
pub use routes::router;
pub use upstream::Recommendations;

/// The default Recommendations port.
pub const DEFAULT_RECOMMENDATIONS_PORT: u16 = 50051;

/// What tells this service's serving flags from the others': its name and port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketplaceService;

impl ServiceDefaults for MarketplaceService {
    const NAME: &'static str = "marketplace";
    const PORT_ENV: &'static str = "MARKETPLACE_PORT";
    /// The tutorial's port.
    const DEFAULT_PORT: u16 = 5000;
}

/// The web app's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "marketplace",
    version,
    about = "The Marketplace web app of Online Books For You."
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: HttpServeArgs<MarketplaceService>,

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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            serve: HttpServeArgs::default(),
            recommendations_host: "localhost".to_owned(),
            recommendations_port: DEFAULT_RECOMMENDATIONS_PORT,
            upstream: UpstreamOptions::default(),
            upstream_tls: UpstreamTlsSettings::default(),
        }
    }
}

impl Config {
    /// Where Recommendations is, how long calls to it may take, and how they are secured;
    /// fails if the TLS files cannot be read or the address is malformed.
    pub fn upstream(&self) -> Result<UpstreamConfig, UpstreamError> {
        UpstreamConfig::from_settings(
            "Recommendations",
            &self.recommendations_host,
            self.recommendations_port,
            &self.upstream,
            &self.upstream_tls,
        )
    }
}

/// Why the marketplace could not run (never a request's failure: those are [`Error`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Recommendations cannot be called as configured.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The server could not run.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Serves the marketplace on `listeners.main` until `shutdown` completes and in-flight
/// requests have finished (or the grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let metrics = Metrics::new();
    let upstream = config.upstream()?;
    tracing::info!(
        http = %listeners.main_addr(),
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
            Config::try_parse_from(["marketplace"]).unwrap(),
            Config::default()
        );
    }
}
