//! loadgen over mutual TLS, against a platform server that requires client certificates
//! (certificates generated at run time).

use std::path::{Path, PathBuf};
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{GrpcServer, ServeError, ServerSettings};
use bookstore_testing::{DummyService, Running, SpecialCases, spawn};
use bookstore_tls::dev_certs::DevCa;
use bookstore_tls::{ClientTls, TlsSettings};
use clap::Parser;
use loadgen::{Cli, Outcome, Plan, Stop, TargetSpec};

fn plan(target: TargetSpec) -> Plan {
    Plan {
        target,
        label: "tls".into(),
        connections: 2,
        concurrency: 2,
        threads: 1,
        rate: None,
        stop: Stop::Count(200),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(5),
        progress: false,
    }
}

/// Writes `text` to `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The dummy service on a platform server that requires a client certificate signed by `ca`,
/// with its own certificate (for the name `dummy`) and `ca.pem` written to `dir`.
async fn mutual_tls_server(dir: &Path, ca: &DevCa) -> Running<ServeError> {
    let server_cert = ca.issue_service("dummy").unwrap();
    let settings = TlsSettings {
        tls_cert: Some(write(dir, "server.pem", &server_cert.cert_pem)),
        tls_key: Some(write(dir, "server.key", &server_cert.key_pem)),
        tls_client_ca: Some(write(dir, "ca.pem", &ca.certificate().cert_pem)),
        ..TlsSettings::default()
    };
    let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new())
        .tls(&settings)
        .add_service(DummyServiceServer::new(DummyService::new(
            SpecialCases::new(),
        )));
    spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_a_mutual_tls_server_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevCa::generate("loadgen test CA").unwrap();
    let running = mutual_tls_server(dir.path(), &ca).await;
    let addr = running.addr().to_string();

    let client = ca.issue_service("loadgen").unwrap();
    let mutual = ClientTls::from_pem(
        ca.certificate().cert_pem.clone(),
        Some((client.cert_pem.into_bytes(), client.key_pem.into_bytes())),
    );
    let target = TargetSpec::health(&addr, "")
        .unwrap()
        .with_tls(&mutual)
        .unwrap();
    let report = tokio::task::spawn_blocking(move || loadgen::run_load(&plan(target)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.requests, 200, "{report:?}");
    assert_eq!(report.ok, 200, "{report:?}");

    // Without a client certificate the server refuses the connection: loadgen says so.
    let anonymous = ClientTls::from_pem(ca.certificate().cert_pem.clone(), None);
    let target = TargetSpec::health(&addr, "")
        .unwrap()
        .with_tls(&anonymous)
        .unwrap();
    let refused = tokio::task::spawn_blocking(move || loadgen::run_load(&plan(target)))
        .await
        .unwrap();
    match refused {
        Err(error) => assert!(error.to_string().contains("connect"), "{error}"),
        Ok(report) => assert_eq!(report.ok, 0, "every call fails: {report:?}"),
    }
    running.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_upstream_tls_flags_reach_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevCa::generate("loadgen test CA").unwrap();
    let running = mutual_tls_server(dir.path(), &ca).await;
    let client = ca.issue_service("loadgen").unwrap();
    let cert = write(dir.path(), "loadgen.pem", &client.cert_pem);
    let key = write(dir.path(), "loadgen.key", &client.key_pem);
    let path = |path: &Path| path.display().to_string();
    let args = [
        "loadgen".to_owned(),
        "health".to_owned(),
        "--addr".to_owned(),
        running.addr().to_string(),
        "-n".to_owned(),
        "50".to_owned(),
        "--warmup".to_owned(),
        "0s".to_owned(),
        "-q".to_owned(),
        "--upstream-ca".to_owned(),
        path(&dir.path().join("ca.pem")),
        "--upstream-cert".to_owned(),
        path(&cert),
        "--upstream-key".to_owned(),
        path(&key),
        "--upstream-server-name".to_owned(),
        "dummy".to_owned(),
    ];
    let cli = Cli::try_parse_from(args).unwrap();
    let outcome = tokio::task::spawn_blocking(move || loadgen::execute(cli))
        .await
        .unwrap()
        .unwrap();
    let Outcome::Load { report, .. } = outcome else {
        panic!("not a load test: {outcome:?}")
    };
    assert_eq!(report.requests, 50, "{report:?}");
    assert_eq!(report.ok, 50, "{report:?}");
    assert!(report.endpoint.starts_with("https://"), "{report:?}");
    running.stop_cleanly().await;
}
