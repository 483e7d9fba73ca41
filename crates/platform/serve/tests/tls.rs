//! TLS and mutual TLS against a real server on 127.0.0.1, with certificates generated at run
//! time: server authentication, client certificates, the allow-list, the failure modes a
//! client must see promptly, and certificate rotation without a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::DummyRequest;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::ServerSettings;
use bookstore_serve::{GrpcServer, ServeError};
use bookstore_testing::{DummyService, Running, SpecialCases, spawn};
use bookstore_tls::dev_certs::{DevCa, IssuedCertificate};
use bookstore_tls::{ClientTls, TlsSettings};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

/// A CA, the server's certificate and some clients', written to a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    ca: DevCa,
}

impl Pki {
    fn new() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            ca: DevCa::generate("test CA").unwrap(),
        };
        std::fs::write(pki.path("ca.pem"), &pki.ca.certificate().cert_pem).unwrap();
        pki.write("server", &pki.ca.issue_service("dummy").unwrap());
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, issued: &IssuedCertificate) {
        std::fs::write(self.path(&format!("{name}.pem")), &issued.cert_pem).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), &issued.key_pem).unwrap();
    }

    fn client(&self, identity: &str) -> ClientTls {
        let issued = self.ca.issue_service(identity).unwrap();
        ClientTls::from_pem(
            self.ca.certificate().cert_pem.clone(),
            Some((issued.cert_pem.into_bytes(), issued.key_pem.into_bytes())),
        )
    }

    fn anonymous_client(&self) -> ClientTls {
        ClientTls::from_pem(self.ca.certificate().cert_pem.clone(), None)
    }

    fn settings(&self, mutual: bool, allowed: &[&str]) -> TlsSettings {
        TlsSettings {
            tls_cert: Some(self.path("server.pem")),
            tls_key: Some(self.path("server.key")),
            tls_client_ca: mutual.then(|| self.path("ca.pem")),
            allowed_clients: allowed.iter().map(|s| (*s).to_owned()).collect(),
            tls_reload_interval: Duration::from_millis(100),
        }
    }
}

/// The dummy service over TLS, and the metrics it records.
struct Server {
    addr: SocketAddr,
    metrics: Metrics,
    _running: Running<ServeError>,
}

async fn serve(settings: &TlsSettings) -> Server {
    let metrics = Metrics::new();
    let cases = SpecialCases::new().delay("slow", Duration::from_secs(2));
    let server = GrpcServer::new(&ServerSettings::default(), &metrics)
        .tls(settings)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let running = spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
    Server {
        addr: running.addr(),
        metrics,
        _running: running,
    }
}

/// How many calls of the dummy service's `Execute` reached the server's middleware.
fn calls_started(server: &Server) -> f64 {
    server.metrics.sample(
        "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\"bookstore.testing.v1.DummyService\",grpc_method=\"Execute\"}",
    )
}

/// A client over TLS, verifying the server as `localhost`. Connection errors become statuses.
async fn call(addr: SocketAddr, tls: &ClientTls, input: &str) -> Result<String, tonic::Status> {
    let endpoint = Endpoint::from_shared(format!("https://127.0.0.1:{}", addr.port()))
        .unwrap()
        .tls_config(tls.config("localhost"))
        .unwrap()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5));
    let channel: Channel = endpoint
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("{e:?}")))?;
    let response = DummyServiceClient::new(channel)
        .execute(DummyRequest {
            input: input.into(),
        })
        .await?;
    Ok(response.into_inner().output)
}

/// The certificate the server presents to a new connection.
async fn presented_certificate(addr: SocketAddr, pki: &Pki) -> CertificateDer<'static> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca.certificate().cert_pem.as_bytes()).unwrap())
        .unwrap();
    let issued = pki.ca.issue_service("marketplace").unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

fn pem_certificate(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

#[tokio::test]
async fn tls_with_server_authentication_works() {
    let pki = Pki::new();
    let server = serve(&pki.settings(false, &[])).await;
    assert_eq!(
        call(server.addr, &pki.anonymous_client(), "hi")
            .await
            .unwrap(),
        "hi"
    );
}

#[tokio::test]
async fn mutual_tls_works_and_requires_a_client_certificate() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &[])).await;
    assert_eq!(
        call(server.addr, &pki.client("marketplace"), "hi")
            .await
            .unwrap(),
        "hi"
    );
    let refused = call(server.addr, &pki.anonymous_client(), "hi")
        .await
        .unwrap_err();
    // CANCELLED when the server's refusal arrives after the client started the call (see
    // `a_client_certificate_from_another_ca_is_rejected`).
    assert!(
        matches!(
            refused.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled
        ),
        "{refused:?}"
    );
    // Only the first, authenticated client's call reached the service.
    assert_eq!(calls_started(&server), 1.0, "{}", server.metrics.encode());
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_rejected() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &[])).await;
    // The stranger trusts our CA, so only its own certificate is wrong.
    let other = DevCa::generate("another CA")
        .unwrap()
        .issue_service("marketplace")
        .unwrap();
    let identity = Some((other.cert_pem.into_bytes(), other.key_pem.into_bytes()));
    let stranger = ClientTls::from_pem(pki.ca.certificate().cert_pem.clone(), identity);
    // One call from a client we trust, so the count below is of a series that exists.
    call(server.addr, &pki.client("marketplace"), "hi")
        .await
        .unwrap();
    let refused = call(server.addr, &stranger, "hi").await.unwrap_err();
    // Under TLS 1.3 the client finishes its side of the handshake before the server has
    // checked its certificate, so it may already be sending the call when the server's alert
    // closes the connection: tonic then says CANCELLED ("connection closed") rather than
    // UNAVAILABLE. Either way no call reached the service.
    assert!(
        matches!(
            refused.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled
        ),
        "{refused:?}"
    );
    assert_eq!(calls_started(&server), 1.0, "{}", server.metrics.encode());
}

