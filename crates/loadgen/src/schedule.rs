//! When requests are sent and which are measured: the closed loop's stop condition, and the open
//! loop's fixed schedule with the pacer thread that releases it.
//!
//! Closed loop (default): each stream sends its next request as soon as the previous one
//! returns; latency is send-to-response.
//!
//! Open loop (`--rate`): request *k* is due at `start + k / rate`, whatever happened before.
//! A pacer thread releases due requests as permits of a semaphore every `PACER_TICK`; a free
//! stream takes the next one. If it is already late because every stream was busy (the server
//! is slow), latency counts from when it was due, so the queueing the server caused is measured
//! and not hidden (no "coordinated omission"). If the stream had to wait for it, latency counts
//! from the actual send: the pacer's granularity is the client's artefact, not the server's.
//! (tokio's timer ticks in milliseconds: at 20,000 requests/s it would send bursts of 20, and
//! the server would be measured queueing the client's bursts.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::plan::{Plan, Stop};

/// How often the open-loop pacer releases the requests that have come due. `thread::sleep`
/// wakes within tens of microseconds of this on Linux, so requests leave within about this much
/// of their due time.
const PACER_TICK: Duration = Duration::from_micros(250);

/// When requests are sent and which are measured; the same for every thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// Load starts (warm-up first).
    pub(crate) start: Instant,
    /// Measurement starts.
    pub(crate) measure_from: Instant,
    /// Duration mode: no request is started at or after this.
    pub(crate) end: Option<Instant>,
    /// Count mode: how many requests are measured.
    count: Option<u64>,
    /// Open loop: requests per second.
    rate: Option<f64>,
}

/// The tickets every stream draws from, shared by all threads.
#[derive(Debug)]
pub(crate) struct Tickets {
    /// The next ticket: a request's number on the open-loop schedule, or, closed-loop with
    /// `--requests`, the number of measured requests started.
    next: AtomicU64,
    /// Open loop: one permit per request that has come due (released by the pacer thread).
    due: Semaphore,
}

impl Default for Tickets {
    fn default() -> Self {
        Self {
            next: AtomicU64::new(0),
            due: Semaphore::new(0),
        }
    }
}

impl Tickets {
    /// Tickets drawn so far.
    pub(crate) fn drawn(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

/// A request a stream may send now.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    /// Open loop, when the request was late: its due time, which its latency counts from.
    /// Otherwise latency counts from the send.
    pub(crate) origin: Option<Instant>,
    /// Whether the request counts (it is not warm-up).
    pub(crate) measured: bool,
}

impl Schedule {
    /// The schedule of `plan`, starting at `start`.
    pub(crate) fn new(start: Instant, plan: &Plan) -> Self {
        let measure_from = start + plan.warmup;
        let (end, count) = match plan.stop {
            Stop::After(duration) => (Some(measure_from + duration), None),
            Stop::Count(count) => (None, Some(count)),
        };
        Self {
            start,
            measure_from,
            end,
            count,
            rate: plan.rate,
        }
    }

    /// The next request for a stream that became free at `free_at` (waiting for it to come due,
    /// open loop), or `None` once the test is over.
    pub(crate) async fn next(&self, tickets: &Tickets, free_at: Instant) -> Option<Slot> {
        match self.rate {
            None => {
                if self.end.is_some_and(|end| free_at >= end) {
                    return None;
                }
                let measured = free_at >= self.measure_from;
                if let Some(count) = self.count.filter(|_| measured)
                    && tickets.next.fetch_add(1, Ordering::Relaxed) >= count
                {
                    return None;
                }
                Some(Slot {
                    origin: None,
                    measured,
                })
            }
            Some(rate) => {
                match tickets.due.acquire().await {
                    Ok(permit) => permit.forget(),
                    Err(_) => return None,
                }
                let ticket = tickets.next.fetch_add(1, Ordering::Relaxed);
                let due = self.due(ticket, rate);
                let first_measured = self.first_measured_ticket(rate);
                let past_the_end = match (self.end, self.count) {
                    (Some(end), _) => due >= end,
                    (None, Some(count)) => ticket >= first_measured + count,
                    (None, None) => true,
                };
                if past_the_end {
                    return None;
                }
                // Waited for the permit: measure from the send. Was busy when it came due:
                // measure from the due time.
                Some(Slot {
                    origin: if due >= free_at { None } else { Some(due) },
                    measured: ticket >= first_measured,
                })
            }
        }
    }

    /// When open-loop request `ticket` is due.
    fn due(&self, ticket: u64, rate: f64) -> Instant {
        self.start + Duration::from_secs_f64(ticket as f64 / rate)
    }

