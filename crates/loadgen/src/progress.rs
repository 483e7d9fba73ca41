//! The progress line: once a second on stderr, requests per second, the measured requests done
//! and failed, the warm-up's apart, and how far through the warm-up or the test the run is; and
//! a last line when the run ends. Read from relaxed atomic counters the streams bump, so it
//! costs the hot path one uncontended increment or two per request.
//!
//! The measured counts are the report's: a request counts as measured exactly when the report
//! records it (`engine::stream_loop` does both in one place), so the last line's "requests"
//! and "failed" are the summary's. Warm-up requests are shown beside them, never in them.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::plan::{Plan, Stop};
use crate::schedule::{Schedule, Tickets};

/// Requests finished, counted by every thread for the progress line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Warm-up requests finished.
    warmup: AtomicU64,
    /// Of which failed.
    warmup_failed: AtomicU64,
    /// Measured requests finished: the report's `requests`.
    measured: AtomicU64,
    /// Of which failed: the report's failures.
    failed: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Warm-up requests finished.
    pub(crate) warmup: u64,
    /// Of which failed.
    pub(crate) warmup_failed: u64,
    /// Measured requests finished.
    pub(crate) measured: u64,
    /// Of which failed.
    pub(crate) failed: u64,
}

impl Counts {
    /// Requests finished, warm-up and measured.
    fn all(&self) -> u64 {
        self.warmup + self.measured
    }
}

impl Counters {
    /// Counts one finished request: `measured` if the report records it.
    pub(crate) fn finished(&self, measured: bool, ok: bool) {
        let (count, failed) = if measured {
            (&self.measured, &self.failed)
        } else {
            (&self.warmup, &self.warmup_failed)
        };
        count.fetch_add(1, Ordering::Relaxed);
        if !ok {
            failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What the counters say now.
    pub(crate) fn read(&self) -> Counts {
        Counts {
            warmup: self.warmup.load(Ordering::Relaxed),
            warmup_failed: self.warmup_failed.load(Ordering::Relaxed),
            measured: self.measured.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// Prints one line a second to stderr until every thread is done (`done` disconnects), then
/// a last line with the final counts.
pub(crate) fn report_progress(
    plan: &Plan,
    schedule: &Schedule,
    counters: &Counters,
    tickets: &Tickets,
    done: &mpsc::Receiver<()>,
) {
    let mut stderr = std::io::stderr().lock();
    let mut tick = schedule.start;
    let mut last = 0;
    loop {
        tick += Duration::from_secs(1);
        match done.recv_timeout(tick.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let counts = counters.read();
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
        let rate = counts.all() - last;
        let _ = writeln!(
            stderr,
            "{}",
            line(tick - schedule.start, &phase, Some(rate), counts)
        );
        last = counts.all();
    }
    let _ = writeln!(
        stderr,
        "{}",
        line(schedule.start.elapsed(), "done", None, counters.read())
    );
}

/// One progress line: time since the start, the phase, requests finished in the last second
/// (none on the last line), and the counts.
pub(crate) fn line(elapsed: Duration, phase: &str, rate: Option<u64>, counts: Counts) -> String {
    let rate = rate.map_or_else(|| " ".repeat(15), |rate| format!("{rate:>9} req/s"));
    let mut text = format!(
        "[{:>6.1}s] {phase:>7}  {rate}  {:>10} requests ({} failed)",
        elapsed.as_secs_f64(),
        counts.measured,
        counts.failed,
    );
    if counts.warmup > 0 {
        text.push_str(&format!(
            "  + {} warm-up ({} failed), not counted",
            counts.warmup, counts.warmup_failed
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_counted_apart_from_the_measured_requests() {
        let counters = Counters::default();
        for ok in [true, true, false] {
            counters.finished(false, ok);
        }
        for ok in [true, false, false, true, true] {
            counters.finished(true, ok);
        }
        let counts = counters.read();
        assert_eq!(
            counts,
            Counts {
                warmup: 3,
                warmup_failed: 1,
                measured: 5,
                failed: 2,
            }
        );
        let last = line(Duration::from_millis(2_500), "done", None, counts);
        assert!(last.starts_with("[   2.5s]    done  "), "{last}");
        assert!(
            last.ends_with(" 5 requests (2 failed)  + 3 warm-up (1 failed), not counted"),
            "{last}"
        );
        let warming = line(
            Duration::from_secs(1),
            "warm-up",
            Some(3),
            Counts::default(),
        );
        assert_eq!(
            warming,
            "[   1.0s] warm-up          3 req/s           0 requests (0 failed)"
        );
        // The counts line up whether or not a line has a rate.
        assert_eq!(last.find(" requests"), warming.find(" requests"));
    }
}
