//! Every interop case, run by this crate's client against this crate's server (the matrix's
//! first cell) in-process: the server on the platform's full stack, on a free loopback port —
//! in plaintext and with `--use_tls` (certificates made for the test).

use bookstore_testing::spawn;
use bookstore_tls::dev_certs::DevCa;
use clap::Parser as _;
use interop::cases::{self, NAMES};
use interop::client::{Args, Clients};
use interop::server::{Config, run};

/// Runs every case with a client made from `client_flags` (the port is added).
async fn every_case_passes(config: Config, client_flags: &[&str]) {
    let server = spawn(|listeners, shutdown| run(listeners, config, shutdown)).await;
    let port = server.addr().port().to_string();
    let mut flags = vec!["interop-client", "--server_port", &port];
    flags.extend_from_slice(client_flags);
    let clients = Clients::connect(&Args::try_parse_from(flags).unwrap()).unwrap();
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
async fn every_case_passes_against_our_server() {
    every_case_passes(Config::default(), &["--server_host", "127.0.0.1"]).await;
}

#[tokio::test]
async fn every_case_passes_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevCa::generate("interop test CA").unwrap();
    let server_cert = ca.issue_service("interop-server").unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), &ca.certificate().cert_pem).unwrap();
    std::fs::write(path("server.pem"), &server_cert.cert_pem).unwrap();
    std::fs::write(path("server.key"), &server_cert.key_pem).unwrap();

    let (cert, key, ca_file) = (path("server.pem"), path("server.key"), path("ca.pem"));
    let config = Config::try_parse_from([
        "interop-server",
        "--use_tls",
        "true",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .unwrap()
    .checked()
    .unwrap();
    every_case_passes(
        config,
        &[
            "--server_host",
            "127.0.0.1",
            "--server_host_override",
            "localhost",
            "--use_tls",
            "true",
            "--ca_file",
            ca_file.to_str().unwrap(),
        ],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_case_is_named_in_the_failure() {
    let args = Args::try_parse_from(["interop-client", "--server_port", "1"]).unwrap();
    let clients = Clients::connect(&args).unwrap();
    let failure = cases::run("no_such_case", &clients).await.unwrap_err();
    assert!(failure.to_string().contains("no_such_case"), "{failure}");
}
