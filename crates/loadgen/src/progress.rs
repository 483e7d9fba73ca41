//! The progress line: once a second on stderr, requests per second, requests done and failed,
//! and how far through the warm-up or the test the run is. Read from relaxed atomic counters the
//! streams bump, so it costs the hot path one uncontended increment per request.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::plan::{Plan, Stop};
use crate::schedule::{Schedule, Tickets};

/// Requests finished, counted by every thread for the progress line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Requests finished, warm-up included.
    completed: AtomicU64,
    /// Of which failed.
    failed: AtomicU64,
}

impl Counters {
    /// Counts one finished request.
    pub(crate) fn finished(&self, ok: bool) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Prints one line a second to stderr until every thread is done (`done` disconnects).
pub(crate) fn report_progress(
    plan: &Plan,
    schedule: &Schedule,
    counters: &Counters,
    tickets: &Tickets,
    done: &mpsc::Receiver<()>,
) {
    let mut stderr = std::io::stderr().lock();
    let mut tick = schedule.start;
    let mut last_completed = 0;
    loop {
        tick += Duration::from_secs(1);
        match done.recv_timeout(tick.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let completed = counters.completed.load(Ordering::Relaxed);
        let failed = counters.failed.load(Ordering::Relaxed);
        let seconds = (tick - schedule.start).as_secs();
        let phase = if tick <= schedule.measure_from {
            "warm-up".to_owned()
        } else {
            match plan.stop {
                Stop::After(duration) => format!(
                    "{:>3.0}%",
                    100.0 * (tick - schedule.measure_from).as_secs_f64()
                        / duration.as_secs_f64().max(f64::EPSILON)
                ),
                Stop::Count(count) => format!(
                    "{:>3.0}%",
                    100.0 * tickets.drawn().min(count) as f64 / count as f64
                ),
            }
        };
        let _ = writeln!(
            stderr,
            "[{seconds:>4}s] {phase:>7}  {:>9} req/s  {completed:>10} done  {failed} failed",
            completed - last_completed
        );
        last_completed = completed;
    }
}
