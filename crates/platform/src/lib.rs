//! What every Online Books For You service shares and none owns.
//!
//! - [`server`]: the gRPC server builder every service uses (health, reflection, limits, the
//!   middleware stack, graceful shutdown).
//! - [`client`]: the long-lived, deadline-bound gRPC channel every client uses.
//! - [`http`]: serving an axum app with the same metrics, request ids and graceful shutdown.
//! - [`workers`]: the server threads both serve on (thread-per-core: one single-threaded
//!   runtime per CPU, connections handed out round-robin).
//! - [`middleware`]: one tower `Layer` per file: panic → status, error logging, metrics, request ids.
//! - [`metrics`], [`telemetry`], [`shutdown`], [`config`]: the shared plumbing behind them.
//! - [`status`]: how a service's typed errors become gRPC statuses, written once.
//! - `testing` (feature `testing`): a dummy service with all four RPC shapes and a connected
//!   client, to test middleware against a real server.
//!
//! Dependency direction: services → platform → proto. Nothing here names a service.

pub mod admin;
pub mod balance;
mod call_events;
pub mod client;
pub mod config;
pub mod connection;
pub mod exit;
pub mod grpc_body;
pub mod http;
pub mod metrics;
pub mod middleware;
pub mod rpc;
pub mod server;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod tls;
pub mod workers;

#[cfg(feature = "testing")]
pub mod testing;

pub use client::{GrpcChannel, UpstreamConfig, UpstreamOptions};
pub use metrics::Metrics;
pub use server::{GrpcServer, ServeError};
pub use shutdown::Shutdown;
pub use status::GrpcError;
