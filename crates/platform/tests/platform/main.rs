//! Integration tests of the platform against real servers on `127.0.0.1:0` — and, for
//! graceful shutdown, real processes — through the middleware test harness.
//!
//! One test binary (rather than one per file) so the suite links once.

mod errors;
mod faults;
mod health;
mod metrics;
mod panics;
mod processes;
mod shutdown;
mod support;
mod threads;
mod web;
