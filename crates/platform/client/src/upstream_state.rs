//! What the calls to one upstream share: [`Policies`], once per process — the retry and
//! hedging policies, their budgets (gRFC A6's token bucket is per upstream, not per thread),
//! the endpoints' failure records, and for each idempotent unary method (the calls that may be
//! retried and hedged) a [`MethodPolicy`] with its latency window and counters — and
//! [`Shared`], once per channel: those policies and the channel's own pool of connections.
//!
//! A web app makes one channel per server thread (each on its own runtime); [`PolicyCell`],
//! inside `UpstreamConfig` and shared by its clones, makes their policies one.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bookstore_layers::{MethodTable, Metrics, RpcKind};
use http::Response;
use prometheus_client::metrics::counter::Counter;
use tonic::Status;
use tonic::body::Body;

use crate::hedge::HedgeDelay;
use crate::latency_window::LatencyWindow;
use crate::outcome::Attempted;
use crate::outlier::EjectionPolicy;
use crate::policy::{ResilienceOptions, THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI};
use crate::pool::{Health, InFlight, Outliers, Pool};
use crate::resilience_metrics::{MethodCounters, ResilienceFamilies};
use crate::retry::RetryPolicy;
use crate::throttle::{HedgeBudget, RetryThrottle};

/// One channel's pool, and the process's policies for its upstream.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pool: Arc<Pool>,
    pub(crate) policies: Arc<Policies>,
}

/// The process's policies, budgets and endpoint records for one upstream.
#[derive(Debug)]
pub(crate) struct Policies {
    pub(crate) upstream: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) hedge: HedgeDelay,
    pub(crate) throttle: RetryThrottle,
    pub(crate) hedges: HedgeBudget,
    pub(crate) families: ResilienceFamilies,
    /// The idempotent unary methods, by path: the calls that may be retried and hedged.
    pub(crate) resilient: HashMap<String, MethodPolicy>,
    pub(crate) outliers: Arc<Outliers>,
    pub(crate) ejection: EjectionPolicy,
    pub(crate) ejections: Counter,
}

/// The [`Policies`] of one upstream, made by its first channel and shared by the channels its
/// clones make. State, not configuration: any two compare equal.
#[derive(Clone, Debug, Default)]
pub struct PolicyCell(Arc<OnceLock<Arc<Policies>>>);

impl PartialEq for PolicyCell {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for PolicyCell {}

impl PolicyCell {
    /// The policies, made with `make` by the first channel to ask.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> Policies) -> Arc<Policies> {
        self.0.get_or_init(|| Arc::new(make())).clone()
    }
}

/// One resilient method's state.
#[derive(Debug)]
pub(crate) struct MethodPolicy {
    pub(crate) service: Arc<str>,
    pub(crate) method: Arc<str>,
    pub(crate) latency: LatencyWindow,
    /// Made at the first retry, hedge or throttled one: a method that never needs them shows
    /// no series.
    pub(crate) counters: OnceLock<MethodCounters>,
}

impl Policies {
    /// The policies of calls to `upstream` by `options`, counted in `metrics`.
    pub(crate) fn new(upstream: &str, options: &ResilienceOptions, metrics: &Metrics) -> Self {
        let families = ResilienceFamilies::register(metrics);
        let methods = MethodTable::standard();
        let resilient = methods
            .iter()
            .filter(|(path, info)| info.kind == RpcKind::Unary && methods.is_idempotent(path))
            .map(|(path, info)| {
                let policy = MethodPolicy {
                    service: info.service.clone(),
                    method: info.method.clone(),
                    latency: LatencyWindow::default(),
                    counters: OnceLock::new(),
                };
                (path.to_owned(), policy)
            })
            .collect();
        Self {
            upstream: upstream.to_owned(),
            retry: options.retry(),
            hedge: options.upstream_hedge_delay,
            throttle: RetryThrottle::new(THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI),
            hedges: HedgeBudget::default(),
            ejections: families.ejections(upstream),
            families,
            resilient,
            outliers: Arc::default(),
            ejection: options.ejection(),
        }
    }

    /// An empty pool of connections for one channel, sharing these endpoint records.
    pub(crate) fn pool(&self) -> Pool {
        Pool::new(
            self.upstream.clone(),
            self.outliers.clone(),
            self.ejection,
            self.ejections.clone(),
        )
    }
}

impl Shared {
    /// An attempt on `in_flight`'s endpoint was answered: the call's answer.
    pub(crate) fn answered(&self, in_flight: &InFlight, response: Response<Body>) -> Attempted {
        self.pool.record(in_flight.member(), Health::Answered);
        self.policies.throttle.succeeded();
        Ok(response)
    }

    /// The answer when the pool has no endpoint.
    pub(crate) fn no_endpoint(&self) -> Response<Body> {
        Status::unavailable(format!(
            "no address of {} is answering probes",
            self.policies.upstream
        ))
        .into_http()
    }
}
