//! The ceiling of our own stack: the tutorial's legacy `Recommendations/Recommend` served by a
//! bare `tonic::transport::Server` with its default configuration, answering one constant
//! three-book response.
//!
//! It has deliberately nothing else — no health or reflection service, no middleware, no metrics,
//! no logging, no limits, no tuning — so that the distance between it and the real
//! `recommendations` binary under the same load is exactly what the platform and the service
//! cost. `bench/run.sh` runs the two side by side (see `BENCHMARKS.md`).

pub mod error;

use bookstore_proto::legacy::recommendations_server::{Recommendations, RecommendationsServer};
use bookstore_proto::legacy::{BookRecommendation, RecommendationRequest, RecommendationResponse};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

pub use error::Error;

/// The default port: one above the real service's, so both can run at once.
pub const DEFAULT_PORT: u16 = 50061;

/// The constant-answer `Recommendations` service.
#[derive(Clone, Debug)]
pub struct ConstantRecommendations {
    response: RecommendationResponse,
}

impl Default for ConstantRecommendations {
    fn default() -> Self {
        // The tutorial's three mystery books, the answer the homepage asks for.
        let books = [
            (1, "The Maltese Falcon"),
            (2, "Murder on the Orient Express"),
            (3, "The Hound of the Baskervilles"),
        ];
        Self {
            response: RecommendationResponse {
                recommendations: books
                    .into_iter()
                    .map(|(id, title)| BookRecommendation {
                        id,
                        title: title.to_owned(),
                    })
                    .collect(),
            },
        }
    }
}

#[tonic::async_trait]
impl Recommendations for ConstantRecommendations {
    async fn recommend(
        &self,
        _request: Request<RecommendationRequest>,
    ) -> Result<Response<RecommendationResponse>, Status> {
        Ok(Response::new(self.response.clone()))
    }
}

/// Serves [`ConstantRecommendations`] on `listener` with tonic's defaults until `shutdown`
/// completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    // `Server::serve(addr)` binds with TCP_NODELAY on and nothing else; the same here, so a
    // pre-bound listener (port 0 in tests) changes nothing about the default configuration.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(RecommendationsServer::new(
            ConstantRecommendations::default(),
        ))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_the_three_mystery_books() {
        let response = ConstantRecommendations::default()
            .recommend(Request::new(RecommendationRequest::default()))
            .await
            .unwrap()
            .into_inner();
        let ids: Vec<i32> = response.recommendations.iter().map(|b| b.id).collect();
        assert_eq!(ids, [1, 2, 3]);
    }
}
