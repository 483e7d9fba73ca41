//! What gRPC's retry design (gRFC A6) decides about one call: which outcomes may be tried
//! again, how many attempts a call may make, and how long to wait before the next one.
//!
//! - **Retryable**: an attempt that got no response at all (a transport failure: refused,
//!   reset, closed), `UNAVAILABLE` (the server is not serving, draining, or unreachable), or
//!   `RESOURCE_EXHAUSTED` (the server shed the call: `--max-concurrent-calls`). Anything else —
//!   an answer, or an error the service meant, such as `NOT_FOUND` — is committed: handed to the
//!   caller as it is. An attempt whose response headers arrived is committed too (A6: nothing of
//!   the response may have reached the caller).
//! - **Only idempotent methods** are retried or hedged: those the protos mark
//!   `option idempotency_level = NO_SIDE_EFFECTS` (or `IDEMPOTENT`), with one request message.
//!   Other calls are sent once.
//! - **Backoff**: the n-th retry waits a random time in `[0, min(initial × 2ⁿ⁻¹, max))` —
//!   A6's "full jitter", so clients that failed together do not retry together.

use std::time::Duration;

use rand::Rng as _;
use tonic::Code;

/// How many attempts a call may make, and how long it waits between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts per call, the first included (A6's `maxAttempts`); 1 sends every call once.
    pub(crate) max_attempts: u32,
    /// The first retry's backoff bound.
    pub(crate) initial_backoff: Duration,
    /// The largest backoff bound.
    pub(crate) max_backoff: Duration,
}

/// A6 caps `maxAttempts` at 5; more would only multiply load on a struggling upstream.
pub(crate) const MAX_ATTEMPTS_CAP: u32 = 5;

impl RetryPolicy {
    /// The bound of the `retry`-th retry's backoff (1-based): the initial backoff doubled for
    /// each retry before it, at most the maximum.
    pub(crate) fn backoff_bound(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// How long to wait before the `retry`-th retry: uniformly random below its bound.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let bound = self.backoff_bound(retry);
        if bound.is_zero() {
            return bound;
        }
        rand::rng().random_range(Duration::ZERO..bound)
    }
}

/// Whether an attempt that ended with `code` may be tried again (on another endpoint).
pub(crate) fn is_retryable(code: Code) -> bool {
    matches!(code, Code::Unavailable | Code::ResourceExhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(25),
        max_backoff: Duration::from_millis(250),
    };

    #[test]
    fn backoff_bounds_double_up_to_the_maximum() {
        let bounds: Vec<u128> = (1..=6)
            .map(|retry| POLICY.backoff_bound(retry).as_millis())
            .collect();
        assert_eq!(bounds, [25, 50, 100, 200, 250, 250]);
        assert_eq!(POLICY.backoff_bound(u32::MAX), POLICY.max_backoff);
    }

    #[test]
    fn backoffs_are_jittered_below_their_bound() {
        let waits: Vec<Duration> = (0..200).map(|_| POLICY.backoff(2)).collect();
        assert!(waits.iter().all(|wait| *wait < Duration::from_millis(50)));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 100,
            "jitter spreads the retries: {distinct:?}"
        );
        let no_wait = RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..POLICY
        };
        assert_eq!(no_wait.backoff(1), Duration::ZERO);
    }

    #[test]
    fn only_statuses_that_say_the_call_was_not_served_are_retryable() {
        assert!(is_retryable(Code::Unavailable));
        assert!(is_retryable(Code::ResourceExhausted));
        for code in [
            Code::Ok,
            Code::NotFound,
            Code::InvalidArgument,
            Code::DeadlineExceeded,
            Code::Internal,
            Code::Cancelled,
        ] {
            assert!(!is_retryable(code), "{code:?}");
        }
    }
}
