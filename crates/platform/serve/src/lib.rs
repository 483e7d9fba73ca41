//! How every Online Books For You server runs: bound listeners, connections served
//! thread-per-core, TLS accepted, the one middleware stack applied, an admin endpoint, and a
//! graceful shutdown that drains with a deadline.
//!
//! **Running a service binary**: `process` ([`run_service`]: logging, signals, listeners,
//! exit status), `args` ([`GrpcServeArgs`], [`HttpServeArgs`]: the flags every service
//! shares, read with `bookstore_config::parse_args`; [`FaultSettings`]: fault injection), `settings` ([`ServerSettings`]: limits
//! and shutdown, durations read with `bookstore-config`'s parser), `listeners`
//! ([`Listeners`]), `shutdown` ([`Shutdown`]: SIGTERM/SIGINT), `error` ([`ServeError`]: why a
//! server could not run).
//!
//! **Serving**: `grpc_server` ([`GrpcServer`]: a service's gRPC services with health,
//! reflection, the middleware stack, limits and TLS), `http_server` ([`serve_http`]: a web
//! app with the HTTP stack and `/metrics`), `health` (health and reflection), `admin` (the
//! admin endpoint: `/metrics` and `/healthz`), `drain` (the end of every server: grace period,
//! then cutoff).
//!
//! **Connections**: `server_threads` ([`ServerThreads`]: thread-per-core, connections handed
//! out round-robin), `incoming` (plaintext or TLS, on the main runtime or on server threads),
//! `connection` (one type for both), `tls_accept` (handshakes off the accept path),
//! `tls_reload` (certificate rotation without a restart), `guard` (the connection limit and
//! first-bytes deadline), `refusal` (how a connection beyond the limit is turned away),
//! `http_connections` (the web apps' connection loop, with header-read timeout and keepalive).
//!
//! Dependency direction: services → this crate → `bookstore-layers`, `bookstore-tls`,
//! `bookstore-telemetry` → `bookstore-proto`, and `bookstore-config` under them all. Nothing
//! here names a service.

mod admin;
mod args;
mod connection;
mod drain;
mod error;
mod grpc_server;
mod guard;
mod health;
mod http_connections;
mod http_server;
mod incoming;
mod listeners;
mod process;
mod refusal;
mod server_threads;
mod settings;
mod shutdown;
mod tls_accept;
mod tls_reload;

pub use args::{
    FaultSettings, GrpcServeArgs, GrpcServiceDefaults, HttpServeArgs, SHARED_METRICS_PORT_ENV,
    ServeArgs, ServiceDefaults,
};
pub use error::ServeError;
pub use grpc_server::GrpcServer;
pub use http_server::serve_http;
pub use listeners::Listeners;
pub use process::{exit_status, run_service};
pub use server_threads::{Serve, ServerThreads, ThreadConnections};
pub use settings::{ConnectionSettings, ServerSettings};
pub use shutdown::{Shutdown, ShutdownSignal};
