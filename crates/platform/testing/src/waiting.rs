//! Waiting in tests: for effects that land a moment after the client has its answer (metrics
//! and error reports are recorded when the server lets go of a call), and for calls that must
//! not hang.

use std::future::Future;
use std::time::Duration;

use bookstore_layers::Metrics;

/// The bound on anything a test waits for. Generous: it only matters when a test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Waits (up to [`WAIT`]) until `condition` holds; returns whether it did. Metrics and error
/// reports are recorded when the server lets go of a call, a moment after the client has read
/// its status, so tests wait for the state they then assert exactly.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// Waits until the sample reads `expected`, then returns what it reads.
pub async fn sample_settles(metrics: &Metrics, series: &str, expected: f64) -> f64 {
    eventually(|| metrics.sample(series) == expected).await;
    metrics.sample(series)
}

/// Bounds a future by [`WAIT`], failing the test with `what` if it takes longer.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}
