//! The marketplace's one long-lived client of the Recommendations service.

use std::sync::Arc;

use bookstore_client::{GrpcChannel, UpstreamConfig};
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;

use crate::error::Error;

/// A book as the pages and the JSON API show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BookView {
    /// Catalog id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Author.
    pub author: String,
    /// Year of first publication.
    pub year: i32,
}

/// Calls Recommendations over one shared channel; cheap to clone.
#[derive(Clone, Debug)]
pub struct Recommendations {
    client: RecommendationsServiceClient<GrpcChannel>,
    // Behind an `Arc`: axum clones the app state, and so this, for every request.
    config: Arc<UpstreamConfig>,
}

impl Recommendations {
    /// Calls the service at `config` over `channel`.
    pub fn new(channel: GrpcChannel, config: UpstreamConfig) -> Self {
        Self {
            client: RecommendationsServiceClient::new(channel),
            config: Arc::new(config),
        }
    }

    /// Up to `max_results` books of `category`, within the call deadline.
    pub async fn recommend(
        &self,
        category: v1::Category,
        max_results: i32,
        request_id: Option<&str>,
    ) -> Result<Vec<BookView>, Error> {
        let request = self.config.request(
            v1::RecommendRequest {
                user_id: 1,
                category: category.into(),
                max_results,
            },
            request_id,
        );
        let response = self
            .client
            .clone()
            .recommend(request)
            .await
            .map_err(|status| {
                tracing::warn!(
                    code = ?status.code(),
                    message = status.message(),
                    request_id = request_id.unwrap_or("-"),
                    upstream = %self.config.uri(),
                    "recommendations call failed"
                );
                Error::Upstream(status)
            })?;
        Ok(response
            .into_inner()
            .books
            .into_iter()
            .map(|book| BookView {
                id: book.id,
                title: book.title,
                author: book.author,
                year: book.year,
            })
            .collect())
    }
}
