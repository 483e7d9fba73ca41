//! End to end: `bookstore up` as a real process — the tutorial's integration test against it,
//! a graceful stop on SIGTERM, moved and taken ports, mutual TLS on every hop (catalog writes
//! for `admin` only), one request id across the services' logs, and a catalog that outlives a
//! restart. It listens on its own loopback address (127.0.0.3) so it
//! cannot collide with anything a developer runs on 127.0.0.1.

mod catalog;
mod launcher;
mod lifecycle;
mod ports;
mod tls;
