//! Every way the Factorial service can fail the gateway — down, silent, slow, wrong, late —
//! and what the gateway sends it: request ids, deadlines, metrics.

use std::time::{Duration, Instant};

use bookstore_serve::Listeners;
use bookstore_testing::spawn_on;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::fixtures::{FakeFactorial, Gateway, closed_port, config, serve_fake, system};

#[tokio::test]
async fn factorial_down_is_503_at_once_and_healthz_stays_up() {
    let gateway = Gateway::start(config(closed_port(), Duration::from_secs(1))).await;
    let (status, body, elapsed) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body,
        json!({"input": [10, 3], "ncr": null, "msg": "the factorial service is unavailable; try again later"})
    );
    // A refused connection needs no timeout to be noticed.
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(
        gateway.text("/healthz").await,
        (StatusCode::OK, "ok\n".to_owned())
    );
    gateway.stop().await;
}

#[tokio::test]
async fn factorial_that_never_answers_is_503_within_the_deadline() {
    // Accepts connections and never says a word: the call can only end by its deadline.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            connections.push(socket);
        }
    });
    let gateway = Gateway::start(config(addr, Duration::from_millis(300))).await;
    let (status, body, elapsed) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ncr"], Value::Null);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    gateway.stop().await;
    held.abort();
}

#[tokio::test]
async fn slow_factorial_is_503_after_the_deadline() {
    let fake = FakeFactorial {
        delay: Duration::from_secs(10),
        ..FakeFactorial::default()
    };
    let fake = serve_fake(fake).await;
    let gateway = Gateway::start(config(fake.addr(), Duration::from_millis(300))).await;
    let (status, body, elapsed) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["msg"],
        json!("the factorial service did not answer within 300ms; try again later")
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    gateway.stop().await;
}

#[tokio::test]
async fn calls_carry_the_request_id_and_a_deadline() {
    let fake = FakeFactorial::default();
    let seen = fake.seen.clone();
    let fake = serve_fake(fake).await;
    let gateway = Gateway::start(config(fake.addr(), Duration::from_secs(2))).await;
    let response = gateway
        .http
        .get(format!("{}/api/ncr/10/3", gateway.base))
        .header("x-request-id", "ncr-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "ncr-test-42");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "the article's design: three factorial calls");
    for call in seen {
        assert_eq!(call.request_id.as_deref(), Some("ncr-test-42"), "{call:?}");
        assert!(
            call.deadline.is_some(),
            "a call without a deadline: {call:?}"
        );
    }
    gateway.stop().await;
}

#[tokio::test]
async fn inconsistent_factorials_are_502() {
    let fake = FakeFactorial {
        wrong: true,
        ..FakeFactorial::default()
    };
    let fake = serve_fake(fake).await;
    let gateway = Gateway::start(config(fake.addr(), Duration::from_secs(2))).await;
    let (status, body, _) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["ncr"], Value::Null);
    gateway.stop().await;
}

#[tokio::test]
async fn factorial_started_later_is_used_without_a_gateway_restart() {
    let addr = closed_port();
    let gateway = Gateway::start(config(addr, Duration::from_secs(1))).await;
    let (status, _, _) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let listeners = Listeners::bind(&addr.ip().to_string(), addr.port(), Some(0))
        .await
        .unwrap();
    let factorial = spawn_on(listeners, |listeners, shutdown| {
        factorial::run(listeners, factorial::Config::default(), shutdown)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body, _) = gateway.get("/api/ncr/10/3").await;
        if status == StatusCode::OK {
            assert_eq!(body["ncr"], json!(120));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the factorial service started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_upstream_calls() {
    let (factorial, gateway) = system().await;
    gateway.get("/api/ncr/10/3").await;
    gateway.get("/api/ncr/3/10").await;
    let (status, text) = gateway.text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for series in [
        r#"http_requests_total{method="GET",route="/api/ncr/{n}/{r}",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/api/ncr/{n}/{r}",status="400"} 1"#,
        r#"grpc_client_handled_total{grpc_type="unary",grpc_service="bookstore.factorial.v1.FactorialService",grpc_method="Factorial",grpc_code="OK"} 3"#,
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    gateway.stop().await;
    factorial.stop_cleanly().await;
}
