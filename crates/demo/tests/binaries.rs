//! The two thin binaries as a user runs them: `demo-server` (flags, bind errors, serving, and a
//! graceful stop on SIGTERM) and the `demo` client.

mod running_server;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use running_server::RunningServer;

const SERVER: &str = env!("CARGO_BIN_EXE_demo-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_demo");

/// Runs a binary to completion off the async runtime.
async fn run(program: &'static str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(args)
            .env_remove("DEMO_SERVER")
            .env_remove("DEMO_PORT")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_client_binary_prints_the_reply() {
    let server = RunningServer::start().await;
    let output = run(
        CLIENT,
        &[
            "--server",
            &server.url,
            "unary",
            "Hello Server! Are you listening?",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "Hello I am up and running received \"Hello Server! Are you listening?\" message from you\n\
         received: true\n"
    );
    let output = run(CLIENT, &["sum", "1", "-2", "3", "--server", &server.url]).await;
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "2 (3 values)\n");
    server.stop().await;
}

#[tokio::test]
async fn the_client_binary_reports_failure_in_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let output = run(CLIENT, &["--server", &server, "unary", "hi"]).await;
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("demo: cannot connect to the demo server at"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn the_server_binary_refuses_a_bad_flag() {
    let output = run(SERVER, &["--port", "fifty"]).await;
    assert!(!output.status.success());
    let lines = stderr_lines(&output);
    assert!(
        lines[0].contains("invalid value 'fifty' for '--port <PORT>'"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn the_server_binary_reports_a_taken_port_in_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run(
        SERVER,
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--metrics-port",
            "0",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("demo-server: cannot listen on 127.0.0.1:{port}")),
        "{lines:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_server_binary_serves_until_sigterm() {
    // A port that was free a moment ago (the server must be told its port up front).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(SERVER)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--metrics-port",
            "0",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let url = format!("http://127.0.0.1:{port}");

    let started = Instant::now();
    let output = loop {
        let output = run(
            CLIENT,
            &["--server", &url, "countdown", "2", "--interval", "0s"],
        )
        .await;
        if output.status.success() || started.elapsed() > Duration::from_secs(10) {
            break output;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "2\n1\n",
        "{output:?}"
    );

    let pid = server.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0, got {status:?}");
}
