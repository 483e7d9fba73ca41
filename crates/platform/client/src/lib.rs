//! The client side of Online Books For You: how a service calls another.
//!
//! - `upstream`: [`UpstreamConfig`] and its flags ([`UpstreamOptions`]): one long-lived,
//!   lazily connected channel per upstream ([`GrpcChannel`]), cloned into handlers — the
//!   tutorial's "globals" lesson — with a deadline on every call and `grpc_client_*` metrics.
//! - `balance`: spreading calls over every address a name resolves to ([`Resolve`]), with
//!   re-resolution and probes.
//! - `deadline`: [`ClientDeadlineLayer`], a call whose deadline passes fails as
//!   `DEADLINE_EXCEEDED`.
//! - `error`: [`UpstreamError`], why a channel could not be made.

mod balance;
mod deadline;
mod error;
mod upstream;

pub use balance::{DnsResolver, Resolve};
pub use deadline::ClientDeadline;
pub use error::UpstreamError;
pub use upstream::{GrpcChannel, UpstreamConfig, UpstreamOptions};
