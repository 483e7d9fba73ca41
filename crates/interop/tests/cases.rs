//! Every interop case, run by this crate's client against this crate's server (the matrix's
//! first cell) in-process: the server on the platform's full stack, on a free loopback port.

use bookstore_testing::spawn;
use clap::Parser as _;
use interop::cases::{self, NAMES};
use interop::client::{Args, Clients};
use interop::server::{Config, run};

#[tokio::test]
async fn every_case_passes_against_our_server() {
    let server = spawn(|listeners, shutdown| run(listeners, Config::default(), shutdown)).await;
    let port = server.addr().port().to_string();
    let args = Args::try_parse_from([
        "interop-client",
        "--server_host",
        "127.0.0.1",
        "--server_port",
        &port,
    ])
    .unwrap();
    let clients = Clients::connect(&args).unwrap();
    let mut failures = Vec::new();
    for name in NAMES {
        if let Err(failure) = cases::run(name, &clients).await {
            failures.push(format!("{name}: {failure}"));
        }
    }
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
    server.stop_cleanly().await;
}

#[tokio::test]
async fn an_unknown_case_is_named_in_the_failure() {
    let args = Args::try_parse_from(["interop-client", "--server_port", "1"]).unwrap();
    let clients = Clients::connect(&args).unwrap();
    let failure = cases::run("no_such_case", &clients).await.unwrap_err();
    assert!(failure.to_string().contains("no_such_case"), "{failure}");
}
