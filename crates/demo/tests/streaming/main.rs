//! The four kinds of RPC against a real server on a loopback port: the happy paths, ordering,
//! validation errors, cancellation and backpressure, observed from both ends.
//!
//! One test binary (rather than one per file) so the suite links once.

mod bidirectional;
mod countdown;
mod properties;
mod running_server;
mod sum;
mod unary;
