//! The gRPC server every service runs on.
//!
//! [`GrpcServer`] adds, around a service's own gRPC services: `grpc.health.v1.Health` (one
//! status per service plus the overall `""`, `Watch` included), server reflection v1 and
//! v1alpha, the standard middleware stack ([`crate::middleware::ServerStack`]), request limits,
//! the admin `/metrics` endpoint, and graceful shutdown with a deadline:
//!
//! 1. shutdown starts (SIGTERM, or the future given to [`GrpcServer::serve`] completes);
//! 2. every health status flips to `NOT_SERVING` (open `Watch` streams see it, then end, so
//!    they do not hold the shutdown), the listener closes, connections get GOAWAY;
//! 3. in-flight calls get the grace period to finish;
//! 4. whatever is still running then (a stuck stream, say) ends with `UNAVAILABLE`, the
//!    connections close, and `serve` returns.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bookstore_proto::DecodingLimit;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, TryFutureExt as _};
use http::{Request, Response};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tower::Service;

use crate::admin::serve_admin;
use crate::config::ServerSettings;
use crate::connection::Connection;
use crate::metrics::Metrics;
use crate::middleware::{
    ErrorReporter, GraceCutoffLayer, MessageLimitLayer, RequestTimeoutLayer, ServerStack,
    TracingReporter,
};
use crate::rpc::MethodTable;
use crate::tls::{self, ServerTls, TlsError, TlsSettings};
use crate::workers::{Serve, WorkerConnections, Workers};

/// How often an idle connection is pinged, so dead peers are noticed.
const HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a keepalive ping may go unanswered before the connection is closed.
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long calls cut at the grace deadline get to deliver their status before `serve` stops
/// waiting for their connections (a client that stopped reading never takes it).
const CUTOFF_DRAIN: Duration = Duration::from_secs(1);

