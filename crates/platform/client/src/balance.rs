//! Client-side load balancing over every address a name resolves to.
//!
//! gRPC keeps one long-lived HTTP/2 connection per channel, so behind a plain Kubernetes
//! ClusterIP Service every call from a client lands on the one pod its connection happens to
//! reach, and extra replicas do nothing. Pointed at a *headless* Service, whose DNS name
//! resolves to every ready pod, the client instead keeps a connection to each address in its
//! `Pool`, which spreads calls over them (power of two choices), keeps retries and hedges off
//! endpoints a call already tried, and ejects outliers.
//!
//! A discovery task keeps the pool current: it re-resolves the name every `resolve_interval`
//! (pods come and go) and probes each address every [`PROBE_INTERVAL`] with a TCP connect, so
//! an address that stops answering is dropped within about a second, long before DNS notices,
//! and comes back as soon as it answers again. The task ends when the pool is dropped.

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use tonic::transport::Endpoint;

use crate::pool::Pool;

/// How often every known address is probed.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long a probe's TCP connect may take before the address counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Turns a host name into addresses. [`DnsResolver`] is the real one; tests substitute their own.
pub trait Resolve: Send + Sync + 'static {
    /// Every address `host:port` stands for.
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>>;
}

/// Resolves with the system resolver (what a headless Service's DNS name needs).
#[derive(Clone, Copy, Debug, Default)]
pub struct DnsResolver;

impl Resolve for DnsResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let target = format!("{host}:{port}");
        Box::pin(async move { Ok(tokio::net::lookup_host(target).await?.collect()) })
    }
}

async fn answers(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// Keeps `pool` holding the addresses `host:port` resolves to that answer probes; `endpoint`
/// makes the endpoint (timeouts, TLS) for one address. Must be called inside a Tokio runtime.
pub(crate) fn keep_resolving(
    pool: &Arc<Pool>,
    host: String,
    port: u16,
    resolver: Arc<dyn Resolve>,
    resolve_interval: Duration,
    endpoint: impl Fn(SocketAddr) -> Result<Endpoint, tonic::transport::Error> + Send + 'static,
) {
    tokio::spawn(discover(
        host,
        port,
        resolver,
        resolve_interval,
        endpoint,
        Arc::downgrade(pool),
    ));
}

async fn discover(
    host: String,
    port: u16,
    resolver: Arc<dyn Resolve>,
    resolve_interval: Duration,
    endpoint: impl Fn(SocketAddr) -> Result<Endpoint, tonic::transport::Error>,
    pool: Weak<Pool>,
) {
    let mut known: Vec<SocketAddr> = Vec::new();
    let mut serving: BTreeSet<SocketAddr> = BTreeSet::new();
    let mut last_resolved: Option<tokio::time::Instant> = None;
    loop {
        if last_resolved.is_none_or(|at| at.elapsed() >= resolve_interval) {
            match resolver.resolve(&host, port).await {
                Ok(addresses) => known = addresses,
                // Keep balancing over what we knew: a DNS hiccup must not empty the pool.
                Err(error) => tracing::warn!(%host, %error, "re-resolving the upstream failed"),
            }
            last_resolved = Some(tokio::time::Instant::now());
        }
        let probes = join_all(known.iter().map(|addr| answers(*addr))).await;
        let healthy: BTreeSet<SocketAddr> = known
            .iter()
            .zip(probes)
            .filter(|(_, up)| *up)
            .map(|(addr, _)| *addr)
            .collect();
        // The channel is gone once every clone of it is: so is the need for this task.
        let Some(pool) = pool.upgrade() else { return };
        for gone in serving.difference(&healthy).copied().collect::<Vec<_>>() {
            tracing::info!(%host, %gone, "upstream address left the pool");
            pool.remove(gone);
            serving.remove(&gone);
        }
        for new in healthy.difference(&serving).copied().collect::<Vec<_>>() {
            match endpoint(new) {
                Ok(endpoint) => {
                    tracing::info!(%host, %new, "upstream address joined the pool");
                    pool.insert(Some(new), endpoint.connect_lazy());
                    serving.insert(new);
                }
                Err(error) => tracing::error!(%host, %new, %error, "cannot make an endpoint"),
            }
        }
        drop(pool);
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}
