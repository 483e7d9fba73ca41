//! Graceful shutdown of the real `marketplace` process: on SIGTERM, a page being rendered
//! still completes, new connections are refused, and the process exits 0 well within the grace
//! period.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookstore_layers::Metrics;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_server::{
    RecommendationsService, RecommendationsServiceServer,
};
use bookstore_serve::{GrpcServer, ServerSettings};
use bookstore_testing::spawn;
use tonic::{Request, Response, Status};

/// Answers after a pause long enough to send SIGTERM while a page waits for it.
struct SlowRecommendations;

#[tonic::async_trait]
impl RecommendationsService for SlowRecommendations {
    async fn recommend(
        &self,
        request: Request<v1::RecommendRequest>,
    ) -> Result<Response<v1::RecommendResponse>, Status> {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let books = (0..request.into_inner().max_results)
            .map(|i| v1::Book {
                id: i.into(),
                title: format!("Slow book {i}"),
                ..Default::default()
            })
            .collect();
        Ok(Response::new(v1::RecommendResponse { books }))
    }

    async fn list_categories(
        &self,
        _: Request<v1::ListCategoriesRequest>,
    ) -> Result<Response<v1::ListCategoriesResponse>, Status> {
        Ok(Response::new(v1::ListCategoriesResponse::default()))
    }

    // The homepage calls only `Recommend`.
    async fn get_book(
        &self,
        _: Request<v1::GetBookRequest>,
    ) -> Result<Response<v1::GetBookResponse>, Status> {
        Err(Status::unimplemented("not needed here"))
    }

    async fn search_books(
        &self,
        _: Request<v1::SearchBooksRequest>,
    ) -> Result<Response<v1::SearchBooksResponse>, Status> {
        Err(Status::unimplemented("not needed here"))
    }
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sigterm_lets_the_page_in_flight_finish_and_refuses_new_connections() {
    let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new())
        .add_service(RecommendationsServiceServer::new(SlowRecommendations));
    let upstream = spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
    let upstream_port = upstream.addr().port();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut marketplace = Process(
        Command::new(env!("CARGO_BIN_EXE_marketplace"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--recommendations-host", "127.0.0.1"])
            .args(["--recommendations-port", &upstream_port.to_string()])
            .args(["--upstream-timeout", "5s", "--grace-period", "20s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "the marketplace never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let in_flight = tokio::spawn(reqwest::get(format!("{base}/")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Command::new("kill")
        .args(["-TERM", &marketplace.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let signalled = Instant::now();

    let page = in_flight
        .await
        .unwrap()
        .expect("the page in flight completes");
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap().matches("<li>").count(), 3);

    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused after SIGTERM"
    );

    let status = loop {
        if let Some(status) = marketplace.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "exits well within the 20 s grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    upstream.stop_cleanly().await;
}
