//! A server's limit on calls in progress, shared by the gRPC and HTTP load shedders
//! (`load_shed`, `http_load_shed`): one counter per server, shared by all its connections and
//! server threads, and the warning that says the server is shedding.
//!
//! An atomic counter rather than `tokio::sync::Semaphore::try_acquire_owned`: nothing ever waits
//! for a permit here (a call over the limit is refused, not queued), and a semaphore takes its
//! waiters' lock on every release, which every call on every core would contend for.
//!
//! Each refused call is counted in the metrics and given to the error log (at DEBUG, see
//! `error_log`): at twice a server's capacity that is thousands a second, and a log line each
//! would take from the calls it admits the very time shedding frees for them. So the shedder
//! says it is shedding here, at WARN, at most once per [`WARNING_INTERVAL`], with how many
//! calls it refused since it last said so.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The least time between two "shedding" warnings.
pub(crate) const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// How many calls a server has in progress, and how many it may have.
#[derive(Debug)]
pub(crate) struct CallLimit {
    in_progress: AtomicUsize,
    limit: usize,
    /// Calls refused since the last warning.
    refused: AtomicU64,
    /// When the last warning was logged.
    last_warning: Mutex<Option<Instant>>,
}

/// One admitted call's place under the limit, given back when this is dropped.
#[derive(Debug)]
pub(crate) struct Admitted(Arc<CallLimit>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::Relaxed);
    }
}

impl CallLimit {
    /// A limit of `limit` calls in progress (at least one).
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            in_progress: AtomicUsize::new(0),
            limit: limit.max(1),
            refused: AtomicU64::new(0),
            last_warning: Mutex::new(None),
        })
    }

    /// The limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// A place for one more call, unless `limit` calls are in progress. (A call refused here
    /// counts for an instant, so one arriving at the same time may be refused as well; that is
    /// only ever at the limit, where refusing is right anyway.)
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Admitted> {
        // Relaxed: the counter guards no other memory, it only counts.
        if self.in_progress.fetch_add(1, Ordering::Relaxed) < self.limit {
            return Some(Admitted(self.clone()));
        }
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
        self.refused();
        None
    }

    /// Counts a refusal and warns if it is time to (see the module docs).
    fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        // `try_lock`: a refusal never waits for another one's warning.
        let Ok(mut last) = self.last_warning.try_lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < WARNING_INTERVAL) {
            return;
        }
        *last = Some(now);
        let refused = self.refused.swap(0, Ordering::Relaxed);
        tracing::warn!(
            limit = self.limit,
            refused,
            "overloaded: calls refused at once while {} are in progress (the limit, \
             --max-concurrent-calls); {refused} refused since the last warning",
            self.limit
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_and_again_once_a_call_ends() {
        let limit = CallLimit::new(2);
        let first = limit.try_admit().expect("one of two");
        let _second = limit.try_admit().expect("two of two");
        assert!(limit.try_admit().is_none(), "a third is over the limit");
        assert!(limit.try_admit().is_none(), "refusing takes no place");
        drop(first);
        assert!(limit.try_admit().is_some(), "a place was given back");
    }

    #[test]
    fn a_limit_of_zero_still_admits_one_call() {
        let limit = CallLimit::new(0);
        assert_eq!(limit.limit(), 1);
        let _only = limit.try_admit().expect("one");
        assert!(limit.try_admit().is_none());
    }

    #[test]
    fn refusals_are_counted_until_the_next_warning() {
        let limit = CallLimit::new(1);
        let _busy = limit.try_admit();
        // The first refusal warns (and resets the count); the next ones wait for the interval.
        for _ in 0..3 {
            assert!(limit.try_admit().is_none());
        }
        assert_eq!(limit.refused.load(Ordering::Relaxed), 2);
    }
}