/// The health service's own name.
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
/// The reflection services' names.
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Why a server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptor set.
    #[error("building the reflection service failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The gRPC transport failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The admin (metrics) endpoint failed.
    #[error("the admin endpoint failed: {0}")]
    Admin(#[source] std::io::Error),
    /// A server thread could not be started, or failed.
    #[error("a server thread failed: {0}")]
    Worker(#[source] std::io::Error),
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The sockets a gRPC service serves on, bound before the server starts (so tests can bind
/// port 0 and read the port back, and bad ports fail before anything runs).
#[derive(Debug)]
pub struct Listeners {
    /// gRPC traffic.
    pub grpc: TcpListener,
    /// `/metrics` (none: metrics are not exposed over HTTP).
    pub admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds `host:port` for gRPC and, if given, `host:metrics_port` for the admin endpoint.
    pub async fn bind(
        host: &str,
        port: u16,
        metrics_port: Option<u16>,
    ) -> Result<Self, ServeError> {
        let grpc = bind(host, port).await?;
        let admin = match metrics_port {
            Some(port) => Some(bind(host, port).await?),
            None => None,
        };
        Ok(Self { grpc, admin })
    }

    /// Loopback listeners on free ports, for tests.
    pub async fn ephemeral() -> Result<Self, ServeError> {
        Self::bind("127.0.0.1", 0, Some(0)).await
    }

    /// The gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The admin address, if any.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }
}

/// Binds a TCP listener, resolving `host` (a name such as `localhost`, or an address).
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, ServeError> {
    let addr = tokio::net::lookup_host((host, port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port)));
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// A gRPC server under construction.
pub struct GrpcServer {
    settings: ServerSettings,
    metrics: Metrics,
    reporter: Arc<dyn ErrorReporter>,
    routes: RoutesBuilder,
    services: Vec<&'static str>,
    health: HealthReporter,
    tls: Option<Arc<ServerTls>>,
    tls_settings: TlsSettings,
}

impl std::fmt::Debug for GrpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServer")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl GrpcServer {
    /// A server with `settings`, recording into `metrics`, logging errors with
    /// [`TracingReporter`].
    pub fn new(settings: &ServerSettings, metrics: &Metrics) -> Self {
        Self {
            settings: settings.clone(),
            metrics: metrics.clone(),
            reporter: Arc::new(TracingReporter),
            routes: RoutesBuilder::default(),
            services: Vec::new(),
            health: HealthReporter::new(),
            tls: None,
            tls_settings: TlsSettings::default(),
        }
    }

    /// Serves TLS (or mutual TLS, with an allow-list) as `settings` say; plaintext when they
    /// name no certificate. Fails if the files do not make a valid configuration.
    pub fn tls(mut self, settings: &TlsSettings) -> Result<Self, TlsError> {
        self.tls = settings.load()?;
        self.tls_settings = settings.clone();
        Ok(self)
    }

    /// Reports failed calls to `reporter` instead of the log.
    pub fn error_reporter(mut self, reporter: Arc<dyn ErrorReporter>) -> Self {
        self.reporter = reporter;
        self
    }

    /// Serves a generated gRPC service (wrapped in its generated `XServer`), accepting request
    /// messages up to the server's `max_message_bytes`. Its health status is SERVING once the
    /// server runs, and it is listed by reflection.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + NamedService
            + DecodingLimit
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        // `MessageLimitLayer` enforces the limit first (with RESOURCE_EXHAUSTED); the service's
        // own limit must not be lower, or tonic's 4 MiB default would cut in.
        let service = service.with_decoding_limit(self.settings.max_message_bytes);
        self.routes.add_service(service);
        self.services.push(S::NAME);
        self
    }

    /// The handle that sets this server's health statuses (e.g. NOT_SERVING while a dependency
    /// is down).
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Serves until `shutdown` completes, then shuts down gracefully within the grace period.
    pub async fn serve(
        mut self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        let reflection_v1 = self.reflection_builder().build_v1()?;
        let reflection_v1alpha = self.reflection_builder().build_v1alpha()?;
        self.routes.add_service(reflection_v1);
        self.routes.add_service(reflection_v1alpha);
        self.routes
            .add_service(HealthServer::new(HealthService::from_health_reporter(
                self.health.clone(),
            )));
        for service in &self.services {
            self.health
                .set_service_status(service, ServingStatus::Serving)
                .await;
        }

        let methods = self.served_methods();
        let stack = ServerStack::new(
            &self.metrics,
            &methods,
            self.reporter.clone(),
            self.tls_settings.allow_list(),
        );
        let stop_accepting = CancellationToken::new();
        let cutoff = CancellationToken::new();
        // No `Server::timeout`: tonic applies it outside every layer and answers CANCELLED;
        // `RequestTimeoutLayer` answers DEADLINE_EXCEEDED where the metrics can see it.
        let (settings, routes, router_cutoff) =
            (self.settings.clone(), self.routes.routes(), cutoff.clone());
        let router = move || {
            Server::builder()
                .max_concurrent_streams(settings.max_concurrent_streams)
                .http2_keepalive_interval(Some(HTTP2_KEEPALIVE_INTERVAL))
                .http2_keepalive_timeout(Some(HTTP2_KEEPALIVE_TIMEOUT))
                .layer(stack.clone())
                .layer(GraceCutoffLayer::new(router_cutoff.clone()))
                .layer(RequestTimeoutLayer::new(settings.request_timeout))
                .layer(MessageLimitLayer::new(settings.max_message_bytes))
                .add_routes(routes.clone())
        };
        let stop = stop_accepting.clone();
        let serve_on: Arc<ServeOn> = Arc::new(move |incoming| {
            router()
                .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned())
                .boxed()
        });
        let server = serve_connections(
            serve_on,
            listeners.grpc,
            self.tls.clone(),
            self.settings.server_threads,
            stop_accepting.clone(),
        )?;
        let mut server = std::pin::pin!(server);
        // Started once nothing above can fail: it runs until `stop_accepting` is cancelled.
        if let Some(tls) = &self.tls {
            tls::spawn_reloader(
                tls.clone(),
                self.tls_settings.tls_reload_interval,
                &self.metrics,
                stop_accepting.clone(),
            );
        }

        // The admin endpoint outlives the gRPC server's drain, so `/healthz` can say "shutting
        // down" and metrics can be scraped while calls finish.
        let serving = Arc::new(AtomicBool::new(true));
        let stop_admin = CancellationToken::new();
        let admin = listeners.admin.map(|listener| {
            tokio::spawn(serve_admin(
                listener,
                self.metrics.clone(),
                serving.clone(),
                stop_admin.clone().cancelled_owned(),
            ))
        });

        let result = tokio::select! {
            result = &mut server => result,
            () = shutdown => {
                serving.store(false, Ordering::Relaxed);
                stop_serving(self.health.clone(), &self.services).await;
                stop_accepting.cancel();
                let grace_deadline = Instant::now() + self.settings.grace_period;
                match tokio::time::timeout_at(grace_deadline, &mut server).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!(
                            grace_period = ?self.settings.grace_period,
                            "grace period over; cancelling the calls still in flight"
                        );
                        cutoff.cancel();
                        match tokio::time::timeout(CUTOFF_DRAIN, &mut server).await {
                            Ok(result) => result,
                            Err(_) => {
                                tracing::warn!("connections still open after their calls were cancelled; leaving them");
                                Ok(())
                            }
                        }
                    }
                }
            }
        };
        stop_accepting.cancel();
        stop_admin.cancel();
        if let Some(mut admin) = admin {
            // Scrapes take milliseconds; one that never finishes sending its request must not
            // keep the process alive.
            match tokio::time::timeout(CUTOFF_DRAIN, &mut admin).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => return Err(ServeError::Admin(error)),
                Ok(Err(join_error)) => std::panic::resume_unwind(join_error.into_panic()),
                Err(_) => admin.abort(),
            }
        }
        result
    }

    fn reflection_builder(&self) -> tonic_reflection::server::Builder<'static> {
        let builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(bookstore_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        self.services
            .iter()
            .copied()
            .chain([HEALTH_SERVICE])
            .chain(REFLECTION_SERVICES)
            .fold(builder, |builder, name| builder.with_service_name(name))
    }

    /// The standard method table narrowed to what this server serves, so metrics only show
    /// series for methods that can actually be called here.
    fn served_methods(&self) -> MethodTable {
        let served: Vec<&str> = self
            .services
            .iter()
            .copied()
            .chain([HEALTH_SERVICE])
            .chain(REFLECTION_SERVICES)
            .collect();
        MethodTable::standard().retain_services(&served)
    }
}

