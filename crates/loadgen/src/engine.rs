//! Runs a [`Plan`]: client threads, each with its own single-threaded tokio runtime and its share
//! of the connections (like `wrk -t` or `h2load -t`), and on each connection `concurrency`
//! streams that send requests one after another, as the schedule (`schedule.rs`) lets them;
//! then the threads' recorders merged into one [`RunResult`].
//!
//! Why this shape: the client shares a small machine with the server under test, so it must
//! spend as little CPU per request as it can. A single-threaded runtime per thread needs no work
//! stealing, no cross-thread wake-ups and no locks: latencies go into a per-thread histogram
//! behind a `RefCell`, and the only shared state is a few relaxed atomic counters for the
//! progress line (`progress.rs`) and the request schedule.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tokio::task::LocalSet;

use crate::caller::Caller;
use crate::error::Error;
use crate::failure::Failure;
use crate::plan::Plan;
use crate::progress::{Counters, report_progress};
use crate::schedule::{Schedule, Tickets, pace};
use crate::stats::Recorder;
use crate::target::TargetSpec;

/// What every thread shares: the schedule's tickets and the progress line's counters.
#[derive(Debug, Default)]
struct Shared {
    /// Which request comes next (and, open loop, which have come due).
    tickets: Tickets,
    /// Requests finished and failed.
    counters: Counters,
}

/// What one run measured.
#[derive(Debug)]
pub(crate) struct RunResult {
    /// Latencies and outcomes of the measured requests.
    pub(crate) recorder: Recorder,
    /// From the start of measurement to the last measured response.
    pub(crate) elapsed: Duration,
    /// CPU the whole loadgen process used during the run (user + system), if the platform
    /// says (Linux `/proc`).
    pub(crate) client_cpu: Option<Duration>,
    /// When the load started (warm-up first), by the wall clock.
    pub(crate) started: SystemTime,
}

/// Runs `plan` to the end, printing a progress line every second unless it is quiet.
pub(crate) fn run(plan: &Plan) -> Result<RunResult, Error> {
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
    let started = SystemTime::now();
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
                    .spawn(move || pace(&schedule, rate, streams, &shared.tickets))
                    .map_err(Error::Thread)?,
            )
        }
        None => None,
    };
    if plan.progress {
        report_progress(plan, &schedule, &shared.counters, &shared.tickets, &done_rx);
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
        started,
    })
}

/// What a client thread hands back.
struct ThreadResult {
    recorder: Recorder,
    last_done: Instant,
}

/// One client thread: connects its share of the connections, reports that it is ready, waits
/// for the start, then runs `concurrency` streams per connection on its own runtime.
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

/// Opens `connections` connections to `target`, one after another.
async fn connect_all(target: &TargetSpec, connections: usize) -> Result<Vec<Caller>, Error> {
    let mut callers = Vec::with_capacity(connections);
    for _ in 0..connections {
        callers.push(Caller::connect(target).await?);
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
    while let Some(slot) = schedule.next(&shared.tickets, Instant::now()).await {
        let sent = Instant::now();
        let outcome = match tokio::time::timeout(timeout, caller.call()).await {
            Ok(outcome) => outcome,
            Err(_) => {
                caller.abandon();
                Err(Failure::Timeout)
            }
        };
        let done = Instant::now();
        // Counted as the report records it, so the progress line and the summary agree.
        shared.counters.finished(slot.measured, outcome.is_ok());
        if slot.measured {
            recorder
                .borrow_mut()
                .record(done - slot.origin.unwrap_or(sent), outcome);
            let mut last = last_done.borrow_mut();
            *last = (*last).max(done);
        }
    }
    caller.reconnects()
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

/// What a panicked thread said.
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
    use crate::plan::Stop;

    #[test]
    fn reads_its_own_cpu_time() {
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_cpu().is_some());
        }
    }

    #[test]
    fn a_refused_connection_fails_before_the_test() {
        let result = run(&Plan {
            target: TargetSpec::health("http://127.0.0.1:1", "").unwrap(),
            label: "t".into(),
            connections: 1,
            concurrency: 1,
            threads: 1,
            rate: None,
            stop: Stop::Count(1),
            warmup: Duration::from_millis(250),
            timeout: Duration::from_secs(1),
            progress: false,
        });
        assert!(matches!(result, Err(Error::Connect { .. })), "{result:?}");
    }
}
