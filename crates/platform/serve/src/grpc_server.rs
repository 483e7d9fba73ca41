//! The gRPC server every service runs on.
//!
//! [`GrpcServer`] adds, around a service's own gRPC services: health and reflection
//! (`health`), the one middleware stack (`bookstore_layers::ServerStack`), request
//! limits (and the limit of calls in progress, past which calls are shed), fault injection
//! when asked for ([`GrpcServer::faults`]), TLS, the admin endpoint, and graceful shutdown with a deadline (`drain`):
//!
//! 1. shutdown starts (SIGTERM, or the future given to [`GrpcServer::serve`] completes);
//! 2. every health status flips to `NOT_SERVING` (open `Watch` streams see it, then end, so
//!    they do not hold the shutdown), the listener closes, connections get GOAWAY;
//! 3. in-flight calls get the grace period to finish;
//! 4. whatever is still running then (a stuck stream, say) ends with `UNAVAILABLE`, the
//!    connections close, and `serve` returns.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bookstore_layers::{
    ErrorReporter, Faults, MethodTable, Metrics, ServerStack, StackConfig, TracingReporter,
};
use bookstore_proto::DecodingLimit;
use bookstore_tls::TlsSettings;
use futures_util::FutureExt as _;
use http::{Request, Response};
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tower::Service;

use crate::admin::serve_admin;
use crate::args::FaultSettings;
use crate::drain::{CUTOFF_DRAIN, serve_and_drain};
use crate::error::ServeError;
use crate::guard::ConnectionGuard;
use crate::health;
use crate::incoming::{Accepting, ServeOn, serve_connections};
use crate::listeners::Listeners;
use crate::settings::ServerSettings;
use crate::tls_reload::spawn_reloader;

/// A gRPC server under construction.
pub struct GrpcServer {
    settings: ServerSettings,
    metrics: Metrics,
    reporter: Arc<dyn ErrorReporter>,
    routes: RoutesBuilder,
    services: Vec<&'static str>,
    health: HealthReporter,
    tls: TlsSettings,
    faults: Faults,
    /// What must finish before the services report SERVING (see [`GrpcServer::serving_after`]).
    ready: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for GrpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServer")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl GrpcServer {
    /// A plaintext server with `settings`, recording into `metrics`, logging errors with
    /// [`TracingReporter`].
    pub fn new(settings: &ServerSettings, metrics: &Metrics) -> Self {
        Self {
            settings: settings.clone(),
            metrics: metrics.clone(),
            reporter: Arc::new(TracingReporter),
            routes: RoutesBuilder::default(),
            services: Vec::new(),
            health: HealthReporter::new(),
            tls: TlsSettings::default(),
            faults: Faults::default(),
            ready: None,
        }
    }

    /// Injects the faults `settings` ask for into calls (none unless they name some; never into
    /// health checks or reflection), warning once at start which are on.
    pub fn faults(mut self, settings: &FaultSettings) -> Self {
        self.faults = settings.faults();
        self
    }

    /// Serves TLS (or mutual TLS, with an allow-list) as `settings` say; plaintext when they
    /// name no certificate. The files are loaded when the server starts, which fails if they
    /// do not make a valid configuration.
    pub fn tls(mut self, settings: &TlsSettings) -> Self {
        self.tls = settings.clone();
        self
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
        // The stack's message limit answers first (with RESOURCE_EXHAUSTED); the service's own
        // limit must not be lower, or tonic's 4 MiB default would cut in.
        let service = service.with_decoding_limit(self.settings.max_message_bytes);
        self.routes.add_service(service);
        self.services.push(S::NAME);
        self
    }

