//! A demo server running inside the test's runtime on free loopback ports, stopped when the
//! test drops it, and ways to wait for what its [`StreamActivity`] reports.

#![allow(
    dead_code,
    reason = "each test binary uses the part of the harness it needs"
)]

use std::future::Future;
use std::time::Duration;

use bookstore_serve::{GrpcServeArgs, ServeError, ServerSettings};
use bookstore_testing::{Running, spawn};
use demo::{Config, Demo, StreamActivity};
use tonic::transport::{Channel, Endpoint};

/// How long a test waits for something that should happen promptly before failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A running demo server.
pub(crate) struct RunningServer {
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    /// The server's streaming counters.
    pub(crate) activity: StreamActivity,
    running: Running<ServeError>,
}

impl RunningServer {
    /// Starts a server with the default settings (but a short grace period).
    pub(crate) async fn start() -> Self {
        let demo = Demo::default();
        let activity = demo.activity();
        let config = Config {
            serve: GrpcServeArgs {
                server: ServerSettings {
                    grace_period: Duration::from_secs(1),
                    ..ServerSettings::default()
                },
                ..GrpcServeArgs::default()
            },
        };
        let running =
            spawn(|listeners, shutdown| demo::serve(demo, listeners, config, shutdown)).await;
        Self {
            url: running.url(),
            activity,
            running,
        }
    }

    /// A connected channel with tonic's default settings.
    pub(crate) async fn channel(&self) -> Channel {
        self.endpoint()
            .connect()
            .await
            .expect("connect to the test server")
    }

    /// An endpoint to the server, to customise before connecting.
    pub(crate) fn endpoint(&self) -> Endpoint {
        Endpoint::from_shared(self.url.clone())
            .expect("a valid URL")
            .timeout(PATIENCE)
    }

    /// Shuts the server down and checks that it stopped cleanly.
    pub(crate) async fn stop(self) {
        self.running.stop_cleanly().await;
    }
}

/// Waits until `condition` holds, failing the test after [`PATIENCE`].
pub(crate) async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `count` has not changed for `quiet`, and returns its value then; fails the test
/// if it keeps changing for [`PATIENCE`].
pub(crate) async fn settled(what: &str, quiet: Duration, count: impl Fn() -> u64) -> u64 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = count();
    let mut unchanged_since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = count();
        if now != last {
            last = now;
            unchanged_since = tokio::time::Instant::now();
        } else if unchanged_since.elapsed() >= quiet {
            return last;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} kept changing (now {last})"
        );
    }
}

/// Runs `call` with [`PATIENCE`] as its limit.
pub(crate) async fn promptly<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the call finishes promptly")
}
