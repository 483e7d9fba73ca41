//! The thin `demo` binary as a user runs it: what it prints, and how it fails.

use std::process::{Command, Output};

use bookstore_testing::{Running, spawn};

const CLIENT: &str = env!("CARGO_BIN_EXE_demo");

/// Runs the client to completion off the async runtime.
async fn run(program: &'static str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(args)
            .env_remove("DEMO_SERVER")
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

async fn demo_server() -> Running<bookstore_serve::ServeError> {
    spawn(|listeners, shutdown| demo::run(listeners, demo::Config::default(), shutdown)).await
}

#[tokio::test]
async fn the_client_binary_prints_the_reply() {
    let server = demo_server().await;
    let output = run(
        CLIENT,
        &[
            "--server",
            &server.url(),
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
    let output = run(CLIENT, &["sum", "1", "-2", "3", "--server", &server.url()]).await;
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "2 (3 values)\n");
    server.stop_cleanly().await;
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
