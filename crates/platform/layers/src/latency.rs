//! Latency histograms: the buckets every histogram here uses, and the trace exemplar each
//! bucket can carry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::exemplar::HistogramWithExemplars;
use prometheus_client::metrics::family::Family;

/// Latency buckets in seconds: finer than Prometheus' defaults at the low end, because a
/// healthy call here takes tens of microseconds.
const LATENCY_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A latency histogram whose buckets carry, as an OpenMetrics exemplar, the trace id of a
/// call that landed in them — so a slow bucket on a dashboard leads to a trace of a slow call.
pub(crate) type LatencyHistogram = HistogramWithExemplars<TraceExemplar>;

pub(crate) fn latency_histogram() -> LatencyHistogram {
    HistogramWithExemplars::new(LATENCY_BUCKETS.into_iter())
}

/// The label of a latency exemplar: the trace the observed call belongs to.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TraceExemplar {
    pub(crate) trace_id: String,
}

/// A family of latency histograms, by label set `L`.
pub(crate) type HistogramFamily<L> = Family<L, LatencyHistogram, fn() -> LatencyHistogram>;
