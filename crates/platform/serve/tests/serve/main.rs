//! Integration tests of serving against real servers on `127.0.0.1:0`, through the middleware
//! test harness: health, graceful shutdown and its deadline, server threads, the web server and
//! its overload shedding
//! (graceful shutdown of a real process on SIGTERM: `crates/platform/testing/tests/processes.rs`).
//!
//! One test binary (rather than one per file) so the suite links once.

mod durations;
mod health;
mod hygiene;
mod shedding;
mod shutdown;
mod threads;
mod web;
