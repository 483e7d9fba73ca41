//! End to end: `bookstore up` as a real process — the tutorial's integration test against it,
//! a graceful stop on SIGTERM, moved and taken ports, mutual TLS on every hop, and one request
//! id across the services' logs. It listens on its own loopback address (127.0.0.3) so it
//! cannot collide with anything a developer runs on 127.0.0.1.

mod launcher;
mod lifecycle;
mod ports;
mod tls;
