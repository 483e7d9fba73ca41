//! Graceful shutdown of a real process, signalled as Kubernetes or an operator would: the
//! `dummy-server` binary (the harness's dummy service on the platform's server) gets SIGTERM
//! while calls are in flight.

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use bookstore_testing::{DUMMY, WAIT, channel, eventually, req, series, within};

/// A running `dummy-server`; killed if a test fails before it exits.
struct DummyProcess {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
}

impl DummyProcess {
    async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dummy-server"))
            .args(["--port", "0", "--metrics-port", "0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("dummy-server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next_addr = async |prefix: &str| -> SocketAddr {
            let line = within("dummy-server's start-up line", lines.next_line())
                .await
                .unwrap()
                .expect("dummy-server prints where it listens");
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .parse()
                .unwrap()
        };
        let addr = next_addr("listening on ").await;
        let admin = next_addr("metrics on ").await;
        Self { child, addr, admin }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("the process is running").to_string();
        let status = std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {name} {pid}");
    }

    /// Waits for the process to exit (bounded), returning how and how long after `since`.
    async fn exit(&mut self, since: Instant, bound: Duration) -> (ExitStatus, Duration) {
        let status = tokio::time::timeout(bound, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("dummy-server still running {bound:?} after the signal"))
            .unwrap();
        (status, since.elapsed())
    }

    /// A sample of the process's `/metrics`, read over HTTP.
    async fn sample(&self, series: &str) -> f64 {
        let body = reqwest::get(format!("http://{}/metrics", self.admin))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        body.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until the process has started `count` unary calls.
    async fn wait_for_unary_calls(&self, count: f64) {
        let started = series("grpc_server_started_total", "unary", "Execute", None);
        let deadline = Instant::now() + WAIT;
        while self.sample(&started).await < count {
            assert!(
                Instant::now() < deadline,
                "the call never reached the server"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A health watch of the dummy service, past its first (SERVING) message.
    async fn watch(&self) -> tonic::Streaming<tonic_health::pb::HealthCheckResponse> {
        let mut health = HealthClient::new(channel(self.addr).await);
        let request = HealthCheckRequest {
            service: DUMMY.to_owned(),
        };
        let mut watch = health.watch(request).await.unwrap().into_inner();
        let first = within("the first health status", watch.message())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.status(), ServingStatus::Serving);
        watch
    }
}

#[tokio::test]
async fn sigterm_lets_slow_calls_finish_refuses_new_connections_and_exits_0() {
    let mut process = DummyProcess::start(&["--grace-period", "30s", "--slow-delay", "2s"]).await;
    let mut watch = process.watch().await;
    let mut client = DummyServiceClient::new(channel(process.addr).await);
    let slow = tokio::spawn(async move { client.execute(req("slow")).await });
    process.wait_for_unary_calls(1.0).await;

    let signalled = Instant::now();
    process.signal("-TERM");
    let next = within("NOT_SERVING", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    let addr = process.addr;
    let refused = eventually(|| std::net::TcpStream::connect(addr).is_err()).await;
    assert!(refused, "new connections are still accepted after SIGTERM");

    let slow = within("the slow call", slow).await.unwrap();
    assert_eq!(
        slow.expect("the in-flight call completes")
            .into_inner()
            .output,
        "slow"
    );
    let (status, after) = process.exit(signalled, WAIT).await;
    assert_eq!(status.code(), Some(0), "{status}");
    // It exits once the work is done, well within the 30 s grace period.
    assert!(
        after < Duration::from_secs(10),
        "exited {after:?} after SIGTERM"
    );
}

#[tokio::test]
async fn a_stuck_stream_is_cut_at_the_grace_deadline_and_the_process_exits_0() {
    let grace = Duration::from_secs(1);
    let mut process = DummyProcess::start(&["--grace-period", "1s"]).await;
    let mut client = DummyServiceClient::new(channel(process.addr).await);
    let mut stuck = client
        .execute_server_stream(req("stuck"))
        .await
        .unwrap()
        .into_inner();

    let signalled = Instant::now();
    process.signal("-TERM");
    let end = within("the end of the stuck stream", stuck.message()).await;
    assert!(
        end.is_err(),
        "the stuck stream must end with an error, got {end:?}"
    );
    let (status, after) = process.exit(signalled, WAIT).await;
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        after >= grace - Duration::from_millis(50),
        "exited before the grace deadline: {after:?}"
    );
    assert!(
        after < grace + Duration::from_secs(5),
        "exited {after:?} after SIGTERM"
    );
}

#[tokio::test]
async fn a_second_sigterm_exits_at_once() {
    let mut process = DummyProcess::start(&["--grace-period", "60s", "--slow-delay", "60s"]).await;
    let mut watch = process.watch().await;
    let mut client = DummyServiceClient::new(channel(process.addr).await);
    let slow = tokio::spawn(async move { client.execute(req("slow")).await });
    process.wait_for_unary_calls(1.0).await;

    process.signal("-TERM");
    let next = within("NOT_SERVING", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    let signalled = Instant::now();
    process.signal("-TERM");
    let (status, after) = process.exit(signalled, WAIT).await;
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(
        after < Duration::from_secs(5),
        "exited {after:?} after the second SIGTERM"
    );
    assert!(
        within("the slow call", slow).await.unwrap().is_err(),
        "the process is gone"
    );
}

#[tokio::test]
async fn sigint_and_sigterm_right_after_start_up_exit_0() {
    for signal in ["-INT", "-TERM"] {
        let mut process = DummyProcess::start(&["--grace-period", "30s"]).await;
        let signalled = Instant::now();
        process.signal(signal);
        let (status, after) = process.exit(signalled, WAIT).await;
        assert_eq!(status.code(), Some(0), "{signal}: {status}");
        assert!(
            after < Duration::from_secs(5),
            "{signal}: exited {after:?} after the signal"
        );
    }
}
