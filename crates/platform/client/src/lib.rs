//! The client side of Online Books For You: how a service calls another.
//!
//! - `upstream`: [`UpstreamConfig`] and its flags ([`UpstreamOptions`]): one long-lived,
//!   lazily connected channel per upstream ([`GrpcChannel`]), cloned into handlers — the
//!   tutorial's "globals" lesson — with a deadline on every call and `grpc_client_*` metrics.
//! - `deadline`: [`ClientDeadline`], a call whose deadline passes fails as
//!   `DEADLINE_EXCEEDED`.
//! - `attempts`: [`Attempts`], each call sent as one or more attempts over the pool: idempotent
//!   calls retried and hedged on other endpoints; `call`: one such call in progress;
//!   `outcome`: how an attempt's answer is read; `upstream_state`: what the calls to one
//!   upstream share.
//! - `pool`: the upstream's endpoints and which one an attempt goes to (power of two choices,
//!   skipping outliers and endpoints the call tried); `balance`: keeping the pool to every
//!   address a name resolves to ([`Resolve`]), with re-resolution and probes.
//! - The policies, one per file: `retry` (gRFC A6: what is retryable, backoff with jitter),
//!   `throttle` (A6's token bucket), `hedge` ([`HedgeDelay`]) with `latency_window` (a
//!   method's recent p95), `outlier` (ejection with growing backoff); `policy`
//!   ([`ResilienceOptions`]) holds their flags and `resilience_metrics` their counters.
//! - `error`: [`UpstreamError`], why a channel could not be made.

mod attempts;
mod balance;
mod call;
mod deadline;
mod error;
mod hedge;
mod latency_window;
mod outcome;
mod outlier;
mod policy;
mod pool;
mod resilience_metrics;
mod retry;
mod throttle;
mod upstream;
mod upstream_state;

pub use attempts::Attempts;
pub use balance::{DnsResolver, Resolve};
pub use deadline::ClientDeadline;
pub use error::UpstreamError;
pub use hedge::{HedgeDelay, parse_hedge_delay};
pub use policy::ResilienceOptions;
pub use upstream::{GrpcChannel, UpstreamConfig, UpstreamOptions};
pub use upstream_state::PolicyCell;
