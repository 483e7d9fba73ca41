//! The gRPC channel every client in the system uses: one long-lived, lazily connected channel
//! per upstream (the tutorial's "globals" lesson), cloned into handlers.
//!
//! Lazy connection means a client starts even when its upstream is not up yet, and reconnects
//! by itself when the upstream returns. Every call carries a deadline (sent to the server as
//! `grpc-timeout`, enforced locally too), and the channel records `grpc_client_*` metrics.
//! With `--upstream-load-balance`, the channel spreads calls over every address the host
//! resolves to (see `crate::balance`). Idempotent calls are retried and hedged, and failing
//! endpoints ejected, by the policies of `crate::policy` (see `crate::attempts`).
//!
//! The upstream flags' durations refuse zero (a zero deadline fails every call, a zero connect
//! timeout every connection, a zero resolve interval spins), with the servers' parser and
//! words: `bookstore_config::parse_positive_duration`.

use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use clap::Args;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use tower::Layer;

use bookstore_config::parse_positive_duration;
use bookstore_layers::{
    GrpcClientMetrics, GrpcClientMetricsLayer, GrpcClientTrace, GrpcClientTraceLayer, MethodTable,
    Metrics, REQUEST_ID_HEADER,
};
use bookstore_tls::{ClientTls, UpstreamTlsSettings};

use crate::attempts::Attempts;
use crate::balance::{DnsResolver, Resolve, keep_resolving};
use crate::deadline::{ClientDeadline, ClientDeadlineLayer};
use crate::error::UpstreamError;
use crate::policy::ResilienceOptions;
use crate::upstream_state::{Policies, PolicyCell};

/// How often an idle connection is pinged, so a dead upstream is noticed before a call needs it.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a keepalive ping may go unanswered.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel to one upstream, tracing calls, recording client metrics, enforcing call
/// deadlines, and sending each call as one or more attempts over a pool of endpoints. Cheap to
/// clone; clones share the connections.
pub type GrpcChannel = GrpcClientTrace<GrpcClientMetrics<ClientDeadline<Attempts>>>;

/// How long after a call's deadline tonic's own timeout gives up, as a backstop for calls sent
/// without a deadline: calls with one fail first, as `DEADLINE_EXCEEDED`, in
/// [`ClientDeadlineLayer`].
const BACKSTOP_MARGIN: Duration = Duration::from_secs(1);

/// How to reach and call one upstream service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Host name or IP address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Longest a connection attempt may take.
    pub connect_timeout: Duration,
    /// Deadline of every call.
    pub call_timeout: Duration,
    /// TLS to the upstream; plaintext when `None`.
    pub tls: Option<ClientTls>,
    /// Whether calls are spread over every address `host` resolves to.
    pub load_balance: bool,
    /// How often `host` is re-resolved when load balancing.
    pub resolve_interval: Duration,
    /// Retries, hedging and outlier ejection.
    pub resilience: ResilienceOptions,
    /// Their state, shared by every channel made from this config and its clones (one per
    /// server thread) — not configuration: it compares equal whatever it holds.
    pub policies: PolicyCell,
}

/// Timeouts of calls to an upstream, as flags each web app flattens into its config.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct UpstreamOptions {
    /// Deadline of every call to the upstream service.
    #[arg(long, env = "UPSTREAM_TIMEOUT", default_value = "1s", value_parser = parse_positive_duration)]
    pub upstream_timeout: Duration,

    /// Longest a connection attempt to the upstream service may take.
    #[arg(long, env = "UPSTREAM_CONNECT_TIMEOUT", default_value = "500ms", value_parser = parse_positive_duration)]
    pub upstream_connect_timeout: Duration,

    /// Spread calls over every address the upstream host resolves to, re-resolving and
    /// probing them (point the host at a Kubernetes headless Service); without it, one
    /// connection carries every call.
    #[arg(long, env = "UPSTREAM_LOAD_BALANCE")]
    pub upstream_load_balance: bool,

    /// How often the upstream host is re-resolved when load balancing.
    #[arg(long, env = "UPSTREAM_RESOLVE_INTERVAL", default_value = "5s", value_parser = parse_positive_duration)]
    pub upstream_resolve_interval: Duration,

    /// Retries, hedging and outlier ejection.
    #[command(flatten)]
    pub resilience: ResilienceOptions,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        Self {
            upstream_timeout: Duration::from_secs(1),
            upstream_connect_timeout: Duration::from_millis(500),
            upstream_load_balance: false,
            upstream_resolve_interval: Duration::from_secs(5),
            resilience: ResilienceOptions::default(),
        }
    }
}

