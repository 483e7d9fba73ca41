//! Where a gRPC service run alone (`bookstore serve`, as its own binary) puts its admin
//! endpoint: its own variable (`DEMO_METRICS_PORT`) before the shared `METRICS_PORT`, which
//! still works for a service alone in its environment, as in the containers.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookstore_testing::free_port;

/// A service process, stopped when the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bookstore serve demo` on a free gRPC port, with `variables` set and no others that move
/// its admin port.
fn serve_demo(variables: &[(&str, String)]) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["serve", "demo", "--host", "127.0.0.1", "--port", "0"])
        .env_remove("DEMO_METRICS_PORT")
        .env_remove("METRICS_PORT")
        .envs(variables.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Process(child)
}

/// Whether `/healthz` answers 200 on `port` within a few seconds.
async fn admin_answers(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await {
            return response.status() == 200;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_services_own_admin_port_variable_comes_before_the_shared_one() {
    // The shared port stays held by this test: were the shared variable to win, the service
    // could not bind it and its own port would never answer. (Held, it also cannot be handed
    // to `own` or to the test running beside this one.)
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let shared = held.local_addr().unwrap().port();
    let own = free_port();
    let _demo = serve_demo(&[
        ("DEMO_METRICS_PORT", own.to_string()),
        ("METRICS_PORT", shared.to_string()),
    ]);
    assert!(admin_answers(own).await, "the admin endpoint is on {own}");
}

#[tokio::test]
async fn the_shared_admin_port_variable_still_works_alone() {
    let shared = free_port();
    let _demo = serve_demo(&[("METRICS_PORT", shared.to_string())]);
    assert!(
        admin_answers(shared).await,
        "the admin endpoint is on {shared}"
    );
}

#[test]
fn a_bad_shared_admin_port_is_one_line_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["serve", "demo", "--host", "127.0.0.1", "--port", "0"])
        .env_remove("DEMO_METRICS_PORT")
        .env("METRICS_PORT", "metrics")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap's usage status: {output:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "error: invalid value 'metrics' in METRICS_PORT (--metrics-port): expected a port \
             number (0 to 65535)"
        ],
        "{stderr}"
    );
}
