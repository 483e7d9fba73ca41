//! A method's recent latency, as the one number hedging needs: its 95th percentile.
//!
//! Every successful attempt's latency lands in one of 156 logarithmic buckets (four per power
//! of two of microseconds, so a percentile is read within 25%), counted in atomics. After each
//! [`PERIOD`] holding at least [`MIN_SAMPLES`] samples, the attempt that notices computes the
//! percentile, publishes it, and starts the next period from zero — so the figure follows the
//! upstream as it speeds up or slows down, and reading it is one load.
//!
//! Written by hand: `hdrhistogram` records through `&mut self`, which would put a lock on every
//! call of every thread; this needs only `fetch_add`, and a few samples lost to a racing reset
//! do not move a percentile.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How long each period lasts at least.
pub(crate) const PERIOD: Duration = Duration::from_secs(1);
/// Samples a period needs before its percentile means anything.
pub(crate) const MIN_SAMPLES: u32 = 20;
/// Four buckets per power of two, for latencies up to 2⁴⁰ µs (12 days).
const BUCKETS: usize = 156;

/// The 95th percentile of one method's recent successful attempts.
#[derive(Debug)]
pub(crate) struct LatencyWindow {
    counts: [AtomicU32; BUCKETS],
    samples: AtomicU32,
    /// The current period's end, in nanoseconds since the pool's epoch.
    period_end: AtomicU64,
    /// The last published percentile in microseconds; 0 before the first.
    p95_micros: AtomicU64,
}

impl Default for LatencyWindow {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU32::new(0)),
            samples: AtomicU32::new(0),
            period_end: AtomicU64::new(0),
            p95_micros: AtomicU64::new(0),
        }
    }
}

impl LatencyWindow {
    /// Records one attempt's latency, `now` nanoseconds since the pool's epoch.
    pub(crate) fn record(&self, latency: Duration, now: u64) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket(micros)].fetch_add(1, Relaxed);
        let samples = self.samples.fetch_add(1, Relaxed) + 1;
        let end = self.period_end.load(Relaxed);
        if samples < MIN_SAMPLES || now < end {
            return;
        }
        let next = now + u64::try_from(PERIOD.as_nanos()).unwrap_or(u64::MAX);
        // One attempt publishes; the others carry on counting into the next period.
        if self
            .period_end
            .compare_exchange(end, next, Relaxed, Relaxed)
            .is_ok()
        {
            let counts: Vec<u32> = self.counts.iter().map(|c| c.swap(0, Relaxed)).collect();
            self.samples.store(0, Relaxed);
            if let Some(p95) = percentile(&counts, 95) {
                self.p95_micros.store(p95, Relaxed);
            }
        }
    }

    /// The last published 95th percentile, if a period has ended yet.
    pub(crate) fn p95(&self) -> Option<Duration> {
        match self.p95_micros.load(Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }
}

/// The bucket of a latency in microseconds: 0–3 alone, then four per power of two.
fn bucket(micros: u64) -> usize {
    let micros = micros.min((1 << 40) - 1);
    if micros < 4 {
        return micros as usize;
    }
    let msb = 63 - micros.leading_zeros() as usize;
    (msb - 1) * 4 + ((micros >> (msb - 2)) & 3) as usize
}

/// The smallest latency of bucket `index` (so bucket `i` holds `lower(i)..lower(i + 1)`).
fn lower(index: usize) -> u64 {
    if index < 4 {
        return index as u64;
    }
    let (msb, sub) = (index / 4 + 1, (index % 4) as u64);
    (4 + sub) << (msb - 2)
}

/// The upper edge of the bucket holding the `pct`-th percentile sample, in microseconds.
fn percentile(counts: &[u32], pct: u64) -> Option<u64> {
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if total == 0 {
        return None;
    }
    let rank = (total * pct).div_ceil(100);
    let mut seen = 0;
    counts.iter().enumerate().find_map(|(index, &count)| {
        seen += u64::from(count);
        (seen >= rank).then(|| lower(index + 1).max(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_cover_every_latency() {
        for micros in [0, 1, 3, 4, 5, 7, 8, 15, 16, 100, 1000, 123_456, 1 << 39] {
            let index = bucket(micros);
            assert!(
                lower(index) <= micros && micros < lower(index + 1),
                "{micros}"
            );
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert!((1..BUCKETS).all(|i| lower(i - 1) < lower(i)));
    }

    #[test]
    fn publishes_the_95th_percentile_once_a_period_has_enough_samples() {
        let window = LatencyWindow::default();
        let fast = Duration::from_micros(1000);
        let slow = Duration::from_millis(200);
        let second = PERIOD.as_nanos() as u64;
        for _ in 0..MIN_SAMPLES {
            window.record(fast, 0);
        }
        assert!(
            window.p95().is_some(),
            "the first period ends at its 20th sample"
        );
        // The second period: 95 fast calls and 5 slow ones; its end publishes them.
        for _ in 0..95 {
            window.record(fast, 1);
        }
        for _ in 0..4 {
            window.record(slow, 1);
        }
        window.record(slow, second);
        let p95 = window.p95().unwrap();
        assert!(
            (fast..=Duration::from_micros(1250)).contains(&p95),
            "the slowest 5% do not count: {p95:?}"
        );
        // The third period is all slow: the figure follows.
        for _ in 0..MIN_SAMPLES {
            window.record(slow, second + 1);
        }
        assert!(
            window.p95().unwrap() < slow,
            "not published before the period ends"
        );
        window.record(slow, 2 * second);
        let p95 = window.p95().unwrap();
        assert!(p95 >= slow, "{p95:?}");
    }

    #[test]
    fn nothing_is_published_from_too_few_samples() {
        let window = LatencyWindow::default();
        for _ in 0..MIN_SAMPLES - 1 {
            window.record(Duration::from_millis(1), u64::MAX);
        }
        assert_eq!(window.p95(), None);
    }
}
