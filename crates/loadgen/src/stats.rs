//! What a load test measures: an HDR histogram of latencies (of all requests, and of each
//! outcome apart: a shed call answered at once must not hide how long admitted calls took) and
//! the count of each kind of failure. Each client thread records into its own [`Recorder`] (no locks on the hot path);
//! the engine merges them at the end.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// Highest latency the histogram tells apart (longer ones are recorded as this): one hour.
const HIGHEST_NANOS: u64 = 3_600_000_000_000;
/// Three significant figures: 0.1% precision at every magnitude, as `wrk` and `ghz` report.
const SIGNIFICANT_FIGURES: u8 = 3;

/// Latencies and outcomes of the requests of one thread (or, merged, of a whole test).
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    latencies: Histogram<u64>,
    ok: u64,
    failures: HashMap<Failure, u64>,
    /// Latencies by outcome: `None` for success, else the failure.
    by_outcome: HashMap<Option<Failure>, Histogram<u64>>,
    reconnects: u64,
}

/// An empty histogram with the recorder's bounds.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NANOS, SIGNIFICANT_FIGURES)
        .expect("constant histogram bounds are valid")
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latencies: histogram(),
            ok: 0,
            failures: HashMap::new(),
            by_outcome: HashMap::new(),
            reconnects: 0,
        }
    }
}

impl Recorder {
    /// Records one finished request. Failed requests' latencies count too: a fast error is
    /// still an answer the client waited for.
    pub(crate) fn record(&mut self, latency: Duration, outcome: Result<(), Failure>) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latencies.saturating_record(nanos.max(1));
        self.by_outcome
            .entry(outcome.err())
            .or_insert_with(histogram)
            .saturating_record(nanos.max(1));
        match outcome {
            Ok(()) => self.ok += 1,
            Err(failure) => *self.failures.entry(failure).or_default() += 1,
        }
    }

    /// Adds reopened connections to the tally.
    pub(crate) fn add_reconnects(&mut self, count: u64) {
        self.reconnects += count;
    }

    /// Folds another thread's recorder into this one.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.latencies
            .add(&other.latencies)
            .expect("recorders share the same bounds");
        self.ok += other.ok;
        for (failure, count) in &other.failures {
            *self.failures.entry(*failure).or_default() += count;
        }
        for (outcome, latencies) in &other.by_outcome {
            self.by_outcome
                .entry(*outcome)
                .or_insert_with(histogram)
                .add(latencies)
                .expect("recorders share the same bounds");
        }
        self.reconnects += other.reconnects;
    }

    /// Successful requests.
    pub(crate) fn ok(&self) -> u64 {
        self.ok
    }

    /// Every recorded request.
    pub(crate) fn total(&self) -> u64 {
        self.latencies.len()
    }

    /// Reopened connections.
    pub(crate) fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// Failed requests by kind, named as in reports (`grpc UNAVAILABLE`, `http 503`).
    pub(crate) fn failures(&self) -> BTreeMap<String, u64> {
        self.failures
            .iter()
            .map(|(failure, count)| (failure.to_string(), *count))
            .collect()
    }

    /// The percentile summary.
    pub(crate) fn summary(&self) -> LatencySummary {
        summarize(&self.latencies)
    }

    /// The percentile summary of each outcome: `ok`, and each failure named as in reports.
    pub(crate) fn summary_by_outcome(&self) -> BTreeMap<String, LatencySummary> {
        self.by_outcome
            .iter()
            .map(|(outcome, latencies)| {
                let name = outcome.map_or_else(|| "ok".to_owned(), |failure| failure.to_string());
                (name, summarize(latencies))
            })
            .collect()
    }

    /// Points of the latency-by-percentile curve, evenly spaced in "nines" (0, 90, 99, 99.9%,
    /// ...) up to the percentile the sample size supports, and the maximum.
    pub(crate) fn curve(&self) -> Vec<CurvePoint> {
        let h = &self.latencies;
        if h.is_empty() {
            return Vec::new();
        }
        // Beyond 1 - 1/count a percentile is just the maximum again.
        let count = h.len() as f64;
        let max_nines = count.log10().min(6.0);
        let steps = (max_nines * 20.0).ceil() as u32;
        let mut points: Vec<CurvePoint> = (0..steps)
            .map(|step| {
                let nines = f64::from(step) / 20.0;
                let quantile = 1.0 - 10f64.powf(-nines);
                CurvePoint {
                    percentile: quantile * 100.0,
                    latency_us: micros(h.value_at_quantile(quantile)),
                }
            })
            .collect();
        points.push(CurvePoint {
            percentile: 100.0 * (1.0 - 10f64.powf(-max_nines)),
            latency_us: micros(h.max()),
        });
        points
    }
}

/// The percentile summary of `h`; all zeros when it is empty.
fn summarize(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    let at = |quantile: f64| micros(h.value_at_quantile(quantile));
    LatencySummary {
        min_us: micros(h.min()),
        mean_us: h.mean() / 1_000.0,
        p50_us: at(0.50),
        p90_us: at(0.90),
        p99_us: at(0.99),
        p999_us: at(0.999),
        max_us: micros(h.max()),
    }
}

fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1_000.0
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Fastest.
    pub min_us: f64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Slowest.
    pub max_us: f64,
}

/// One point of the latency-by-percentile curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Percentile, 0 to 100.
    pub percentile: f64,
    /// Latency at that percentile, in microseconds.
    pub latency_us: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn recorder(latencies_us: impl IntoIterator<Item = u64>) -> Recorder {
        let mut recorder = Recorder::default();
        for us in latencies_us {
            recorder.record(Duration::from_micros(us), Ok(()));
        }
        recorder
    }

    /// Within the histogram's 0.1% precision.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.001 + 0.001
    }

    #[test]
    fn percentiles_of_a_uniform_sample() {
        let summary = recorder(1..=10_000).summary();
        assert!(close(summary.min_us, 1.0), "{summary:?}");
        assert!(close(summary.p50_us, 5_000.0), "{summary:?}");
        assert!(close(summary.p90_us, 9_000.0), "{summary:?}");
        assert!(close(summary.p99_us, 9_900.0), "{summary:?}");
        assert!(close(summary.p999_us, 9_990.0), "{summary:?}");
        assert!(close(summary.max_us, 10_000.0), "{summary:?}");
        assert!(close(summary.mean_us, 5_000.5), "{summary:?}");
    }

    #[test]
    fn a_single_slow_request_shows_only_in_the_tail() {
        let summary = recorder(std::iter::repeat_n(100, 999).chain([50_000])).summary();
        assert!(close(summary.p50_us, 100.0));
        assert!(close(summary.p99_us, 100.0));
        assert!(close(summary.max_us, 50_000.0));
    }

    #[test]
    fn merging_equals_recording_in_one_place() {
        let mut merged = recorder(1..=500);
        let mut other = recorder(501..=1_000);
        other.record(
            Duration::from_micros(7),
            Err(Failure::Grpc(Code::Unavailable)),
        );
        other.add_reconnects(2);
        merged.merge(&other);
        let mut single = recorder(1..=1_000);
        single.record(
            Duration::from_micros(7),
            Err(Failure::Grpc(Code::Unavailable)),
        );
        assert_eq!(merged.summary(), single.summary());
        assert_eq!(merged.total(), 1_001);
        assert_eq!(merged.ok(), 1_000);
        assert_eq!(merged.reconnects(), 2);
        assert_eq!(
            merged.failures(),
            BTreeMap::from([("grpc UNAVAILABLE".to_owned(), 1)])
        );
    }

    #[test]
    fn counts_failures_by_kind() {
        let mut recorder = Recorder::default();
        for outcome in [
            Err(Failure::Http(503)),
            Err(Failure::Http(503)),
            Err(Failure::Timeout),
            Ok(()),
        ] {
            recorder.record(Duration::from_millis(1), outcome);
        }
        assert_eq!(recorder.ok(), 1);
        assert_eq!(recorder.total(), 4);
        assert_eq!(
            recorder.failures(),
            BTreeMap::from([("http 503".to_owned(), 2), ("timeout".to_owned(), 1)])
        );
    }

    #[test]
    fn keeps_each_outcomes_latencies_apart() {
        let shed = Err(Failure::Grpc(Code::ResourceExhausted));
        let mut recorder = Recorder::default();
        let mut other = Recorder::default();
        for _ in 0..100 {
            recorder.record(Duration::from_millis(20), Ok(()));
            other.record(Duration::from_micros(300), shed);
        }
        recorder.merge(&other);
        let by_outcome = recorder.summary_by_outcome();
        assert_eq!(
            by_outcome.keys().collect::<Vec<_>>(),
            ["grpc RESOURCE_EXHAUSTED", "ok"]
        );
        assert!(close(by_outcome["ok"].p99_us, 20_000.0));
        assert!(close(by_outcome["grpc RESOURCE_EXHAUSTED"].p99_us, 300.0));
        // Together, the fast refusals pull the median down to them.
        assert!(close(recorder.summary().p50_us, 300.0));
    }

    #[test]
    fn an_empty_test_has_zero_latencies_and_no_curve() {
        let recorder = Recorder::default();
        assert_eq!(recorder.summary(), LatencySummary::default());
        assert!(recorder.curve().is_empty());
    }

    #[test]
    fn the_curve_rises_and_stops_where_the_sample_does() {
        let curve = recorder(1..=1_000).curve();
        assert!(curve.windows(2).all(|w| w[0].percentile <= w[1].percentile));
        assert!(curve.windows(2).all(|w| w[0].latency_us <= w[1].latency_us));
        let last = curve.last().unwrap();
        assert!(close(last.latency_us, 1_000.0));
        // 1,000 samples support three nines, not more.
        assert!(close(last.percentile, 99.9), "{last:?}");
        assert!(close(curve[0].percentile, 0.0));
    }

    #[test]
    fn records_absurd_latencies_without_panicking() {
        let mut recorder = Recorder::default();
        recorder.record(Duration::from_secs(100_000), Ok(()));
        recorder.record(Duration::ZERO, Ok(()));
        assert_eq!(recorder.total(), 2);
        assert!(recorder.summary().max_us >= 3_600_000_000.0 * 0.999);
    }
}
