//! Async done right, proved against a real server: large factorials run side by side off the
//! runtime instead of one after another, and a burst of them cannot stall small requests.
//!
//! What "five concurrent slow requests finish in about the time of one" can honestly mean
//! depends on the cores: five CPU-bound computations on c cores take at least 5/c times as long
//! as one, whatever the server does (2.5× on this project's 2-core machines), and more if
//! anything else is using the CPU. So these tests assert structure, not speed: how many
//! computations ran at once (the server's own gauges), and which answers came back before
//! which. The times are printed for people (`cargo test -- --nocapture`); the numbers that
//! matter for capacity come from `examples/cost_curve.rs`.
//!
//! The tests in this file share the CPU, so they take turns.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bookstore_proto::factorial::v1::factorial_service_client::FactorialServiceClient;
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialView};
use bookstore_proto::legacy::Number;
use bookstore_proto::legacy::factorial_client::FactorialClient;
use bookstore_serve::ServeError;
use bookstore_testing::{Running, spawn};
use factorial::{Config, DEFAULT_MAX_N};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// One test at a time: each needs the whole CPU for its measurements to mean anything.
static CPU: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The slowest request the server accepts by default: n! at the limit, written in base 10.
const SLOW_N: u64 = DEFAULT_MAX_N;

/// The service, with a channel to it.
struct Server {
    running: Running<ServeError>,
    channel: Channel,
}

impl Server {
    async fn start(max_big_factorials: usize) -> Self {
        let config = Config {
            max_big_factorials: NonZeroUsize::new(max_big_factorials),
            ..Config::default()
        };
        let running =
            spawn(|listeners, shutdown| factorial::run(listeners, config, shutdown)).await;
        let channel = Channel::from_shared(running.url()).unwrap().connect_lazy();
        Self { running, channel }
    }

    /// Calls v1 for `n` (base 10 included: the slowest view).
    fn factorial(&self, n: u64) -> impl Future<Output = u64> + Send + 'static {
        let mut client = FactorialServiceClient::new(self.channel.clone());
        async move {
            let request = FactorialRequest {
                n,
                view: FactorialView::Full.into(),
            };
            client.factorial(request).await.unwrap().into_inner().n
        }
    }

    async fn timed_factorial(&self, n: u64) -> Duration {
        let started = Instant::now();
        self.factorial(n).await;
        started.elapsed()
    }

    /// The server's computation gauges: (running, waiting).
    async fn queue(&self) -> (u64, u64) {
        let text = reqwest::get(format!("http://{}/metrics", self.running.admin_addr()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let gauge = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        };
        (
            gauge("factorial_computations_running"),
            gauge("factorial_computations_waiting"),
        )
    }

    async fn wait_for_queue(&self, done: impl Fn((u64, u64)) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(self.queue().await) {
            assert!(
                Instant::now() < deadline,
                "the queue never reached the expected state"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn stop(self) {
        self.running.stop_cleanly().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_slow_requests_run_side_by_side() {
    let _cpu = CPU.lock().await;
    let server = Server::start(5).await;
    let one = server.timed_factorial(SLOW_N).await;

    let started = Instant::now();
    let burst: Vec<_> = (0..5)
        .map(|_| {
            let request = server.factorial(SLOW_N);
            tokio::spawn(async move {
                assert_eq!(request.await, SLOW_N);
                started.elapsed()
            })
        })
        .collect();
    // All five being computed at the same moment: none waits for another.
    server
        .wait_for_queue(|(running, waiting)| running == 5 && waiting == 0)
        .await;
    // Meanwhile the runtime is free: a small request answers before any of the five is done.
    assert_eq!(server.factorial(20).await, 20);
    let unfinished = burst
        .iter()
        .filter(|request| !request.is_finished())
        .count();

    let mut finished = Vec::new();
    for request in burst {
        finished.push(request.await.unwrap());
    }
    let last = finished.iter().max().copied().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    println!(
        "one slow request: {one:?}; five at once: all done after {last:?} = {:.2}x one \
         ({cores} cores: at best {:.2}x; one after another: 5x)",
        last.as_secs_f64() / one.as_secs_f64(),
        5.0 / cores.min(5) as f64,
    );
    assert_eq!(unfinished, 5, "a small request waited for a large one");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_requests_answer_during_a_burst_of_large_ones() {
    let _cpu = CPU.lock().await;
    let server = Server::start(2).await;
    let finished = Arc::new(AtomicUsize::new(0));

    let started = Instant::now();
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let request = server.factorial(SLOW_N);
            let finished = finished.clone();
            tokio::spawn(async move {
                request.await;
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Both workers busy and the rest of the burst queued behind them.
    server
        .wait_for_queue(|(running, waiting)| running == 2 && waiting == 4)
        .await;

    let asked = Instant::now();
    assert_eq!(server.factorial(20).await, 20);
    let mut legacy = FactorialClient::new(server.channel.clone());
    let answer = legacy.factorial(Number { value: 5.0 }).await.unwrap();
    assert_eq!(answer.into_inner().value, 120.0);
    let mut health = HealthClient::new(server.channel.clone());
    health.check(HealthCheckRequest::default()).await.unwrap();
    let small = asked.elapsed();
    let finished_before_small = finished.load(Ordering::SeqCst);

    for request in burst {
        request.await.unwrap();
    }
    let burst_time = started.elapsed();
    println!(
        "three small calls during a burst of six large ones: {small:?}; the burst: {burst_time:?}"
    );

    // The small calls did not wait for any large computation to finish, although every worker
    // was busy and four more large requests were queued.
    assert_eq!(
        finished_before_small, 0,
        "small calls waited for {finished_before_small} large ones"
    );
    server.stop().await;
}
