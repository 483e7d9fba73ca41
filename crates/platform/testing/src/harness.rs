//! The dummy service on a real server, behind any layers or the platform's whole
//! [`GrpcServer`], with a client connected to it: [`TestServer`].

use std::net::SocketAddr;
use std::sync::Arc;

use bookstore_layers::{ErrorReporter, Metrics};
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{GrpcServer, ServerSettings};
use bytes::Bytes;
use http::{Request, Response};
use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tower::{Layer, Service};

use crate::dummy::{DummyService, SpecialCases};
use crate::spawn::{Running, spawn};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A running dummy server and a client connected to it.
#[derive(Debug)]
pub struct TestServer {
    /// A client connected to the server.
    pub client: DummyServiceClient<Channel>,
    /// The server's gRPC address.
    pub addr: SocketAddr,
    /// The admin (`/metrics`) address, for servers started on the platform.
    pub admin_addr: Option<SocketAddr>,
    running: Running<BoxError>,
}

impl TestServer {
    async fn connect(running: Running<BoxError>, admin_addr: Option<SocketAddr>) -> Self {
        Self {
            client: DummyServiceClient::new(running.channel().await),
            addr: running.addr(),
            admin_addr,
            running,
        }
    }

    /// A second, independent connection to the server.
    pub async fn new_client(&self) -> DummyServiceClient<Channel> {
        DummyServiceClient::new(self.running.channel().await)
    }

    /// Starts the server's graceful shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        self.running.trigger_shutdown();
    }

    /// Shuts the server down and waits until it has stopped, failing the test unless it
    /// stopped cleanly.
    pub async fn stop(self) {
        self.running.stop_cleanly().await;
    }
}

/// Serves [`DummyService`] with `cases` behind `layer` on `127.0.0.1:0`.
pub async fn serve_dummy<L, ResBody>(layer: L, cases: SpecialCases) -> TestServer
where
    L: Layer<Routes> + Clone + Send + 'static,
    L::Service: Service<Request<Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    <L::Service as Service<Request<Body>>>::Future: Send,
    <L::Service as Service<Request<Body>>>::Error: Into<BoxError> + Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    let router = Server::builder()
        .layer(layer)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let running = spawn(|listeners, shutdown| async move {
        router
            .serve_with_incoming_shutdown(TcpIncoming::from(listeners.main), shutdown)
            .await
            .map_err(BoxError::from)
    })
    .await;
    TestServer::connect(running, None).await
}

/// Serves [`DummyService`] with `cases` on the platform's full [`GrpcServer`] (health,
/// reflection, the one middleware stack, graceful shutdown), recording into `metrics` and
/// reporting errors to `reporter`.
pub async fn serve_dummy_on_platform(
    settings: &ServerSettings,
    metrics: &Metrics,
    reporter: Arc<dyn ErrorReporter>,
    cases: SpecialCases,
) -> TestServer {
    let server = GrpcServer::new(settings, metrics)
        .error_reporter(reporter)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let running = spawn(|listeners, shutdown| async move {
        server
            .serve(listeners, shutdown)
            .await
            .map_err(BoxError::from)
    })
    .await;
    let admin_addr = Some(running.admin_addr());
    TestServer::connect(running, admin_addr).await
}
