//! The Factorial service over the network: a real server on 127.0.0.1:0, called through tonic
//! clients, for both APIs, every error case, health and metrics.

use bookstore_proto::factorial::v1::factorial_service_client::FactorialServiceClient;
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialResponse, FactorialView};
use bookstore_proto::legacy::Number;
use bookstore_proto::legacy::factorial_client::FactorialClient;
use bookstore_serve::ServeError;
use bookstore_testing::{Running, spawn};
use factorial::Config;
use num_bigint::BigUint;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The service, with a channel to it.
struct Server {
    running: Running<ServeError>,
    channel: Channel,
}

impl Server {
    async fn start(config: Config) -> Self {
        let running =
            spawn(|listeners, shutdown| factorial::run(listeners, config, shutdown)).await;
        let channel = Channel::from_shared(running.url()).unwrap().connect_lazy();
        Self { running, channel }
    }

    async fn legacy(&self, value: f32) -> Result<f32, Status> {
        let response = FactorialClient::new(self.channel.clone())
            .factorial(Number { value })
            .await?;
        Ok(response.into_inner().value)
    }

    async fn v1(&self, n: u64, view: FactorialView) -> Result<FactorialResponse, Status> {
        let request = FactorialRequest {
            n,
            view: view.into(),
        };
        let response = FactorialServiceClient::new(self.channel.clone())
            .factorial(request)
            .await?;
        Ok(response.into_inner())
    }

    async fn stop(self) {
        self.running.stop_cleanly().await;
    }
}

fn exact(n: u64) -> BigUint {
    (2..=n).fold(BigUint::from(1u32), |acc, k| acc * k)
}

#[tokio::test]
async fn legacy_api_answers_like_the_article() {
    let server = Server::start(Config::default()).await;
    for (n, expected) in [(0.0, 1.0), (1.0, 1.0), (5.0, 120.0), (10.0, 3_628_800.0)] {
        assert_eq!(server.legacy(n).await.unwrap(), expected, "{n}!");
    }
    let largest = f64::from(server.legacy(34.0).await.unwrap());
    let exact_34 = 295_232_799_039_604_140_847_618_609_643_520_000_000_f64;
    assert!(((largest - exact_34) / exact_34).abs() < 1e-7, "{largest}");
    server.stop().await;
}

#[tokio::test]
async fn legacy_api_rejects_bad_numbers_and_never_answers_infinity() {
    let server = Server::start(Config::default()).await;
    for value in [
        -1.0,
        -5.0,
        2.5,
        0.5,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let status = server.legacy(value).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{value}: {status:?}");
    }
    assert_eq!(
        server.legacy(-1.0).await.unwrap_err().message(),
        "n must not be negative, got -1"
    );
    assert_eq!(
        server.legacy(2.5).await.unwrap_err().message(),
        "n must be a whole number, got 2.5"
    );
    for value in [35.0, 100.0, 1e30] {
        let status = server.legacy(value).await.unwrap_err();
        assert_eq!(status.code(), Code::OutOfRange, "{value}: {status:?}");
        assert!(
            status
                .message()
                .contains("bookstore.factorial.v1.FactorialService")
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn v1_api_is_exact() {
    let server = Server::start(Config::default()).await;
    let response = server.v1(0, FactorialView::Unspecified).await.unwrap();
    assert_eq!(
        (response.n, response.decimal.as_str(), response.big_endian),
        (0, "1", vec![1])
    );
    let response = server.v1(25, FactorialView::Full).await.unwrap();
    assert_eq!(response.decimal, "15511210043330985984000000");
    // Both sides of the inline/offloaded threshold.
    for n in [factorial::calculator::INLINE_MAX_N, 5_000] {
        let response = server.v1(n, FactorialView::Full).await.unwrap();
        let expected = exact(n);
        assert_eq!(response.n, n);
        assert_eq!(response.decimal, expected.to_string());
        assert_eq!(BigUint::from_bytes_be(&response.big_endian), expected);
    }
    server.stop().await;
}

#[tokio::test]
async fn v1_big_endian_only_view_leaves_decimal_empty() {
    let server = Server::start(Config::default()).await;
    let response = server.v1(30, FactorialView::BigEndianOnly).await.unwrap();
    assert_eq!(response.decimal, "");
    assert_eq!(BigUint::from_bytes_be(&response.big_endian), exact(30));

    let request = FactorialRequest { n: 3, view: 99 };
    let status = FactorialServiceClient::new(server.channel.clone())
        .factorial(request)
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::InvalidArgument, "unknown view 99")
    );
    server.stop().await;
}

#[tokio::test]
async fn v1_api_enforces_the_configured_limit() {
    let server = Server::start(Config {
        max_n: 2_000,
        ..Config::default()
    })
    .await;
    let response = server
        .v1(2_000, FactorialView::BigEndianOnly)
        .await
        .unwrap();
    assert_eq!(BigUint::from_bytes_be(&response.big_endian), exact(2_000));
    let status = server.v1(2_001, FactorialView::Full).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::OutOfRange, "n must be at most 2000, got 2001")
    );
    let status = server.v1(u64::MAX, FactorialView::Full).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    server.stop().await;
}

#[tokio::test]
async fn the_default_limit_is_served() {
    let server = Server::start(Config::default()).await;
    let response = server
        .v1(factorial::DEFAULT_MAX_N, FactorialView::Full)
        .await
        .unwrap();
    // 100000! has 456,574 digits.
    assert_eq!(response.decimal.len(), 456_574);
    assert!(
        response
            .decimal
            .starts_with("282422940796034787429342157802453551847")
    );
    let status = server
        .v1(factorial::DEFAULT_MAX_N + 1, FactorialView::Full)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    server.stop().await;
}

#[tokio::test]
async fn both_services_report_serving() {
    let server = Server::start(Config::default()).await;
    let mut health = HealthClient::new(server.channel.clone());
    for service in ["", "Factorial", "bookstore.factorial.v1.FactorialService"] {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let status = health.check(request).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn metrics_show_calls_by_code_and_the_computation_queue() {
    let server = Server::start(Config::default()).await;
    server.legacy(5.0).await.unwrap();
    server.legacy(35.0).await.unwrap_err();
    let text = reqwest::get(format!("http://{}/metrics", server.running.admin_addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let labels = r#"grpc_type="unary",grpc_service="Factorial",grpc_method="Factorial""#;
    for code in ["OK", "OutOfRange"] {
        let series = format!(r#"grpc_server_handled_total{{{labels},grpc_code="{code}"}} 1"#);
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
    assert!(text.contains("factorial_computations_running 0"), "{text}");
    assert!(text.contains("factorial_computations_waiting 0"), "{text}");
    server.stop().await;
}
