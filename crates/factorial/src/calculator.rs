//! Where factorials are computed, so that big ones never stall small ones (the tutorial's
//! AsyncIO lesson, done with threads because the work is CPU-bound).
//!
//! - n ≤ [`INLINE_MAX_N`]: computed right on the async runtime. Even the full view costs under
//!   50 µs there (40 µs at n = 1000, release build), a pause the runtime absorbs like any other
//!   short handler, and less than queueing for a turn could add.
//! - larger n: computed on Tokio's blocking threads (`spawn_blocking`), at most `max_big_factorials` at a
//!   time (one per CPU core by default). Requests beyond that wait, without a thread, for a
//!   permit of a semaphore — so a burst of large requests queues instead of oversubscribing the
//!   CPU or starving the runtime, while small requests keep answering.
//!
//! A request cancelled (or past its deadline) while waiting for its turn never starts; one
//! already running finishes its computation (bounded by the cost of n = [`crate::DEFAULT_MAX_N`],
//! about 0.15 s in a release build) and its result is dropped.
//!
//! Two gauges show the queue: `factorial_computations_running` and
//! `factorial_computations_waiting`.

use std::num::NonZeroUsize;
use std::sync::Arc;

use bookstore_layers::Metrics;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::math::factorial;

/// The largest n computed inline on the async runtime (see the module docs and
/// `examples/cost_curve.rs` for the measurements behind it).
pub const INLINE_MAX_N: u64 = 1_000;

/// Which representations of n! to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// Big-endian bytes and base 10.
    Full,
    /// Big-endian bytes only (base 10 costs more than the factorial itself).
    BigEndianOnly,
}

/// n!, in the representations asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computed {
    /// The n.
    pub n: u64,
    /// n! as big-endian unsigned bytes, without leading zeros.
    pub big_endian: Vec<u8>,
    /// n! in base 10, if asked for.
    pub decimal: Option<String>,
}

impl Computed {
    fn new(n: u64, representation: Representation) -> Self {
        let value = factorial(n);
        let decimal = match representation {
            Representation::Full => Some(value.to_string()),
            Representation::BigEndianOnly => None,
        };
        Self {
            n,
            big_endian: value.to_bytes_be(),
            decimal,
        }
    }
}

/// Computes factorials up to a limit, big ones off the runtime under a concurrency limit.
/// Cheap to clone; clones share the limit.
#[derive(Clone, Debug)]
pub struct Calculator {
    max_n: u64,
    max_big_factorials: NonZeroUsize,
    permits: Arc<Semaphore>,
    running: Gauge,
    waiting: Gauge,
}

impl Calculator {
    /// Accepts n up to `max_n` and computes at most `max_big_factorials` large factorials at
    /// once.
    pub fn new(max_n: u64, max_big_factorials: NonZeroUsize) -> Self {
        Self {
            max_n,
            max_big_factorials,
            permits: Arc::new(Semaphore::new(max_big_factorials.get())),
            running: Gauge::default(),
            waiting: Gauge::default(),
        }
    }

    /// Exposes the queue gauges in `metrics`.
    pub fn register_metrics(&self, metrics: &Metrics) {
        metrics.register(
            "factorial_computations_running",
            "Large factorials being computed on blocking threads",
            self.running.clone(),
        );
        metrics.register(
            "factorial_computations_waiting",
            "Large factorials waiting for their turn",
            self.waiting.clone(),
        );
    }

    /// The largest n accepted.
    pub fn max_n(&self) -> u64 {
        self.max_n
    }

    /// How many large factorials may be computed at once.
    pub fn max_big_factorials(&self) -> NonZeroUsize {
        self.max_big_factorials
    }

