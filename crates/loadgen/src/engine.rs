//! Runs a [`Plan`]: client threads, each with its own single-threaded tokio runtime and its share
//! of the connections (like `wrk -t` or `h2load -t`), and on each connection `concurrency`
//! streams that send requests one after another.
//!
//! Why this shape: the client shares a small machine with the server under test, so it must
//! spend as little CPU per request as it can. A single-threaded runtime per thread needs no work
//! stealing, no cross-thread wake-ups and no locks: latencies go into a per-thread histogram
//! behind a `RefCell`, and the only shared state is a few relaxed atomic counters for the
//! progress line and the request schedule.
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

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::LocalSet;

use crate::config::{Plan, Stop};
use crate::error::Error;
use crate::stats::Recorder;
use crate::target::{Caller, Failure, TargetSpec};

/// How often the open-loop pacer releases the requests that have come due. `thread::sleep`
/// wakes within tens of microseconds of this on Linux, so requests leave within about this much
/// of their due time.
const PACER_TICK: Duration = Duration::from_micros(250);

/// Counters every thread bumps and the progress line reads.
#[derive(Debug)]
struct Shared {
    /// Requests finished, warm-up included.
    completed: AtomicU64,
    /// Of which failed.
    failed: AtomicU64,
    /// The next ticket: a request's number on the open-loop schedule, or, closed-loop with
    /// `--requests`, the number of measured requests started.
    tickets: AtomicU64,
    /// Open loop: one permit per request that has come due (released by the pacer thread).
    due: Semaphore,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            tickets: AtomicU64::new(0),
            due: Semaphore::new(0),
        }
    }
}

/// When requests are sent and which are measured; the same for every thread.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    /// Load starts (warm-up first).
    start: Instant,
    /// Measurement starts.
    measure_from: Instant,
    /// Duration mode: no request is started at or after this.
    end: Option<Instant>,
    /// Count mode: how many requests are measured.
    count: Option<u64>,
    /// Open loop: requests per second.
    rate: Option<f64>,
}

impl Schedule {
    fn new(start: Instant, plan: &Plan) -> Self {
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

/// What one run measured.
#[derive(Debug)]
pub struct RunResult {
    /// Latencies and outcomes of the measured requests.
    pub recorder: Recorder,
    /// From the start of measurement to the last measured response.
    pub elapsed: Duration,
    /// CPU the whole loadgen process used during the run (user + system), if the platform
    /// says (Linux `/proc`).
    pub client_cpu: Option<Duration>,
}

/// Runs `plan` to the end, printing a progress line every second unless it is quiet.
pub fn run(plan: &Plan) -> Result<RunResult, Error> {
    let shared = Arc::new(Shared::default());
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), Error>>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut start_txs = Vec::with_capacity(plan.threads);
    let mut threads = Vec::with_capacity(plan.threads);
    for index in 0..plan.threads {
        let (start_tx, start_rx) = mpsc::channel::<Schedule>();
        start_txs.push(start_tx);
        let connections = (index..plan.connections).step_by(plan.threads).count();
        let (plan, shared, ready_tx, done_tx) = (
            plan.clone(),
            shared.clone(),
            ready_tx.clone(),
            done_tx.clone(),
        );
        let thread = thread::Builder::new()
            .name(format!("loadgen-{index}"))
            .spawn(move || {
                let result = client_thread(&plan, connections, &shared, &ready_tx, &start_rx);
                drop(done_tx);
                result
            })
            .map_err(Error::Thread)?;
        threads.push(thread);
    }
    drop((ready_tx, done_tx));

    let mut failure = None;
    for _ in 0..plan.threads {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                failure.get_or_insert(error);
            }
            Err(_) => {
                failure.get_or_insert(Error::Panicked("while connecting".into()));
            }
        }
    }
    if let Some(error) = failure {
        // Dropping the start senders tells every connected thread to give up.
        drop(start_txs);
        for thread in threads {
            let _ = thread.join();
        }
        return Err(error);
    }

    let cpu_before = process_cpu();
    let schedule = Schedule::new(Instant::now(), plan);
    for start_tx in start_txs {
        // A thread that died already is reported when joined.
        let _ = start_tx.send(schedule);
    }
    let pacer = match plan.rate {
        Some(rate) => {
            let (shared, streams) = (shared.clone(), plan.connections * plan.concurrency);
            Some(
                thread::Builder::new()
                    .name("loadgen-pacer".into())
                    .spawn(move || pace(&schedule, rate, streams, &shared))
                    .map_err(Error::Thread)?,
            )
        }
        None => None,
    };
    if plan.progress {
        report_progress(plan, &schedule, &shared, &done_rx);
    } else {
        while done_rx.recv().is_ok() {}
    }
    if let Some(pacer) = pacer {
        pacer
            .join()
            .map_err(|panic| Error::Panicked(panic_message(panic.as_ref())))?;
    }

    let mut recorder = Recorder::default();
    let mut last_done = schedule.measure_from;
    for thread in threads {
        match thread.join() {
            Ok(Ok(done)) => {
                recorder.merge(&done.recorder);
                last_done = last_done.max(done.last_done);
            }
            Ok(Err(error)) => return Err(error),
            Err(panic) => return Err(Error::Panicked(panic_message(panic.as_ref()))),
        }
    }
    let client_cpu = cpu_before
        .zip(process_cpu())
        .map(|(before, after)| after.saturating_sub(before));
    let elapsed = match schedule.end {
        // Duration mode: the whole window counts even if the last response came early.
        Some(end) => last_done.max(end) - schedule.measure_from,
        None => last_done - schedule.measure_from,
    };
    Ok(RunResult {
        recorder,
        elapsed,
        client_cpu,
    })
}

