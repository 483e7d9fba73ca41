//! Certificate rotation without a restart: a task that re-reads a server's TLS files every
//! interval and on SIGHUP, swapping the configuration new connections use. Established
//! connections keep the certificate they were opened with, so in-flight calls are untouched.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_util::sync::CancellationToken;

use bookstore_layers::Metrics;
use bookstore_tls::ServerTls;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: &'static str,
}

/// Watches `tls`'s files until `stop` is cancelled. Reloads are counted in `metrics` as
/// `tls_reloads_total{result="ok"|"error"}`.
pub(crate) fn spawn_reloader(
    tls: Arc<ServerTls>,
    interval: Duration,
    metrics: &Metrics,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let reloads = Family::<Outcome, Counter>::default();
    metrics.register(
        "tls_reloads",
        "TLS certificate reloads, by outcome",
        reloads.clone(),
    );
    tokio::spawn(async move {
        let mut hangups = hangup_signals();
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
                Some(()) = next_hangup(&mut hangups) => tracing::info!("SIGHUP: checking TLS files"),
            }
            match tls.reload_if_changed() {
                Ok(false) => {}
                Ok(true) => {
                    reloads.get_or_create(&Outcome { result: "ok" }).inc();
                    tracing::info!("TLS certificate reloaded; new connections use it");
                }
                Err(error) => {
                    reloads.get_or_create(&Outcome { result: "error" }).inc();
                    tracing::error!(%error, "refusing the new TLS files; the current certificate stays in use");
                }
            }
        }
    })
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangups {}

#[cfg(unix)]
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    match hangups {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) -> Option<()> {
    std::future::pending().await
}
