//! The client subcommands (`demo unary|bidi|countdown|sum`, also reached through the launcher)
//! against a real server: what they print, and how they fail.

use std::time::Duration;

use bookstore_serve::ServeError;
use bookstore_testing::{Running, spawn, within};
use demo_client::{ClientArgs, ClientCommand, ClientError, run_client};
use tonic::Code;

fn args(server: &str, command: ClientCommand) -> ClientArgs {
    ClientArgs {
        server: server.to_owned(),
        timeout: Duration::from_secs(5),
        tls: Default::default(),
        command,
    }
}

/// Runs a client command and returns what it printed.
async fn output(args: &ClientArgs) -> Result<String, ClientError> {
    let mut out = Vec::new();
    within("the call", run_client(args, &mut out)).await?;
    Ok(String::from_utf8(out).expect("the output is UTF-8"))
}

/// A demo server on free loopback ports.
async fn demo_server() -> Running<ServeError> {
    spawn(|listeners, shutdown| demo::run(listeners, demo::Config::default(), shutdown)).await
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}

#[tokio::test]
async fn unary_prints_the_reply() {
    let server = demo_server().await;
    let command = ClientCommand::Unary {
        message: "Hello Server! Are you listening?".into(),
    };
    assert_eq!(
        output(&args(&server.url(), command)).await.unwrap(),
        "Hello I am up and running received \"Hello Server! Are you listening?\" message from you\n\
         received: true\n"
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn bidi_prints_each_reply_in_order() {
    let server = demo_server().await;
    let command = ClientCommand::Bidi {
        messages: strings(&["first", "second", "third"]),
    };
    assert_eq!(
        output(&args(&server.url(), command)).await.unwrap(),
        "Hello from the server, received \"first\"\n\
         Hello from the server, received \"second\"\n\
         Hello from the server, received \"third\"\n"
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn countdown_prints_each_number() {
    let server = demo_server().await;
    let command = ClientCommand::Countdown {
        start: 3,
        interval: Duration::ZERO,
    };
    assert_eq!(
        output(&args(&server.url(), command)).await.unwrap(),
        "3\n2\n1\n"
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn a_countdown_longer_than_the_timeout_still_completes() {
    let server = demo_server().await;
    // Three intervals of 150 ms take longer than the 200 ms timeout: the deadline covers the
    // countdown's own length on top.
    let command = ClientCommand::Countdown {
        start: 4,
        interval: Duration::from_millis(150),
    };
    let args = ClientArgs {
        timeout: Duration::from_millis(200),
        ..args(&server.url(), command)
    };
    assert_eq!(output(&args).await.unwrap(), "4\n3\n2\n1\n");
    server.stop_cleanly().await;
}

#[tokio::test]
async fn sum_prints_the_total_and_the_count() {
    let server = demo_server().await;
    let sum = |values: &[i64]| {
        args(
            &server.url(),
            ClientCommand::Sum {
                values: values.to_vec(),
            },
        )
    };
    assert_eq!(output(&sum(&[1, 2, 3])).await.unwrap(), "6 (3 values)\n");
    assert_eq!(output(&sum(&[-7])).await.unwrap(), "-7 (1 value)\n");
    assert_eq!(output(&sum(&[])).await.unwrap(), "0 (0 values)\n");
    server.stop_cleanly().await;
}

#[tokio::test]
async fn a_server_host_and_port_without_scheme_is_accepted() {
    let server = demo_server().await;
    let host_port = server.addr().to_string();
    let command = ClientCommand::Sum { values: vec![2, 2] };
    assert_eq!(
        output(&args(&host_port, command)).await.unwrap(),
        "4 (2 values)\n"
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn a_refused_message_is_reported_with_its_status() {
    let server = demo_server().await;
    let error = output(&args(
        &server.url(),
        ClientCommand::Unary {
            message: String::new(),
        },
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ClientError::Status(status) if status.code() == Code::InvalidArgument)
    );
    assert_eq!(
        error.to_string(),
        "the server answered InvalidArgument: message must not be empty"
    );

    // In a bidirectional call, the replies before the bad message are printed first.
    let mut out = Vec::new();
    let command = ClientCommand::Bidi {
        messages: strings(&["fine", "", "never sent"]),
    };
    let error = within(
        "the call",
        run_client(&args(&server.url(), command), &mut out),
    )
    .await
    .unwrap_err();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Hello from the server, received \"fine\"\n"
    );
    assert_eq!(
        error.to_string(),
        "the server answered InvalidArgument: message must not be empty"
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn an_unreachable_server_fails_promptly_with_the_cause() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let error = output(&args(
        &server,
        ClientCommand::Unary {
            message: "hi".into(),
        },
    ))
    .await
    .unwrap_err();
    assert!(matches!(error, ClientError::Connect { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot connect to the demo server at {server}: ")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_at_the_deadline() {
    // Accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", silent.local_addr().unwrap());
    let _accepting = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            connections.push(connection);
        }
    });
    let args = ClientArgs {
        timeout: Duration::from_millis(300),
        ..args(
            &server,
            ClientCommand::Unary {
                message: "anyone?".into(),
            },
        )
    };
    let started = std::time::Instant::now();
    let error = output(&args).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, ClientError::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "no complete answer within the deadline of 300ms"
    );
}

#[tokio::test]
async fn an_invalid_server_address_is_reported_as_such() {
    let error = output(&args(
        "http://exa mple:1",
        ClientCommand::Sum { values: vec![] },
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(error, ClientError::InvalidServer { .. }),
        "{error:?}"
    );
}