/// What a client thread hands back.
struct ThreadResult {
    recorder: Recorder,
    last_done: Instant,
}

fn client_thread(
    plan: &Plan,
    connections: usize,
    shared: &Arc<Shared>,
    ready_tx: &mpsc::Sender<Result<(), Error>>,
    start_rx: &mpsc::Receiver<Schedule>,
) -> Result<ThreadResult, Error> {
    let empty = || ThreadResult {
        recorder: Recorder::default(),
        last_done: Instant::now(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready_tx.send(Err(Error::Thread(error)));
            return Ok(empty());
        }
    };
    let local = LocalSet::new();
    let callers = local.block_on(&runtime, connect_all(&plan.target, connections));
    let callers = match callers {
        Ok(callers) => {
            let _ = ready_tx.send(Ok(()));
            callers
        }
        Err(error) => {
            let _ = ready_tx.send(Err(error));
            return Ok(empty());
        }
    };
    let Ok(schedule) = start_rx.recv() else {
        // Another thread failed to connect: no test.
        return Ok(empty());
    };

    let recorder = Rc::new(RefCell::new(Recorder::default()));
    let last_done = Rc::new(RefCell::new(schedule.measure_from));
    let reconnects = local.block_on(&runtime, async {
        let mut workers = Vec::with_capacity(connections * plan.concurrency);
        for caller in callers {
            let mut streams: Vec<Caller> = (1..plan.concurrency)
                .filter_map(|_| caller.share())
                .collect();
            streams.push(caller);
            for caller in streams {
                workers.push(tokio::task::spawn_local(stream_loop(
                    caller,
                    schedule,
                    shared.clone(),
                    recorder.clone(),
                    last_done.clone(),
                    plan.timeout,
                )));
            }
        }
        let mut reconnects = 0;
        for worker in workers {
            match worker.await {
                Ok(count) => reconnects += count,
                Err(error) => std::panic::resume_unwind(error.into_panic()),
            }
        }
        reconnects
    });
    let mut recorder = recorder.take();
    recorder.add_reconnects(reconnects);
    let last_done = *last_done.borrow();
    Ok(ThreadResult {
        recorder,
        last_done,
    })
}

async fn connect_all(target: &TargetSpec, connections: usize) -> Result<Vec<Caller>, Error> {
    let mut callers = Vec::with_capacity(connections);
    for _ in 0..connections {
        callers.push(target.connect().await?);
    }
    Ok(callers)
}

