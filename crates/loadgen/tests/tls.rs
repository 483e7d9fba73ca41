//! loadgen over mutual TLS, against a platform server that requires client certificates
//! (certificates generated at run time).

use std::time::Duration;

use bookstore_platform::Metrics;
use bookstore_platform::config::ServerSettings;
use bookstore_platform::server::{GrpcServer, Listeners};
use bookstore_platform::shutdown::Shutdown;
use bookstore_platform::testing::{DummyService, SpecialCases};
use bookstore_platform::tls::dev_certs::DevCa;
use bookstore_platform::tls::{ClientTls, TlsSettings};
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use loadgen::{Plan, Stop, TargetSpec};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_a_mutual_tls_server_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = DevCa::generate("loadgen test CA").unwrap();
    let server_cert = ca.issue_service("dummy").unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let settings = TlsSettings {
        tls_cert: Some(write("server.pem", &server_cert.cert_pem)),
        tls_key: Some(write("server.key", &server_cert.key_pem)),
        tls_client_ca: Some(write("ca.pem", &ca.certificate().cert_pem)),
        ..TlsSettings::default()
    };
    let listeners = Listeners::bind("127.0.0.1", 0, None).await.unwrap();
    let addr = listeners.grpc_addr().to_string();
    let shutdown = Shutdown::new();
    let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new())
        .tls(&settings)
        .unwrap()
        .add_service(DummyServiceServer::new(DummyService::new(
            SpecialCases::new(),
        )));
    let stop = shutdown.wait_owned();
    tokio::spawn(async move { server.serve(listeners, stop).await.unwrap() });

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
    shutdown.trigger();
}