/// Flips every status to `NOT_SERVING`, then ends the open `Watch` streams once they have seen
/// it: a watch never ends by itself, and hyper's graceful shutdown waits for every open stream,
/// so one health watcher (a load balancer, say) would otherwise hold every shutdown for the
/// whole grace period. `Check` keeps answering `NOT_SERVING`.
async fn stop_serving(mut health: HealthReporter, services: &[&'static str]) {
    for service in services.iter().copied().chain([""]) {
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
        // Dropping a status's channel ends its watches after they delivered the last value;
        // setting it again serves `Check` (and any later watch).
        health.clear_service_status(service).await;
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
}

/// How a server serves a stream of connections until told to stop.
type ServeOn = dyn Fn(
        BoxStream<'static, std::io::Result<Connection>>,
    ) -> BoxFuture<'static, Result<(), tonic::transport::Error>>
    + Send
    + Sync;

/// Serves the connections `listener` accepts with `serve_on`: on the caller's runtime with 0
/// `threads`, else on that many server threads ([`crate::workers`]), until `stop`.
fn serve_connections(
    serve_on: Arc<ServeOn>,
    listener: TcpListener,
    tls: Option<Arc<ServerTls>>,
    threads: usize,
    stop: CancellationToken,
) -> Result<BoxFuture<'static, Result<(), ServeError>>, ServeError> {
    if threads == 0 {
        let incoming: BoxStream<'static, std::io::Result<Connection>> = match tls {
            Some(tls) => tls::incoming(listener, tls, stop)
                .map(|accepted| accepted.map(|tls| Connection::Tls(Box::new(tls))))
                .boxed(),
            None => TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .map(|accepted| accepted.map(Connection::Plain))
                .boxed(),
        };
        return Ok(serve_on(incoming).map_err(ServeError::from).boxed());
    }
    let worker_stop = stop.clone();
    let serve: Serve = Box::new(move |connections| {
        serve_on(worker_incoming(
            connections,
            tls.clone(),
            worker_stop.clone(),
        ))
        .map_err(std::io::Error::other)
        .boxed()
    });
    let workers = Workers::spawn(threads, "grpc", &listener, serve).map_err(ServeError::Worker)?;
    Ok(workers
        .run(listener, stop)
        .map_err(ServeError::Worker)
        .boxed())
}

/// A worker thread's connections as tonic takes them: plaintext as they come, TLS after a
/// handshake run on the worker's own runtime.
fn worker_incoming(
    connections: WorkerConnections,
    tls: Option<Arc<ServerTls>>,
    stop: CancellationToken,
) -> BoxStream<'static, std::io::Result<Connection>> {
    let accepted = connections.into_stream();
    match tls {
        Some(tls) => tls::handshakes(accepted, tls, stop)
            .map(|established| established.map(|tls| Connection::Tls(Box::new(tls))))
            .boxed(),
        None => accepted
            .map(|(tcp, _remote)| Ok(Connection::Plain(tcp)))
            .boxed(),
    }
}