impl UpstreamConfig {
    /// `host:port` with these timeouts.
    pub fn new(host: impl Into<String>, port: u16, timeouts: &UpstreamOptions) -> Self {
        Self {
            host: host.into(),
            port,
            connect_timeout: timeouts.upstream_connect_timeout,
            call_timeout: timeouts.upstream_timeout,
            tls: None,
            load_balance: timeouts.upstream_load_balance,
            resolve_interval: timeouts.upstream_resolve_interval,
            resilience: timeouts.resilience.clone(),
            policies: PolicyCell::default(),
        }
    }

    /// The same upstream reached over TLS (`Some`) or plaintext (`None`).
    pub fn with_tls(mut self, tls: Option<ClientTls>) -> Self {
        self.tls = tls;
        self
    }

    /// `host:port` with these timeouts and TLS settings, checked: fails if the TLS files cannot
    /// be read or the address cannot make a channel — at start-up, rather than on every call.
    /// `name` says which upstream, in the error.
    pub fn from_settings(
        name: &str,
        host: impl Into<String>,
        port: u16,
        options: &UpstreamOptions,
        tls: &UpstreamTlsSettings,
    ) -> Result<Self, UpstreamError> {
        let tls = tls.load().map_err(|source| UpstreamError::Tls {
            upstream: name.to_owned(),
            source,
        })?;
        let upstream = Self::new(host, port, options).with_tls(tls);
        upstream.own_endpoint()?;
        Ok(upstream)
    }

    /// The `http://host:port` URI, `https` under TLS (IPv6 literals bracketed).
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// A lazily connected channel to this upstream. Fails only on a malformed address.
    pub fn channel(&self, metrics: &Metrics) -> Result<GrpcChannel, UpstreamError> {
        self.channel_with_resolver(metrics, Arc::new(DnsResolver))
    }

    /// [`UpstreamConfig::channel`], resolving the host with `resolver` when load balancing.
    pub fn channel_with_resolver(
        &self,
        metrics: &Metrics,
        resolver: Arc<dyn Resolve>,
    ) -> Result<GrpcChannel, UpstreamError> {
        // The first channel made from this config (or a clone) makes the policies; the
        // channels of the other server threads share them.
        let policies = self
            .policies
            .get_or_init(|| Policies::new(&self.host, &self.resilience, metrics));
        let pool = Arc::new(policies.pool());
        if self.load_balance {
            let config = self.clone();
            let scheme = if self.tls.is_some() { "https" } else { "http" };
            keep_resolving(
                &pool,
                self.host.clone(),
                self.port,
                resolver,
                self.resolve_interval,
                move |addr: SocketAddr| config.endpoint(format!("{scheme}://{addr}")),
            );
        } else {
            pool.insert(None, self.own_endpoint()?.connect_lazy());
        }
        let channel = Attempts::new(pool, policies);
        let channel = ClientDeadlineLayer.layer(channel);
        let channel = GrpcClientMetricsLayer::new(metrics, &MethodTable::standard()).layer(channel);
        Ok(GrpcClientTraceLayer.layer(channel))
    }

