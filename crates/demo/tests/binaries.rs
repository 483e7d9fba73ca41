//! The thin `demo-server` binary as a user runs it: flags, bind errors, serving, and a graceful
//! stop on SIGTERM. (The `demo` client binary is tested in `crates/demo-client`.)

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use demo_client::{ClientArgs, ClientCommand, run_client};

const SERVER: &str = env!("CARGO_BIN_EXE_demo-server");

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

    let countdown = ClientArgs {
        server: url,
        timeout: Duration::from_secs(5),
        tls: Default::default(),
        command: ClientCommand::Countdown {
            start: 2,
            interval: Duration::ZERO,
        },
    };
    let started = Instant::now();
    let output = loop {
        let mut out = Vec::new();
        let result = run_client(&countdown, &mut out).await;
        if result.is_ok() || started.elapsed() > Duration::from_secs(10) {
            break result.map(|()| out);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        String::from_utf8_lossy(&output.expect("the server answers")),
        "2\n1\n"
    );

    let pid = server.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0, got {status:?}");
}