    /// n!, or [`Error::AboveLimit`].
    pub async fn factorial(
        &self,
        n: u64,
        representation: Representation,
    ) -> Result<Computed, Error> {
        if n > self.max_n {
            return Err(Error::AboveLimit {
                n,
                max_n: self.max_n,
            });
        }
        if n <= INLINE_MAX_N {
            return Ok(Computed::new(n, representation));
        }
        let permit = {
            let _waiting = GaugeGuard::enter(&self.waiting);
            // The semaphore is never closed, so acquiring only fails if that changes.
            self.permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Error::ShuttingDown)?
        };
        let running = self.running.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _running = GaugeGuard::enter(&running);
            Computed::new(n, representation)
        });
        match task.await {
            Ok(computed) => Ok(computed),
            // A panic is re-raised here so the server's panic layer reports it as INTERNAL.
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(Error::ShuttingDown),
            },
        }
    }
}

/// Holds a gauge one higher for as long as it lives, however its scope ends (a cancelled
/// request drops its future mid-wait).
struct GaugeGuard<'a>(&'a Gauge);

impl<'a> GaugeGuard<'a> {
    fn enter(gauge: &'a Gauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::math::factorial;

    /// Large enough to take a while even in an optimised build, within the default limit.
    const SLOW_N: u64 = crate::DEFAULT_MAX_N;

    fn calculator(max_big_factorials: usize) -> Calculator {
        Calculator::new(
            crate::DEFAULT_MAX_N,
            NonZeroUsize::new(max_big_factorials).unwrap(),
        )
    }

    #[tokio::test]
    async fn both_representations_are_exact() {
        let calculator = calculator(1);
        for n in [0, 1, 20, INLINE_MAX_N, INLINE_MAX_N + 1, 5_000] {
            let full = calculator.factorial(n, Representation::Full).await.unwrap();
            let expected = factorial(n);
            assert_eq!(full.n, n);
            assert_eq!(full.big_endian, expected.to_bytes_be());
            assert_eq!(full.decimal, Some(expected.to_string()));
            let bytes = calculator
                .factorial(n, Representation::BigEndianOnly)
                .await
                .unwrap();
            assert_eq!((bytes.big_endian, bytes.decimal), (full.big_endian, None));
        }
    }

    #[tokio::test]
    async fn rejects_n_above_the_limit() {
        let calculator = Calculator::new(10, NonZeroUsize::MIN);
        assert!(calculator.factorial(10, Representation::Full).await.is_ok());
        let error = calculator
            .factorial(11, Representation::Full)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::AboveLimit { n: 11, max_n: 10 }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_requests_queue_for_their_turn_while_small_ones_answer_inline() {
        let calculator = calculator(1);
        let burst: Vec<_> = (0..3)
            .map(|_| {
                let calculator = calculator.clone();
                tokio::spawn(async move {
                    calculator
                        .factorial(SLOW_N, Representation::Full)
                        .await
                        .map(|c| c.n)
                })
            })
            .collect();
        // Wait until one large factorial runs and the other two queue behind it.
        while calculator.running.get() < 1 || calculator.waiting.get() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Never more running than the limit.
        assert_eq!(calculator.running.get(), 1);

        let small = calculator
            .factorial(20, Representation::Full)
            .await
            .unwrap();
        assert_eq!(small.decimal.as_deref(), Some("2432902008176640000"));
        // The small one answered while the burst was still queued: it did not wait its turn.
        assert!(burst.iter().all(|task| !task.is_finished()));
        assert!(calculator.waiting.get() >= 1);

        for task in burst {
            assert_eq!(task.await.unwrap().unwrap(), SLOW_N);
        }
        assert_eq!((calculator.running.get(), calculator.waiting.get()), (0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_request_leaves_the_queue() {
        let calculator = calculator(1);
        let first = tokio::spawn({
            let calculator = calculator.clone();
            async move { calculator.factorial(SLOW_N, Representation::Full).await }
        });
        while calculator.running.get() < 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let queued = tokio::spawn({
            let calculator = calculator.clone();
            async move { calculator.factorial(SLOW_N, Representation::Full).await }
        });
        while calculator.waiting.get() < 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        queued.abort();
        assert!(queued.await.unwrap_err().is_cancelled());
        assert_eq!(calculator.waiting.get(), 0);
        first.await.unwrap().unwrap();
        assert_eq!(calculator.permits.available_permits(), 1);
    }
}
