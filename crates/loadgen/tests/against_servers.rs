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

/// Serves `/ok` (200), `/busy` (503) and `/degraded` (200 with a notice in place of the
/// content, as the homepage when Recommendations is down) on a free port for the rest of the
/// test.
async fn web_app() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/ok", get(|| async { "<html>three books</html>" }))
        .route(
            "/degraded",
            get(|| async { "<html><p>Recommendations are unavailable right now.</p></html>" }),
        )
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
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.contains("<polyline"));
    assert!(plot.contains("latency (log scale)"), "{plot}");
    assert!(
        plot.contains(&report.context()),
        "no run parameters in the plot"
    );

    // Where the files went, after the report.
    assert!(
        stdout.contains(&format!("\n  json        {}\n", json.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("\n  plot        {}\n", svg.display())),
        "{stdout}"
    );
    // The last progress line counts what the summary counts, the warm-up apart.
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains(" done "), "{stderr}");
    assert!(
        last.contains(&format!(" {} requests (0 failed)", report.requests)),
        "last progress line {last:?}, summary {} requests",
        report.requests
    );
    assert!(last.contains(" warm-up (0 failed), not counted"), "{last}");
    assert!(
        stdout.contains(&format!(
            "requests    {} ({} ok, 0 failed)",
            report.requests, report.ok
        )),
        "{stdout}"
    );
}

/// Runs the loadgen binary with `args` off the async runtime.
async fn loadgen(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_summary_count_the_same_requests() {
    let addr = ceiling().await;
    let args = [
        "recommend-legacy",
        "--addr",
        &format!("http://{addr}"),
        "-n",
        "300",
        // Long enough that the progress line at 1 s falls well inside the warm-up even when
        // a loaded machine wakes the progress thread late.
        "--warmup",
        "3s",
    ];
    let output = loadgen(args.iter().map(|arg| (*arg).to_owned()).collect()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    // A second into the warm-up: warm-up requests only, none measured yet.
    let warming = lines
        .iter()
        .find(|line| line.contains("warm-up  "))
        .unwrap();
    assert!(warming.contains(" 0 requests (0 failed)  + "), "{stderr}");
    let last = lines.last().unwrap();
    assert!(last.contains(" 300 requests (0 failed)  + "), "{stderr}");
    assert!(
        stdout.contains("requests    300 (300 ok, 0 failed)"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plot_command_says_where_it_wrote() {
    let addr = web_app().await;
    let target = TargetSpec::http("http", &format!("http://{addr}/ok")).unwrap();
    let report = run(plan(target, 1, Stop::Count(50))).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    report.write_json(&json).unwrap();
    let out = dir.path().join("both.svg");
    let output = loadgen(vec![
        "plot".into(),
        "--out".into(),
        out.display().to_string(),
        json.display().to_string(),
        json.display().to_string(),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("wrote 2 runs to {}\n", out.display())
    );
    let svg = std::fs::read_to_string(&out).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 2);
    assert!(
        svg.contains(report.started_at.as_deref().unwrap()),
        "no date"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_one_line_saying_each_cause_once() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = loadgen(vec![
        "health".into(),
        "--addr".into(),
        format!("http://127.0.0.1:{port}"),
        "-n".into(),
        "1".into(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "loadgen: cannot connect to http://127.0.0.1:{port}/: "
        )),
        "{stderr}"
    );
    let causes: Vec<&str> = stderr.trim_end().split(": ").collect();
    for pair in causes.windows(2) {
        assert_ne!(pair[0], pair[1], "a cause said twice: {stderr}");
    }
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
async fn counts_a_degraded_page_as_a_failure_of_its_own() {
    let addr = web_app().await;
    let notice = "Recommendations are unavailable right now";
    for (path, degraded) in [("degraded", 20), ("ok", 0)] {
        let target = TargetSpec::http("homepage", &format!("http://{addr}/{path}"))
            .unwrap()
            .failing_if_body_contains(notice)
            .unwrap();
        let report = run(plan(target, 1, Stop::Count(20))).await;
        assert_eq!(report.ok, 20 - degraded, "/{path}");
        assert_eq!(
            report.errors.get("degraded").copied().unwrap_or(0),
            degraded
        );
    }
    // Without the check, the same page is a success.
    let target = TargetSpec::http("homepage", &format!("http://{addr}/degraded")).unwrap();
    assert_eq!(run(plan(target, 1, Stop::Count(5))).await.ok, 5);
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
