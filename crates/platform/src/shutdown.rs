//! Shutdown on SIGTERM or SIGINT: the first signal starts a graceful shutdown (health goes
//! NOT_SERVING, no new connections, in-flight calls get the grace period); a second signal exits
//! at once, for an operator who does not want to wait.

use tokio_util::sync::CancellationToken;

/// Exit status for a forced exit on the second signal (128 + SIGINT, the shell convention).
const FORCED_EXIT_STATUS: i32 = 130;

/// A shared "shut down now" flag; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A flag only [`Shutdown::trigger`] sets (for tests and embedding).
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag set by the first SIGTERM/SIGINT; the second one exits the process immediately.
    /// Must be called inside a Tokio runtime.
    pub fn on_signals() -> Self {
        let shutdown = Self::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received; finishing in-flight requests (signal again to exit now)");
            trigger.trigger();
            wait_for_signal().await;
            tracing::warn!("second shutdown signal received; exiting immediately");
            std::process::exit(FORCED_EXIT_STATUS);
        });
        shutdown
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether the shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes when the shutdown starts.
    pub async fn wait(&self) {
        self.token.cancelled().await;
    }

    /// A `'static` future completing when the shutdown starts.
    pub fn wait_owned(&self) -> impl Future<Output = ()> + Send + 'static {
        self.token.clone().cancelled_owned()
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    // Installing a handler only fails if the runtime has no signal driver, which ours always has.
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
