//! The ceiling of our own stack: the tutorial's legacy `Recommendations/Recommend` served by a
//! bare `tonic::transport::Server` with its default configuration, answering one constant
//! three-book response.
//!
//! It has deliberately nothing else — no health or reflection service, no middleware, no metrics,
//! no logging, no limits, no tuning — so that the distance between it and the real
//! `recommendations` binary under the same load is exactly what the platform and the service
//! cost. `bench/run.sh` runs the two side by side (see `BENCHMARKS.md`).
//!
//! Our servers serve thread-per-core (`bookstore_serve::ServerThreads`), a runtime arrangement
//! that by itself makes this same bare server much faster; [`serve_on_threads`] is the ceiling
//! with that arrangement and nothing else of ours, so that the middleware's cost can still be
//! read off like for like. [`serve_with_reuseport`] is the usual alternative arrangement (one
//! listening socket per thread, `SO_REUSEPORT`), kept to compare the two.

pub mod error;
mod reuseport;

use bookstore_proto::legacy::recommendations_server::{Recommendations, RecommendationsServer};
use bookstore_proto::legacy::{BookRecommendation, RecommendationRequest, RecommendationResponse};
use bookstore_serve::{Serve, ServerThreads};
use futures_util::{FutureExt as _, StreamExt as _, TryFutureExt as _};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

pub use error::Error;
pub use reuseport::serve_with_reuseport;

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

/// Serves [`ConstantRecommendations`] like [`serve`], but on `threads` threads of their own,
/// each with a single-threaded runtime and its share of the connections, as our servers do.
pub async fn serve_on_threads(
    listener: TcpListener,
    threads: usize,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let stop = CancellationToken::new();
    let serve_stop = stop.clone();
    let serve: Serve = Box::new(move |connections| {
        let incoming = connections
            .into_stream()
            .map(|(tcp, _remote)| Ok::<_, std::io::Error>(tcp));
        tonic::transport::Server::builder()
            .add_service(RecommendationsServer::new(
                ConstantRecommendations::default(),
            ))
            .serve_with_incoming_shutdown(incoming, serve_stop.clone().cancelled_owned())
            .map_err(std::io::Error::other)
            .boxed()
    });
    let threads =
        ServerThreads::spawn(threads, "ceiling", &listener, serve).map_err(Error::Thread)?;
    let mut serving = std::pin::pin!(threads.run(listener, stop.clone()));
    let result = tokio::select! {
        result = &mut serving => result,
        () = shutdown => {
            stop.cancel();
            serving.await
        }
    };
    result.map_err(Error::Thread)
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

    #[tokio::test]
    async fn serves_on_threads_of_its_own_until_shut_down() {
        use bookstore_proto::legacy::recommendations_client::RecommendationsClient;

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve_on_threads(
            listener,
            2,
            stop.clone().cancelled_owned(),
        ));
        for _ in 0..2 {
            // A new connection each time: one per server thread.
            let mut client = RecommendationsClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
            let response = client
                .recommend(RecommendationRequest::default())
                .await
                .unwrap()
                .into_inner();
            assert_eq!(response.recommendations.len(), 3);
        }
        stop.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
    }
}
