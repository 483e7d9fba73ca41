//! What every call to one upstream shares ([`Shared`]): its pool, its policies and their
//! budgets, and — for each idempotent unary method, the calls that may be retried and
//! hedged — a [`MethodPolicy`] with the method's latency window and counters.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bookstore_layers::{MethodTable, RpcKind};
use http::Response;
use tonic::Status;
use tonic::body::Body;

use crate::hedge::HedgeDelay;
use crate::latency_window::LatencyWindow;
use crate::outcome::Attempted;
use crate::policy::{ResilienceOptions, THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI};
use crate::pool::{Health, InFlight, Pool};
use crate::resilience_metrics::{MethodCounters, ResilienceFamilies};
use crate::retry::RetryPolicy;
use crate::throttle::{HedgeBudget, RetryThrottle};

/// One upstream's pool, policies and budgets.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pool: Arc<Pool>,
    pub(crate) upstream: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) hedge: HedgeDelay,
    pub(crate) throttle: RetryThrottle,
    pub(crate) hedges: HedgeBudget,
    pub(crate) families: ResilienceFamilies,
    /// The idempotent unary methods, by path: the calls that may be retried and hedged.
    pub(crate) resilient: HashMap<String, MethodPolicy>,
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

impl Shared {
    /// Calls to `upstream` through `pool`, by `options`, counted in `families`.
    pub(crate) fn new(
        upstream: String,
        pool: Arc<Pool>,
        options: &ResilienceOptions,
        families: ResilienceFamilies,
    ) -> Self {
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
            pool,
            upstream,
            retry: options.retry(),
            hedge: options.upstream_hedge_delay,
            throttle: RetryThrottle::new(THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI),
            hedges: HedgeBudget::default(),
            families,
            resilient,
        }
    }

    /// An attempt on `in_flight`'s endpoint was answered: the call's answer.
    pub(crate) fn answered(&self, in_flight: &InFlight, response: Response<Body>) -> Attempted {
        self.pool.record(in_flight.member(), Health::Answered);
        self.throttle.succeeded();
        Ok(response)
    }

    /// The answer when the pool has no endpoint.
    pub(crate) fn no_endpoint(&self) -> Response<Body> {
        Status::unavailable(format!(
            "no address of {} is answering probes",
            self.upstream
        ))
        .into_http()
    }
}