/// One stream: sends requests one after another until the schedule says stop. Returns how many
/// times it reopened its connection.
async fn stream_loop(
    mut caller: Caller,
    schedule: Schedule,
    shared: Arc<Shared>,
    recorder: Rc<RefCell<Recorder>>,
    last_done: Rc<RefCell<Instant>>,
    timeout: Duration,
) -> u64 {
    loop {
        let free_at = Instant::now();
        let (origin, measured) = match schedule.rate {
            None => {
                if schedule.end.is_some_and(|end| free_at >= end) {
                    break;
                }
                let measured = free_at >= schedule.measure_from;
                if let Some(count) = schedule.count.filter(|_| measured)
                    && shared.tickets.fetch_add(1, Ordering::Relaxed) >= count
                {
                    break;
                }
                (None, measured)
            }
            Some(rate) => {
                match shared.due.acquire().await {
                    Ok(permit) => permit.forget(),
                    Err(_) => break,
                }
                let ticket = shared.tickets.fetch_add(1, Ordering::Relaxed);
                let due = schedule.due(ticket, rate);
                let first_measured = schedule.first_measured_ticket(rate);
                let past_the_end = match (schedule.end, schedule.count) {
                    (Some(end), _) => due >= end,
                    (None, Some(count)) => ticket >= first_measured + count,
                    (None, None) => true,
                };
                if past_the_end {
                    break;
                }
                // Waited for the permit: measure from the send. Was busy when it came due:
                // measure from the due time.
                let origin = if due >= free_at { None } else { Some(due) };
                (origin, ticket >= first_measured)
            }
        };
        let sent = Instant::now();
        let outcome = match tokio::time::timeout(timeout, caller.call()).await {
            Ok(outcome) => outcome,
            Err(_) => {
                caller.abandon();
                Err(Failure::Timeout)
            }
        };
        let done = Instant::now();
        shared.completed.fetch_add(1, Ordering::Relaxed);
        if outcome.is_err() {
            shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        if measured {
            recorder
                .borrow_mut()
                .record(done - origin.unwrap_or(sent), outcome);
            let mut last = last_done.borrow_mut();
            *last = (*last).max(done);
        }
    }
    caller.reconnects()
}

/// The open-loop pacer: every `PACER_TICK`, releases a permit for each request that has come
/// due; after the last one, releases one more per stream so that every stream draws a ticket
/// past the end and stops.
fn pace(schedule: &Schedule, rate: f64, streams: usize, shared: &Shared) {
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
            shared
                .due
                .add_permits(usize::try_from(due - released).unwrap_or(usize::MAX));
            released = due;
        }
        thread::sleep(PACER_TICK);
    }
    shared.due.add_permits(streams);
}

/// Prints one line a second to stderr until every thread is done.
fn report_progress(plan: &Plan, schedule: &Schedule, shared: &Shared, done: &mpsc::Receiver<()>) {
    let mut stderr = std::io::stderr().lock();
    let mut tick = schedule.start;
    let mut last_completed = 0;
    loop {
        tick += Duration::from_secs(1);
        match done.recv_timeout(tick.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let completed = shared.completed.load(Ordering::Relaxed);
        let failed = shared.failed.load(Ordering::Relaxed);
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
                    100.0 * shared.tickets.load(Ordering::Relaxed).min(count) as f64 / count as f64
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

/// This process's CPU time so far (user + system), from `/proc/self/stat`, which counts in
/// `USER_HZ` ticks: 100 a second on every Linux architecture loadgen runs on.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; the fields after it are plain numbers:
    // state is field 3, utime field 14, stime field 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Plan;

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

    #[test]
    fn reads_its_own_cpu_time() {
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_cpu().is_some());
        }
    }

    #[test]
    fn a_refused_connection_fails_before_the_test() {
        let result = run(&plan(None, Stop::Count(1)));
        assert!(matches!(result, Err(Error::Connect { .. })), "{result:?}");
    }
}
