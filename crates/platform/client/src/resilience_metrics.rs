//! What the client's policies did, as Prometheus counters beside the `grpc_client_*` families:
//!
//! - `grpc_client_retries_total{grpc_service,grpc_method}`: attempts sent again after a
//!   retryable failure;
//! - `grpc_client_hedges_total{grpc_service,grpc_method}`: attempts sent while an earlier one
//!   had not answered within the hedging delay;
//! - `grpc_client_retries_throttled_total{grpc_service,grpc_method}`: retries and hedges not
//!   sent because the upstream's retry budget (gRFC A6 throttling) or hedge budget was spent;
//! - `grpc_client_endpoint_ejections_total{upstream}`: endpoints taken out of the pool as
//!   outliers.
//!
//! Attempts per call are `1 + (retries + hedges) / grpc_client_started_total`. Registered once
//! per upstream, in the `Metrics` of the first channel its config makes (a web app makes one
//! per server thread; they share these). A method's handles are resolved at its first retry
//! or hedge, so the hot path never builds a label set.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use bookstore_layers::Metrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    grpc_service: String,
    grpc_method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: String,
}

/// The counters of one channel.
#[derive(Debug)]
pub(crate) struct ResilienceFamilies {
    retries: Family<MethodLabels, Counter>,
    hedges: Family<MethodLabels, Counter>,
    throttled: Family<MethodLabels, Counter>,
    ejections: Family<UpstreamLabels, Counter>,
}

/// One method's counters.
#[derive(Clone, Debug, Default)]
pub(crate) struct MethodCounters {
    pub(crate) retries: Counter,
    pub(crate) hedges: Counter,
    pub(crate) throttled: Counter,
}

impl ResilienceFamilies {
    /// The families, registered in `metrics`.
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let families = Self {
            retries: Family::default(),
            hedges: Family::default(),
            throttled: Family::default(),
            ejections: Family::default(),
        };
        metrics.register(
            "grpc_client_retries",
            "Total number of call attempts sent again after a retryable failure (gRFC A6)",
            families.retries.clone(),
        );
        metrics.register(
            "grpc_client_hedges",
            "Total number of hedged attempts, sent while an earlier attempt had not answered",
            families.hedges.clone(),
        );
        metrics.register(
            "grpc_client_retries_throttled",
            "Total number of retries and hedges not sent because their budget was spent",
            families.throttled.clone(),
        );
        metrics.register(
            "grpc_client_endpoint_ejections",
            "Total number of upstream endpoints ejected from the pool after consecutive failures",
            families.ejections.clone(),
        );
        families
    }

    /// The counters of one method.
    pub(crate) fn method(&self, service: &str, method: &str) -> MethodCounters {
        let labels = MethodLabels {
            grpc_service: service.to_owned(),
            grpc_method: method.to_owned(),
        };
        MethodCounters {
            retries: self.retries.get_or_create(&labels).clone(),
            hedges: self.hedges.get_or_create(&labels).clone(),
            throttled: self.throttled.get_or_create(&labels).clone(),
        }
    }

    /// The ejection counter of one upstream.
    pub(crate) fn ejections(&self, upstream: &str) -> Counter {
        self.ejections
            .get_or_create(&UpstreamLabels {
                upstream: upstream.to_owned(),
            })
            .clone()
    }
}
