//! A harness for testing middleware against a real server: the Rust counterpart of
//! grpc-interceptor's `dummy_client`.
//!
//! [`DummyService`] implements all four RPC shapes and echoes its input, except for inputs a
//! test maps to a [`SpecialCase`] (reply with something else, fail with a status, panic,
//! pause, or hang). [`serve_dummy`] starts it on `127.0.0.1:0` behind any stack of layers and
//! hands back a connected client; [`serve_dummy_on_platform`] does the same behind the
//! platform's full [`GrpcServer`], and [`RecordingReporter`] keeps
//! the error reports it makes. Testing a layer takes a few lines:
//!
//! ```no_run
//! # async fn demo() {
//! use bookstore_platform::middleware::CatchPanicLayer;
//! use bookstore_platform::testing::{SpecialCases, serve_dummy};
//! use bookstore_proto::testing::v1::DummyRequest;
//!
//! let cases = SpecialCases::new().panic("boom", "kaboom");
//! let mut server = serve_dummy(CatchPanicLayer, cases).await;
//! let status = server.client.execute(DummyRequest { input: "boom".into() }).await.unwrap_err();
//! assert_eq!(status.code(), tonic::Code::Internal);
//! let reply = server.client.execute(DummyRequest { input: "hi".into() }).await.unwrap();
//! assert_eq!(reply.into_inner().output, "hi");
//! server.stop().await;
//! # }
//! ```

mod dummy;
mod reporter;

use std::net::SocketAddr;
use std::sync::Arc;

use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bytes::Bytes;
use http::{Request, Response};
use tokio::task::JoinHandle;
use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tower::{Layer, Service};

pub use dummy::{DummyService, SpecialCase, SpecialCases};
pub use reporter::RecordingReporter;

use crate::config::ServerSettings;
use crate::metrics::Metrics;
use crate::middleware::ErrorReporter;
use crate::server::{GrpcServer, Listeners};
use crate::shutdown::Shutdown;

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
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

impl TestServer {
    async fn connect(
        addr: SocketAddr,
        admin_addr: Option<SocketAddr>,
        shutdown: Shutdown,
        task: JoinHandle<()>,
    ) -> Self {
        let client = DummyServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("the dummy server is listening");
        Self {
            client,
            addr,
            admin_addr,
            shutdown,
            task,
        }
    }

    /// A second, independent connection to the server.
    pub async fn new_client(&self) -> DummyServiceClient<Channel> {
        DummyServiceClient::connect(format!("http://{}", self.addr))
            .await
            .expect("the dummy server is listening")
    }

    /// Starts the server's graceful shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Shuts the server down and waits until it has stopped.
    pub async fn stop(self) {
        self.shutdown.trigger();
        self.task
            .await
            .expect("the dummy server task did not panic");
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    let shutdown = Shutdown::new();
    let stop = shutdown.wait_owned();
    let router = Server::builder()
        .layer(layer)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let task = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop)
            .await
            .expect("the dummy server runs");
    });
    TestServer::connect(addr, None, shutdown, task).await
}

/// Serves [`DummyService`] with `cases` on the platform's full [`GrpcServer`] (health,
/// reflection, the standard middleware stack, graceful shutdown), recording into `metrics` and
/// reporting errors to `reporter`.
pub async fn serve_dummy_on_platform(
    settings: &ServerSettings,
    metrics: &Metrics,
    reporter: Arc<dyn ErrorReporter>,
    cases: SpecialCases,
) -> TestServer {
    let listeners = Listeners::ephemeral().await.expect("bind 127.0.0.1:0");
    let (addr, admin_addr) = (listeners.grpc_addr(), listeners.admin_addr());
    let shutdown = Shutdown::new();
    let stop = shutdown.wait_owned();
    let server = GrpcServer::new(settings, metrics)
        .error_reporter(reporter)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let task = tokio::spawn(async move {
        server
            .serve(listeners, stop)
            .await
            .expect("the dummy server runs");
    });
    TestServer::connect(addr, admin_addr, shutdown, task).await
}
