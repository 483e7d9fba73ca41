//! gRPC's interop test suite (grpc/grpc `doc/interop-test-descriptions.md`) for Online Books For
//! You: the way gRPC implementations prove they keep gRPC's semantics, here proving that the
//! platform's middleware — message limits, metrics, panic catching, grace cutoff, all of it —
//! does.
//!
//! - [`server`]: `interop-server`, `grpc.testing.TestService` ([`service`]) on the platform's
//!   full production stack, plus the wire features the cases ask of a server ([`server_layer`]).
//! - [`client`]: `interop-client`, running the [`cases`] over the platform's client channel,
//!   with per-message compression ([`client_layer`]).
//! - [`call_compression`], [`frames`] and `wire_body`: per-message compression, which tonic
//!   does per call only.
//!
//! `tests/interop/grpc_testing/matrix.sh` runs the matrix against gRPC's C core (Python
//! `grpcio`): this client × this server, a grpcio client × this server, this client × a grpcio
//! server.

pub mod call_compression;
pub mod cases;
pub mod client;
pub mod client_layer;
mod frames;
pub mod payload;
pub mod server;
pub mod server_layer;
pub mod service;
mod wire_body;
