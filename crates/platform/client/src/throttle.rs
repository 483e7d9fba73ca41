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
}
