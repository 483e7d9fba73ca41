//! The end of every server's life, written once: serve until the shutdown signal, then drain
//! with a deadline.
//!
//! 1. Shutdown starts: `begin` stops new work (health goes `NOT_SERVING`, the listener closes,
//!    connections are told to go away).
//! 2. In-flight work gets the grace period to finish.
//! 3. If it has not, the server's cutoff (if it has one) ends what is still running, with a
//!    status its clients can read, and the server gets [`CUTOFF_DRAIN`] more to deliver it; a
//!    client that stopped reading never takes it, so then the server is left behind. On server
//!    threads that closes its connections (their runtimes are dropped with it); on the caller's
//!    runtime (`--server-threads 0`) connection tasks already spawned run on until the process
//!    exits, which is why the cutoff ends their calls first.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long calls cut at the grace deadline get to deliver their status before the server
/// stops waiting for their connections.
pub(crate) const CUTOFF_DRAIN: Duration = Duration::from_secs(1);

/// Runs `server` until `shutdown` completes, then drains it as the module docs say. A server
/// that ends by itself (an error, say) ends this at once, with its result.
pub(crate) async fn serve_and_drain<E>(
    server: impl Future<Output = Result<(), E>>,
    shutdown: impl Future<Output = ()>,
    grace_period: Duration,
    begin: impl Future<Output = ()>,
    cutoff: Option<&CancellationToken>,
) -> Result<(), E> {
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = shutdown => {}
    }
    begin.await;
    let deadline = Instant::now() + grace_period;
    if let Ok(result) = tokio::time::timeout_at(deadline, &mut server).await {
        return result;
    }
    let Some(cutoff) = cutoff else {
        tracing::warn!(
            grace_period = %humantime::format_duration(grace_period),
            "grace period over; dropping the requests still in flight"
        );
        return Ok(());
    };
    tracing::warn!(
        grace_period = %humantime::format_duration(grace_period),
        "grace period over; ending the calls still in flight"
    );
    cutoff.cancel();
    match tokio::time::timeout(CUTOFF_DRAIN, &mut server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("connections still open after their calls were ended; leaving them");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A server that finishes `after` its shutdown begins, or when cut if it has a cutoff.
    async fn server(
        begun: Arc<AtomicBool>,
        after: Duration,
        cutoff: CancellationToken,
    ) -> Result<(), ()> {
        while !begun.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::select! {
            () = tokio::time::sleep(after) => Ok(()),
            () = cutoff.cancelled() => Err(()),
        }
    }

    async fn drain(after: Duration, cut: bool) -> (Result<(), ()>, Duration, bool) {
        let begun = Arc::new(AtomicBool::new(false));
        let cutoff = CancellationToken::new();
        let started = Instant::now();
        let begin = {
            let begun = begun.clone();
            async move { begun.store(true, Ordering::SeqCst) }
        };
        let result = serve_and_drain(
            server(begun, after, cutoff.clone()),
            std::future::ready(()),
            Duration::from_secs(30),
            begin,
            cut.then_some(&cutoff),
        )
        .await;
        (result, started.elapsed(), cutoff.is_cancelled())
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_finishes_within_the_grace_period_is_waited_for() {
        let (result, took, cut) = drain(Duration::from_secs(20), true).await;
        assert_eq!(result, Ok(()));
        assert!(took >= Duration::from_secs(20) && took < Duration::from_secs(30));
        assert!(!cut);
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_deadline_the_cutoff_ends_what_is_left_and_its_answer_is_kept() {
        let (result, took, cut) = drain(Duration::from_secs(60), true).await;
        assert!(cut);
        assert_eq!(result, Err(()), "the server's own result after the cutoff");
        assert!(took >= Duration::from_secs(30) && took < Duration::from_secs(31));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_cutoff_the_server_is_left_at_the_deadline() {
        let (result, took, cut) = drain(Duration::from_secs(60), false).await;
        assert_eq!(result, Ok(()));
        assert!(!cut);
        assert!(took >= Duration::from_secs(30) && took < Duration::from_secs(31));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_stops_by_itself_is_not_drained() {
        let began = Arc::new(AtomicBool::new(false));
        let result = serve_and_drain(
            async { Err::<(), _>("failed") },
            std::future::pending(),
            Duration::from_secs(30),
            async { began.store(true, Ordering::SeqCst) },
            None,
        )
        .await;
        assert_eq!(result, Err("failed"));
        assert!(!began.load(Ordering::SeqCst));
    }
}
