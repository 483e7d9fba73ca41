//! Outlier ejection: an endpoint that keeps failing leaves the pool for a while.
//!
//! Probes (`balance`) notice an address that stops accepting connections within about a second;
//! they cannot notice one that accepts connections but fails or ignores calls. So every attempt's
//! outcome is recorded against its endpoint: after [`EjectionPolicy::after_failures`]
//! consecutive failures — a transport error, `UNAVAILABLE`, a shed call (`RESOURCE_EXHAUSTED`),
//! or an attempt outrun by a later hedge — the endpoint is ejected for a time that starts at
//! [`EjectionPolicy::base`] and doubles with each ejection in a row, up to
//! [`EjectionPolicy::max`] (Envoy's outlier detection, in its simplest useful form). Once it
//! has served well for as long as its last ejection lasted, the doubling starts over.
//!
//! The pool, which knows the other endpoints, decides whether an ejection may happen at all:
//! it never ejects its last endpoint in service (`Pool::record`).
//!
//! Written by hand: tower's balancer has no outlier detection, and tonic's uses tower's. Times
//! are nanoseconds since the pool's epoch, in atomics, so the hot path (a call that succeeds)
//! is two relaxed loads and takes no lock.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// When an endpoint is ejected, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EjectionPolicy {
    /// Consecutive failures that eject an endpoint; 0 never ejects.
    pub(crate) after_failures: u32,
    /// The first ejection's length.
    pub(crate) base: Duration,
    /// The longest ejection.
    pub(crate) max: Duration,
}