    /// The endpoint at this upstream's own address (its host, not one of its addresses).
    fn own_endpoint(&self) -> Result<Endpoint, UpstreamError> {
        self.endpoint(self.uri())
            .map_err(|source| UpstreamError::Address {
                uri: self.uri(),
                source,
            })
    }

    /// An endpoint at `uri` with this upstream's timeouts and TLS (verifying the server as the
    /// host name even when `uri` holds one of its addresses).
    fn endpoint(&self, uri: String) -> Result<Endpoint, tonic::transport::Error> {
        let endpoint = Endpoint::from_shared(uri)?
            .connect_timeout(self.connect_timeout)
            .timeout(self.call_timeout + BACKSTOP_MARGIN)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT);
        match &self.tls {
            Some(tls) => tls.secure(endpoint, &self.host),
            None => Ok(endpoint),
        }
    }

    /// Wraps `message` in a request with this upstream's deadline and, if given, the caller's
    /// request id (so both sides log the same id).
    pub fn request<T>(&self, message: T, request_id: Option<&str>) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.call_timeout);
        if let Some(mut value) = request_id.and_then(|id| MetadataValue::try_from(id).ok()) {
            // Sent "never indexed": every call's id is new, so adding it to HPACK's header
            // table would only evict entries that do repeat, on both ends of the connection.
            value.set_sensitive(true);
            request.metadata_mut().insert(REQUEST_ID_HEADER, value);
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_cannot_make_a_channel_are_refused_at_start_up() {
        let options = UpstreamOptions::default();
        let tls = UpstreamTlsSettings {
            upstream_ca: Some("/nonexistent/ca.pem".into()),
            ..UpstreamTlsSettings::default()
        };
        let error = UpstreamConfig::from_settings("Recommendations", "recs", 1, &options, &tls)
            .unwrap_err();
        assert!(matches!(error, UpstreamError::Tls { .. }), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("TLS to Recommendations: cannot read /nonexistent/ca.pem"),
            "{error}"
        );

        let plaintext = UpstreamTlsSettings::default();
        let error =
            UpstreamConfig::from_settings("Factorial", "not a host", 1, &options, &plaintext)
                .unwrap_err();
        assert!(matches!(error, UpstreamError::Address { .. }), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("invalid address http://not a host:1"),
            "{error}"
        );
        assert!(
            UpstreamConfig::from_settings("Factorial", "fact", 1, &options, &plaintext).is_ok()
        );
    }

    #[test]
    fn zero_or_unreadable_upstream_durations_are_refused_at_start() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            upstream: UpstreamOptions,
        }
        let parse = |args: &[&str]| {
            <Cli as clap::Parser>::try_parse_from(
                std::iter::once("web").chain(args.iter().copied()),
            )
        };
        for flag in [
            "--upstream-timeout",
            "--upstream-connect-timeout",
            "--upstream-resolve-interval",
        ] {
            let error = parse(&[flag, "0s"]).err().unwrap().to_string();
            assert!(error.contains("must be more than zero"), "{flag}: {error}");
            let error = parse(&[flag, "banana"]).err().unwrap().to_string();
            assert!(
                error.contains(&format!("invalid value 'banana' for '{flag} <"))
                    && error.contains(
                        "not a duration: use a number with a unit, such as 250ms, 2s or 1m"
                    ),
                "{flag}: {error}"
            );
        }
        let cli = parse(&["--upstream-timeout", "250ms"]).unwrap();
        assert_eq!(cli.upstream.upstream_timeout, Duration::from_millis(250));
        assert_eq!(
            parse(&[]).unwrap().upstream,
            UpstreamOptions::default(),
            "the defaults are the documented ones"
        );
    }

    #[test]
    fn brackets_ipv6_literals() {
        let timeouts = UpstreamOptions::default();
        assert_eq!(
            UpstreamConfig::new("::1", 1, &timeouts).uri(),
            "http://[::1]:1"
        );
        assert_eq!(
            UpstreamConfig::new("recs", 2, &timeouts).uri(),
            "http://recs:2"
        );
    }
}
