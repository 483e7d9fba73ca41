//! loadgen against real servers on port 0: the bench-ceiling gRPC server (through the binary,
//! as `bench/run.sh` uses it) and a small axum app (through the library).

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use loadgen::{Plan, Report, Stop, TargetSpec};
use tokio::net::TcpListener;

/// Serves the ceiling on a free port for the rest of the test.
async fn ceiling() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(bench_ceiling::serve(listener, std::future::pending()));
    addr
}

/// Serves `/ok` (200) and `/busy` (503) on a free port for the rest of the test.
async fn web_app() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/ok", get(|| async { "<html>three books</html>" }))
        .route("/busy", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn plan(target: TargetSpec, connections: usize, stop: Stop) -> Plan {
    Plan {
        target,
        label: "test".into(),
        connections,
        concurrency: 1,
        threads: 1,
        rate: None,
        stop,
        warmup: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
        progress: false,
    }
}

async fn run(plan: Plan) -> Report {
    tokio::task::spawn_blocking(move || loadgen::run_load(&plan))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_loads_the_ceiling_for_a_second_without_errors() {
    let addr = ceiling().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("ceiling.json");
    let svg = dir.path().join("ceiling.svg");
    let args = [
        "recommend-legacy".to_owned(),
        "--addr".to_owned(),
        format!("http://{addr}"),
        "-c".to_owned(),
        "2".to_owned(),
        "-m".to_owned(),
        "4".to_owned(),
        "-t".to_owned(),
        "2".to_owned(),
        "--warmup".to_owned(),
        "200ms".to_owned(),
        "-d".to_owned(),
        "1s".to_owned(),
        "--json".to_owned(),
        json.display().to_string(),
        "--plot".to_owned(),
        svg.display().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("throughput"), "{stdout}");
    assert!(stderr.contains("req/s"), "no progress lines: {stderr}");

    let report = Report::read_json(&json).unwrap();
    assert!(report.requests > 0, "{report:?}");
    assert_eq!(report.ok, report.requests);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.connections, report.concurrency), (2, 4));
    assert!(report.latency.p50_us > 0.0 && report.latency.p50_us <= report.latency.p99_us);
    assert!(report.elapsed_s >= 1.0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ceiling_answers_the_readiness_probe() {
    let addr = ceiling().await;
    let target =
        TargetSpec::recommend_legacy(&format!("http://{addr}"), Default::default()).unwrap();
    let ready =
        tokio::task::spawn_blocking(move || loadgen::wait_ready(&target, Duration::from_secs(5)))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(ready.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_a_fixed_number_of_http_requests_over_keep_alive_connections() {
    let addr = web_app().await;
    let target = TargetSpec::http("http", &format!("http://{addr}/ok")).unwrap();
    let report = run(plan(target, 3, Stop::Count(300))).await;
    assert_eq!(report.requests, 300);
    assert_eq!(report.ok, 300);
    assert_eq!(report.reconnects, 0, "keep-alive should hold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_http_errors_by_status() {
    let addr = web_app().await;
    let target = TargetSpec::http("http", &format!("http://{addr}/busy")).unwrap();
    let report = run(plan(target, 1, Stop::Count(20))).await;
    assert_eq!(report.ok, 0);
    assert_eq!(report.errors.get("http 503"), Some(&20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_loop_keeps_its_rate() {
    let addr = web_app().await;
    let target = TargetSpec::http("http", &format!("http://{addr}/ok")).unwrap();
    let mut plan = plan(target, 2, Stop::After(Duration::from_secs(1)));
    plan.rate = Some(200.0);
    let report = run(plan).await;
    // 200 due in the measured second; a loaded CI machine may push a few past its end.
    assert!(
        (190..=201).contains(&report.requests),
        "{} requests",
        report.requests
    );
    assert!(report.errors.is_empty());
}