    /// The first open-loop ticket due after the warm-up (the tolerance keeps float rounding
    /// from moving a ticket due exactly at the boundary).
    fn first_measured_ticket(&self, rate: f64) -> u64 {
        let warmup = (self.measure_from - self.start).as_secs_f64();
        (warmup * rate - 1e-9).ceil().max(0.0) as u64
    }
}

/// The open-loop pacer: every `PACER_TICK`, releases a permit for each request that has come
/// due; after the last one, releases one more per stream so that every stream draws a ticket
/// past the end and stops.
pub(crate) fn pace(schedule: &Schedule, rate: f64, streams: usize, tickets: &Tickets) {
    let last = match (schedule.end, schedule.count) {
        // Tickets due before the end: those with k / rate < end - start.
        (Some(end), _) => ((end - schedule.start).as_secs_f64() * rate - 1e-9).ceil() as u64,
        (None, Some(count)) => schedule.first_measured_ticket(rate) + count,
        (None, None) => 0,
    };
    let mut released = 0_u64;
    while released < last {
        let elapsed = schedule.start.elapsed().as_secs_f64();
        let due = ((elapsed * rate).floor() as u64 + 1).min(last);
        if due > released {
            tickets
                .due
                .add_permits(usize::try_from(due - released).unwrap_or(usize::MAX));
            released = due;
        }
        thread::sleep(PACER_TICK);
    }
    tickets.due.add_permits(streams);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetSpec;

    fn plan(rate: Option<f64>, stop: Stop) -> Plan {
        Plan {
            target: TargetSpec::health("http://127.0.0.1:1", "").unwrap(),
            label: "t".into(),
            connections: 1,
            concurrency: 1,
            threads: 1,
            rate,
            stop,
            warmup: Duration::from_millis(250),
            timeout: Duration::from_secs(1),
            progress: false,
        }
    }

    #[test]
    fn the_open_loop_schedule_spaces_requests_evenly() {
        let schedule = Schedule::new(Instant::now(), &plan(Some(1000.0), Stop::Count(10)));
        let rate = schedule.rate.unwrap();
        assert_eq!(schedule.due(0, rate), schedule.start);
        assert_eq!(
            schedule.due(1500, rate) - schedule.start,
            Duration::from_millis(1500)
        );
        // 250 ms of warm-up at 1,000/s: tickets 0..250 are warm-up, 250 is the first measured.
        assert_eq!(schedule.first_measured_ticket(rate), 250);
        assert!(schedule.due(249, rate) < schedule.measure_from);
    }

    #[test]
    fn the_first_measured_ticket_rounds_up() {
        // 250 ms at 3/s: due times 0, 333, ... ms; the first at or after 250 ms is ticket 1.
        let schedule = Schedule::new(Instant::now(), &plan(Some(3.0), Stop::Count(1)));
        assert_eq!(schedule.first_measured_ticket(3.0), 1);
    }

    #[test]
    fn duration_mode_ends_after_warmup_plus_duration() {
        let start = Instant::now();
        let schedule = Schedule::new(start, &plan(None, Stop::After(Duration::from_secs(2))));
        assert_eq!(schedule.end, Some(start + Duration::from_millis(2250)));
        assert_eq!(schedule.count, None);
    }

    #[tokio::test]
    async fn the_closed_loop_stops_after_the_measured_count() {
        let start = Instant::now() - Duration::from_secs(1);
        let schedule = Schedule::new(start, &plan(None, Stop::Count(2)));
        let tickets = Tickets::default();
        // Still in the warm-up: not measured, no ticket drawn.
        let warming = schedule.next(&tickets, start).await.unwrap();
        assert!(!warming.measured && warming.origin.is_none());
        assert_eq!(tickets.drawn(), 0);
        let now = Instant::now();
        assert!(schedule.next(&tickets, now).await.unwrap().measured);
        assert!(schedule.next(&tickets, now).await.unwrap().measured);
        assert!(schedule.next(&tickets, now).await.is_none());
    }

    #[tokio::test]
    async fn a_late_open_loop_request_counts_from_its_due_time() {
        let start = Instant::now() - Duration::from_secs(1);
        let schedule = Schedule::new(start, &plan(Some(1000.0), Stop::Count(10)));
        let tickets = Tickets::default();
        tickets.due.add_permits(1);
        // Ticket 0 was due at the start, a second ago: a warm-up request, measured from then.
        let slot = schedule.next(&tickets, Instant::now()).await.unwrap();
        assert_eq!(slot.origin, Some(start));
        assert!(!slot.measured);
        tickets.due.close();
        assert!(schedule.next(&tickets, Instant::now()).await.is_none());
    }
}