    /// Reports every service `NOT_SERVING` until `ready` completes, then `SERVING` (a service
    /// waiting for its database, say), and the admin endpoint's `/readyz` 503 until then: calls
    /// are taken meanwhile, so the service answers for itself (e.g. UNAVAILABLE), while
    /// balancers and readiness probes keep traffic away. The server as a whole (`""`, and
    /// `/healthz`) stays `SERVING`: the process is alive, and restarting it would not help.
    pub fn serving_after(mut self, ready: impl Future<Output = ()> + Send + 'static) -> Self {
        self.ready = Some(Box::pin(ready));
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
        let tls = self.tls.load()?;
        health::add_health_and_reflection(&mut self.routes, &self.health, &self.services)?;
        let stop_accepting = CancellationToken::new();
        let draining = CancellationToken::new();
        let is_ready = Arc::new(AtomicBool::new(self.ready.is_none()));
        match self.ready.take() {
            None => health::start_serving(self.health.clone(), &self.services).await,
            Some(ready) => {
                health::stand_by(self.health.clone(), &self.services).await;
                let (health, services) = (self.health.clone(), self.services.clone());
                let (stopping, is_ready) = (draining.clone(), is_ready.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = ready => {
                            health::start_serving(health, &services).await;
                            is_ready.store(true, Ordering::Relaxed);
                        }
                        // Once shutdown starts, the statuses stay NOT_SERVING.
                        () = stopping.cancelled() => {}
                    }
                });
            }
        }

        if self.faults.any() {
            tracing::warn!(
                services = %self.services.join(", "),
                faults = %self.faults,
                "fault injection is on: {} (--fault-delay, --fault-delay-percent, \
                 --fault-abort-percent, --fault-abort-code)",
                self.faults
            );
        }
        let cutoff = CancellationToken::new();
        let stack = ServerStack::new(StackConfig {
            metrics: self.metrics.clone(),
            methods: self.served_methods(),
            reporter: self.reporter.clone(),
            allowed_clients: self.tls.allow_list(),
            grace_cutoff: cutoff.clone(),
            request_timeout: self.settings.request_timeout,
            max_message_bytes: self.settings.max_message_bytes,
            max_concurrent_calls: self.settings.max_concurrent_calls,
            faults: self.faults,
        });
        // No `Server::timeout`: tonic applies it outside every layer and answers CANCELLED;
        // the stack's request timeout answers DEADLINE_EXCEEDED where the metrics can see it.
        let (max_streams, routes, stop) = (
            self.settings.max_concurrent_streams,
            self.routes.routes(),
            stop_accepting.clone(),
        );
        let connections = self.settings.connections.clone();
        let (keepalive_interval, keepalive_timeout) = (
            connections.http2_keepalive_interval,
            connections.http2_keepalive_timeout,
        );
        let serve_on: Arc<ServeOn> = Arc::new(move |incoming| {
            Server::builder()
                .max_concurrent_streams(max_streams)
                .http2_keepalive_interval(Some(keepalive_interval))
                .http2_keepalive_timeout(Some(keepalive_timeout))
                .layer(stack.clone())
                .add_routes(routes.clone())
                .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned())
                .boxed()
        });
        let accepting = Accepting {
            tls: tls.clone(),
            threads: self.settings.server_threads,
            guard: ConnectionGuard::new(connections.max_connections, connections.handshake_timeout),
            handshake_timeout: connections.handshake_timeout,
        };
        let server =
            serve_connections(serve_on, listeners.main, accepting, stop_accepting.clone())?;
        // Started once nothing above can fail: it runs until `stop_accepting` is cancelled.
        if let Some(tls) = tls {
            spawn_reloader(
                tls,
                self.tls.tls_reload_interval,
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
                is_ready.clone(),
                &self.settings,
                stop_admin.clone(),
            ))
        });

        let begin_drain = async {
            draining.cancel();
            serving.store(false, Ordering::Relaxed);
            health::stop_serving(self.health.clone(), &self.services).await;
            stop_accepting.cancel();
        };
        let result = serve_and_drain(
            server,
            shutdown,
            self.settings.grace_period,
            begin_drain,
            Some(&cutoff),
        )
        .await;
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

    /// The standard method table narrowed to what this server serves, so metrics only show
    /// series for methods that can actually be called here.
    fn served_methods(&self) -> MethodTable {
        let served: Vec<&str> = health::served_services(&self.services).collect();
        MethodTable::standard().retain_services(&served)
    }
}
