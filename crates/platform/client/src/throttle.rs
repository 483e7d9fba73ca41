//! Retry throttling as gRPC's retry design specifies it (gRFC A6): a token bucket per upstream,
//! so that retries and hedges cannot multiply an outage.
//!
//! The bucket holds up to `max_tokens` and starts full. Every attempt that fails with a
//! retryable status (or no status at all: a transport failure) takes one token; every attempt
//! answered otherwise gives back `token_ratio`. While the bucket holds `max_tokens / 2` or
//! less, no retry and no hedge is sent: calls fail (or wait for the attempt they have) as if
//! there were no retry policy, until successes refill it. With A6's example values (10 tokens,
//! ratio 0.1) an upstream failing every call gets at most a handful of retries before they
//! stop, and a healthy one never notices the bucket.
//!
//! Tokens are kept in thousandths, as A6 says (three decimal places), in one atomic.
//!
//! A6 throttles failures only; a hedge answers slowness, which a failure budget never sees. So
//! hedges have a budget of their own, [`HedgeBudget`]: at most one hedge per
//! [`CALLS_PER_HEDGE`] calls over time (with a burst of [`HEDGE_BURST`]). On a healthy upstream
//! an `auto` delay hedges about one call in twenty, well within it; when the whole upstream
//! slows down (overload), every call is late, and hedging them all would double the load on
//! the upstream least able to take it.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Thousandths of a token per token.
const MILLI: u32 = 1000;

/// One upstream's retry budget.
#[derive(Debug)]
pub(crate) struct RetryThrottle {
    /// The bucket, in thousandths of a token.
    tokens: AtomicU32,
    max: u32,
    ratio: u32,
}

impl RetryThrottle {
    /// A full bucket of `max_tokens`, refilled by `token_ratio_milli` thousandths per success.
    pub(crate) fn new(max_tokens: u32, token_ratio_milli: u32) -> Self {
        let max = max_tokens.saturating_mul(MILLI);
        Self {
            tokens: AtomicU32::new(max),
            max,
            ratio: token_ratio_milli,
        }
    }

    /// Whether a retry or hedge may be sent now.
    pub(crate) fn allows(&self) -> bool {
        self.tokens.load(Relaxed) > self.max / 2
    }

    /// An attempt failed with a retryable status.
    pub(crate) fn failed(&self) {
        _ = self.tokens.fetch_update(Relaxed, Relaxed, |tokens| {
            Some(tokens.saturating_sub(MILLI))
        });
    }

    /// An attempt was answered with a status that is not retryable (most often OK).
    pub(crate) fn succeeded(&self) {
        // A load first: on a healthy upstream the bucket is full, and a write on every call
        // would bounce its cache line between threads.
        if self.tokens.load(Relaxed) < self.max {
            _ = self.tokens.fetch_update(Relaxed, Relaxed, |tokens| {
                Some(tokens.saturating_add(self.ratio).min(self.max))
            });
        }
    }

    /// Tokens left, in thousandths (for tests).
    #[cfg(test)]
    fn milli_tokens(&self) -> u32 {
        self.tokens.load(Relaxed)
    }
}

/// Calls that earn one hedge.
pub(crate) const CALLS_PER_HEDGE: u32 = 10;
/// Hedges that may go out at once, when the budget is full.
pub(crate) const HEDGE_BURST: u32 = 10;

/// One upstream's hedging budget, in thousandths of a hedge.
#[derive(Debug)]
pub(crate) struct HedgeBudget {
    tokens: AtomicU32,
}

impl Default for HedgeBudget {
    fn default() -> Self {
        Self {
            tokens: AtomicU32::new(HEDGE_BURST * MILLI),
        }
    }
}

impl HedgeBudget {
    /// A call was made: it earns a fraction of a hedge.
    pub(crate) fn earn(&self) {
        let max = HEDGE_BURST * MILLI;
        // A load first: the budget is full almost always, and a write per call would bounce
        // its cache line between threads.
        if self.tokens.load(Relaxed) < max {
            _ = self.tokens.fetch_update(Relaxed, Relaxed, |tokens| {
                Some((tokens + MILLI / CALLS_PER_HEDGE).min(max))
            });
        }
    }

    /// Takes one hedge from the budget, if it holds one.
    pub(crate) fn spend(&self) -> bool {
        self.tokens
            .fetch_update(Relaxed, Relaxed, |tokens| tokens.checked_sub(MILLI))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_at_half_the_bucket_and_resume_as_successes_refill_it() {
        let throttle = RetryThrottle::new(10, 100);
        assert!(throttle.allows(), "a new bucket is full");
        for _ in 0..4 {
            throttle.failed();
        }
        assert!(throttle.allows(), "6 tokens left, more than half");
        throttle.failed();
        assert!(!throttle.allows(), "5 tokens is half: no more retries");
        throttle.succeeded();
        assert_eq!(throttle.milli_tokens(), 5100);
        assert!(throttle.allows(), "5.1 tokens is more than half again");
    }

    #[test]
    fn the_bucket_stays_within_zero_and_its_size() {
        let throttle = RetryThrottle::new(10, 100);
        for _ in 0..100 {
            throttle.failed();
        }
        assert_eq!(throttle.milli_tokens(), 0);
        for _ in 0..1000 {
            throttle.succeeded();
        }
        assert_eq!(throttle.milli_tokens(), 10_000);
    }

    #[test]
    fn hedges_are_limited_to_a_burst_then_one_per_ten_calls() {
        let budget = HedgeBudget::default();
        assert_eq!((0..100).filter(|_| budget.spend()).count(), 10, "the burst");
        for _ in 0..50 {
            budget.earn();
        }
        assert_eq!((0..100).filter(|_| budget.spend()).count(), 5);
        for _ in 0..10_000 {
            budget.earn();
        }
        assert_eq!(
            (0..100).filter(|_| budget.spend()).count(),
            10,
            "never past the burst"
        );
    }
}
