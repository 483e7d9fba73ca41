//! The storefront system the browser visits: Recommendations (the built-in catalog) and the
//! Marketplace, both in this process on free loopback ports, or the Marketplace alone, pointed
//! at a port where nothing listens, to see it degrade.

use bookstore_testing::{Running, spawn};

/// Recommendations and the Marketplace calling it, each on `127.0.0.1:0`.
#[derive(Debug)]
pub struct Storefront {
    recommendations: Option<Running<recommendations::RunError>>,
    marketplace: Running<marketplace::RunError>,
}

impl Storefront {
    /// Starts Recommendations, then the Marketplace calling it.
    pub async fn start() -> Self {
        let recommendations = spawn(|listeners, shutdown| {
            recommendations::run(listeners, recommendations::Config::default(), shutdown)
        })
        .await;
        let marketplace = start_marketplace(recommendations.addr().port()).await;
        Self {
            recommendations: Some(recommendations),
            marketplace,
        }
    }

    /// The Marketplace alone, its Recommendations port closed: every call to it fails.
    pub async fn without_recommendations() -> Self {
        let closed = bookstore_testing::free_port();
        Self {
            recommendations: None,
            marketplace: start_marketplace(closed).await,
        }
    }

    /// The absolute URL of `path` on the Marketplace, e.g. `url("/search?q=dune")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.marketplace.url())
    }

    /// Stops Recommendations (the Marketplace keeps running), failing the test unless it
    /// stopped cleanly.
    pub async fn stop_recommendations(&mut self) {
        if let Some(recommendations) = self.recommendations.take() {
            recommendations.stop_cleanly().await;
        }
    }
}

async fn start_marketplace(recommendations_port: u16) -> Running<marketplace::RunError> {
    let config = marketplace::Config {
        recommendations_host: "127.0.0.1".to_owned(),
        recommendations_port,
        ..marketplace::Config::default()
    };
    spawn(|listeners, shutdown| marketplace::run(listeners, config, shutdown)).await
}