#[tokio::test]
async fn a_plaintext_client_fails_fast_with_a_clear_error() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &[])).await;
    let started = Instant::now();
    let channel = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .connect_lazy();
    let status = DummyServiceClient::new(channel)
        .execute(DummyRequest { input: "hi".into() })
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no hang: {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            status.code(),
            Code::Unavailable | Code::Unknown | Code::Internal
        ),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_wrong_server_name_is_rejected() {
    let pki = Pki::new();
    let server = serve(&pki.settings(false, &[])).await;
    let client = pki.anonymous_client().with_server_name("bank.example.com");
    let refused = call(server.addr, &client, "hi").await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("NotValidForName"), "{refused:?}");
}

#[tokio::test]
async fn the_allow_list_admits_and_refuses_the_right_identities() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &["marketplace"])).await;
    assert_eq!(
        call(server.addr, &pki.client("marketplace"), "hi")
            .await
            .unwrap(),
        "hi"
    );
    let refused = call(server.addr, &pki.client("factorial"), "hi")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("\"factorial\" is not allowed"),
        "{}",
        refused.message()
    );
    assert_eq!(
        server
            .metrics
            .sample("grpc_server_authorization_denied_total"),
        1.0
    );
    let handled = r#"grpc_server_handled_total{grpc_type="unary",grpc_service="bookstore.testing.v1.DummyService",grpc_method="Execute",grpc_code="PermissionDenied"}"#;
    assert_eq!(server.metrics.sample(handled), 1.0);
}

#[tokio::test]
async fn rotation_serves_the_new_certificate_without_dropping_calls() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &[])).await;
    let before = presented_certificate(server.addr, &pki).await;
    assert_eq!(before, pem_certificate(&pki.path("server.pem")));

    let addr = server.addr;
    let client = pki.client("marketplace");
    let long_call = tokio::spawn(async move { call(addr, &client, "slow").await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    pki.write("server", &pki.ca.issue_service("dummy").unwrap());
    let replacement = pem_certificate(&pki.path("server.pem"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while presented_certificate(server.addr, &pki).await != replacement {
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        long_call.await.unwrap().unwrap(),
        "slow",
        "the call begun before rotation completed"
    );
    assert_eq!(
        server.metrics.sample(r#"tls_reloads_total{result="ok"}"#),
        1.0
    );
}

#[tokio::test]
async fn a_corrupt_replacement_is_refused_and_service_continues() {
    let pki = Pki::new();
    let server = serve(&pki.settings(true, &[])).await;
    let original = presented_certificate(server.addr, &pki).await;
    std::fs::write(
        pki.path("server.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server
        .metrics
        .sample(r#"tls_reloads_total{result="error"}"#)
        < 1.0
    {
        assert!(
            Instant::now() < deadline,
            "the corrupt file was never noticed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(presented_certificate(server.addr, &pki).await, original);
    assert_eq!(
        call(server.addr, &pki.client("marketplace"), "still here")
            .await
            .unwrap(),
        "still here"
    );
}

#[tokio::test]
async fn a_server_whose_tls_files_do_not_load_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.pem"), "not a certificate").unwrap();
    std::fs::write(dir.path().join("server.key"), "not a key").unwrap();
    for settings in [
        TlsSettings {
            tls_cert: Some(dir.path().join("missing.pem")),
            tls_key: Some(dir.path().join("missing.key")),
            ..TlsSettings::default()
        },
        TlsSettings {
            tls_cert: Some(dir.path().join("server.pem")),
            tls_key: Some(dir.path().join("server.key")),
            ..TlsSettings::default()
        },
    ] {
        let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new())
            .tls(&settings)
            .add_service(DummyServiceServer::new(DummyService::new(
                SpecialCases::new(),
            )));
        let running = spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
        let error = running.stop().await.unwrap_err();
        assert!(matches!(error, ServeError::Tls(_)), "{error}");
        assert!(error.to_string().starts_with("TLS: "), "{error}");
    }
}
