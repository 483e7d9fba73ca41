//! Graceful shutdown of the real `marketplace` process: on SIGTERM, a page being rendered
//! still completes, new connections are refused, and the process exits 0 well within the grace
//! period.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookstore_serve::Listeners;
use support::{FakeRecommendations, start_upstream};

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sigterm_lets_the_page_in_flight_finish_and_refuses_new_connections() {
    // Slow enough to send SIGTERM while a page waits for it.
    let slow = FakeRecommendations {
        delay: Duration::from_millis(1500),
        ..FakeRecommendations::default()
    };
    let upstream = start_upstream(Listeners::ephemeral().await.unwrap(), slow);
    let upstream_port = upstream.addr().port();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut marketplace = Process(
        Command::new(env!("CARGO_BIN_EXE_marketplace"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--recommendations-host", "127.0.0.1"])
            .args(["--recommendations-port", &upstream_port.to_string()])
            .args(["--upstream-timeout", "5s", "--grace-period", "20s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "the marketplace never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let in_flight = tokio::spawn(reqwest::get(format!("{base}/")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Command::new("kill")
        .args(["-TERM", &marketplace.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let signalled = Instant::now();

    let page = in_flight
        .await
        .unwrap()
        .expect("the page in flight completes");
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap().matches("<li>").count(), 3);

    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused after SIGTERM"
    );

    let status = loop {
        if let Some(status) = marketplace.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "exits well within the 20 s grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    upstream.stop_cleanly().await;
}