impl EjectionPolicy {
    /// How long the `nth` ejection in a row lasts (1-based): base, 2 × base, ... up to max.
    pub(crate) fn length(&self, nth: u32) -> Duration {
        let doublings = nth.saturating_sub(1).min(16);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// One endpoint's record of failures and ejections.
#[derive(Debug, Default)]
pub(crate) struct Outlier {
    consecutive_failures: AtomicU32,
    /// Ejections in a row (reset once the endpoint has served well for a while).
    ejections: AtomicU32,
    /// Until when the endpoint is out, in nanoseconds since the pool's epoch; 0 when it never was.
    ejected_until: AtomicU64,
    /// When an outrun attempt last counted as a failure (0: never).
    last_outrun: AtomicU64,
}

impl Outlier {
    /// Whether the endpoint is out at `now`.
    pub(crate) fn is_ejected(&self, now: u64) -> bool {
        now < self.ejected_until.load(Relaxed)
    }

    /// Until when the endpoint is out (0 if it never was).
    pub(crate) fn ejected_until(&self) -> u64 {
        self.ejected_until.load(Relaxed)
    }

    /// Whether an attempt outrun by a hedge at `now` counts as a failure: at most one per
    /// `window`, so that one stall, which outruns every call in flight at once, counts once,
    /// while an endpoint that stays silent keeps counting.
    pub(crate) fn outrun_counts(&self, now: u64, window: Duration) -> bool {
        let last = self.last_outrun.load(Relaxed);
        if last != 0 && now.saturating_sub(last) < nanos(window) {
            return false;
        }
        self.last_outrun
            .compare_exchange(last, now.max(1), Relaxed, Relaxed)
            .is_ok()
    }

    /// An attempt on the endpoint succeeded at `now`.
    pub(crate) fn succeeded(&self, now: u64, policy: &EjectionPolicy) {
        // Loads first: a write on every call would bounce the cache line between threads.
        if self.consecutive_failures.load(Relaxed) != 0 {
            self.consecutive_failures.store(0, Relaxed);
        }
        let ejections = self.ejections.load(Relaxed);
        if ejections != 0 {
            let back_since = self.ejected_until.load(Relaxed);
            let served_well_for = now.saturating_sub(back_since);
            if served_well_for >= nanos(policy.length(ejections)) {
                self.ejections.store(0, Relaxed);
            }
        }
    }

    /// An attempt on the endpoint failed at `now`. Returns how long it is now ejected for, if
    /// this failure ejected it. `may_eject` is asked only when the failures have reached the
    /// threshold; what it returns (the pool's lock, so that two endpoints cannot both be the
    /// last one out) is held until the ejection is in place.
    pub(crate) fn failed<Guard>(
        &self,
        now: u64,
        policy: &EjectionPolicy,
        may_eject: impl FnOnce() -> Option<Guard>,
    ) -> Option<Duration> {
        if policy.after_failures == 0 || self.is_ejected(now) {
            return None;
        }
        let failures = self.consecutive_failures.fetch_add(1, Relaxed) + 1;
        if failures < policy.after_failures {
            return None;
        }
        let _decided = may_eject()?;
        // Only the thread that resets the count ejects, so one burst of failures is one ejection.
        if self
            .consecutive_failures
            .compare_exchange(failures, 0, Relaxed, Relaxed)
            .is_err()
        {
            return None;
        }
        let nth = self.ejections.fetch_add(1, Relaxed) + 1;
        let length = policy.length(nth);
        self.ejected_until
            .store(now.saturating_add(nanos(length)), Relaxed);
        Some(length)
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: EjectionPolicy = EjectionPolicy {
        after_failures: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(5),
    };
    const SECOND: u64 = 1_000_000_000;

    fn fail(outlier: &Outlier, now: u64) -> Option<Duration> {
        outlier.failed(now, &POLICY, || Some(()))
    }

    #[test]
    fn ejects_after_consecutive_failures_only() {
        let outlier = Outlier::default();
        assert_eq!(fail(&outlier, 0), None);
        assert_eq!(fail(&outlier, 0), None);
        outlier.succeeded(0, &POLICY);
        assert_eq!(fail(&outlier, 0), None, "a success starts the count over");
        assert_eq!(fail(&outlier, 0), None);
        assert_eq!(fail(&outlier, 0), Some(Duration::from_secs(1)));
        assert!(outlier.is_ejected(SECOND - 1));
        assert!(!outlier.is_ejected(SECOND), "back after the ejection time");
    }

    #[test]
    fn the_ejection_time_doubles_while_it_keeps_failing_up_to_the_max() {
        let outlier = Outlier::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..5 {
            let length = (0..3).find_map(|_| fail(&outlier, now)).unwrap();
            lengths.push(length.as_secs());
            now += nanos(length);
        }
        assert_eq!(lengths, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn serving_well_for_as_long_as_the_last_ejection_starts_the_doubling_over() {
        let outlier = Outlier::default();
        (0..3).for_each(|_| _ = fail(&outlier, 0));
        (0..3).for_each(|_| _ = fail(&outlier, SECOND));
        // Out until 3 s (a 2 s ejection). Serving well for 1 s is not enough...
        outlier.succeeded(4 * SECOND, &POLICY);
        let third = (0..3).find_map(|_| fail(&outlier, 4 * SECOND)).unwrap();
        assert_eq!(third, Duration::from_secs(4));
        // ...out until 8 s; serving well for 4 s is.
        outlier.succeeded(12 * SECOND, &POLICY);
        let fresh = (0..3).find_map(|_| fail(&outlier, 12 * SECOND)).unwrap();
        assert_eq!(fresh, Duration::from_secs(1));
    }

    #[test]
    fn failures_while_ejected_do_not_extend_it_and_a_refusal_ejects_nothing() {
        let outlier = Outlier::default();
        (0..3).for_each(|_| _ = fail(&outlier, 0));
        for _ in 0..10 {
            assert_eq!(fail(&outlier, SECOND / 2), None);
        }
        assert!(!outlier.is_ejected(SECOND));

        let last_one = Outlier::default();
        for _ in 0..10 {
            assert_eq!(last_one.failed(0, &POLICY, || None::<()>), None);
        }
        assert!(!last_one.is_ejected(0), "the pool may refuse to eject");

        let never = EjectionPolicy {
            after_failures: 0,
            ..POLICY
        };
        let outlier = Outlier::default();
        for _ in 0..10 {
            assert_eq!(outlier.failed(0, &never, || Some(())), None);
        }
    }

    #[test]
    fn outruns_count_once_per_window() {
        let outlier = Outlier::default();
        let window = Duration::from_millis(10);
        assert!(outlier.outrun_counts(SECOND, window));
        assert!(!outlier.outrun_counts(SECOND + 1, window), "the same stall");
        assert!(!outlier.outrun_counts(SECOND + 9_999_999, window));
        assert!(
            outlier.outrun_counts(SECOND + 10_000_000, window),
            "still silent: counts"
        );
    }
}
