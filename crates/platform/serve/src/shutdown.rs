//! Shutdown on SIGTERM or SIGINT: the first signal starts a graceful shutdown (health goes
//! NOT_SERVING, no new connections, in-flight calls get the grace period); a second signal exits
//! at once, for an operator who does not want to wait.

use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

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
        // Installed here rather than in the task: a signal that arrived before the task first
        // ran would meet the default disposition and kill the process. The same handlers serve
        // both signals, so a second signal sent right after the first is not lost either.
        let mut signals = Signals::install();
        tokio::spawn(async move {
            signals.next().await;
            tracing::info!(
                "shutdown signal received; finishing in-flight requests (signal again to exit now)"
            );
            trigger.trigger();
            signals.next().await;
            tracing::warn!("second shutdown signal received; exiting immediately");
            std::process::exit(FORCED_EXIT_STATUS);
        });
        shutdown
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// A `'static` future completing when the shutdown starts: what a service's `run` takes.
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal {
            inner: self.token.clone().cancelled_owned(),
        }
    }
}

pin_project! {
    /// Completes when the shutdown starts (see [`Shutdown::signal`]).
    #[derive(Debug)]
    pub struct ShutdownSignal {
        #[pin]
        inner: WaitForCancellationFutureOwned,
    }
}

impl Future for ShutdownSignal {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

/// The shutdown signals' handlers: SIGTERM and SIGINT (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        // Installing a handler only fails without a runtime signal driver, which ours always has.
        let term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
        let int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
        Self { term, int }
    }

    #[cfg(not(unix))]
    fn install() -> Self {
        Self {}
    }

    /// Completes at the next signal.
    #[cfg(unix)]
    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
