//! The nCr gateway over HTTP against a real Factorial server (started in-process with
//! `factorial::run`) or a fake one that misbehaves on purpose: exact answers, every input error,
//! and every way the Factorial service can fail.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookstore_platform::Shutdown;
use bookstore_platform::client::UpstreamOptions;
use bookstore_platform::server::Listeners;
use bookstore_proto::factorial::v1::factorial_service_server::{
    FactorialService, FactorialServiceServer,
};
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialResponse};
use ncr_gateway::Config;
use num_bigint::BigUint;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// A Factorial server of the real kind, in this process.
struct FactorialServer {
    addr: SocketAddr,
    shutdown: Shutdown,
    task: JoinHandle<Result<(), factorial::Error>>,
}

impl FactorialServer {
    async fn start(config: factorial::Config) -> Self {
        Self::start_on(Listeners::ephemeral().await.unwrap(), config)
    }

    fn start_on(listeners: Listeners, config: factorial::Config) -> Self {
        let addr = listeners.grpc_addr();
        let shutdown = Shutdown::new();
        let task = tokio::spawn(factorial::run(listeners, config, shutdown.wait_owned()));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
    }
}

/// The gateway under test, in this process.
struct Gateway {
    base: String,
    http: reqwest::Client,
    shutdown: Shutdown,
    task: JoinHandle<Result<(), ncr_gateway::Error>>,
}

/// A gateway config pointing at `factorial`, with a short deadline so failures are quick.
fn config(factorial: SocketAddr, upstream_timeout: Duration) -> Config {
    Config {
        factorial_host: factorial.ip().to_string(),
        factorial_port: factorial.port(),
        upstream: UpstreamOptions {
            upstream_timeout,
            upstream_connect_timeout: Duration::from_millis(500),
            ..UpstreamOptions::default()
        },
        ..Config::default()
    }
}

impl Gateway {
    async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = Shutdown::new();
        let task = tokio::spawn(ncr_gateway::run(listener, config, shutdown.wait_owned()));
        Self {
            base,
            http: reqwest::Client::new(),
            shutdown,
            task,
        }
    }

    /// GET `path`: the status, the JSON body, and how long it took.
    async fn get(&self, path: &str) -> (StatusCode, Value, Duration) {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.unwrap();
        (status, body, started.elapsed())
    }

    async fn text(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
    }
}

/// A gateway in front of a real Factorial server with default settings.
async fn system() -> (FactorialServer, Gateway) {
    let factorial = FactorialServer::start(factorial::Config::default()).await;
    let gateway = Gateway::start(config(factorial.addr, Duration::from_secs(5))).await;
    (factorial, gateway)
}

/// C(n, r) by the multiplicative formula, a method independent of the gateway's.
fn binomial(n: u64, r: u64) -> BigUint {
    let r = r.min(n - r);
    (1..=r).fold(BigUint::from(1u32), |acc, i| acc * (n - r + i) / i)
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn answers_like_the_article() {
    let (factorial, gateway) = system().await;
    let (status, body, _) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"input": [10, 3], "ncr": 120, "ncr_decimal": "120", "msg": "Success"})
    );
    for (path, expected) in [
        ("/api/ncr/5/0", 1),
        ("/api/ncr/5/5", 1),
        ("/api/ncr/0/0", 1),
        ("/api/ncr/52/5", 2_598_960),
    ] {
        let (status, body, _) = gateway.get(path).await;
        assert_eq!(
            (status, &body["ncr"]),
            (StatusCode::OK, &json!(expected)),
            "{path}"
        );
    }
    gateway.stop().await;
    factorial.stop().await;
}

#[tokio::test]
async fn exact_beyond_2_pow_53() {
    let (factorial, gateway) = system().await;

    // The largest answers that are still JSON numbers, and the first that are not.
    let (_, body, _) = gateway.get("/api/ncr/56/28").await;
    assert_eq!(body["ncr"], json!(7_648_690_600_760_440u64)); // < 2^53
    let (_, body, _) = gateway.get("/api/ncr/58/29").await;
    assert_eq!(body["ncr"], json!("30067266499541040")); // > 2^53: a string
    assert_eq!(body["ncr_decimal"], json!("30067266499541040"));

    let (status, body, _) = gateway.get("/api/ncr/100/50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ncr"], json!("100891344545564193334812497256"));
    assert_eq!(body["ncr_decimal"], json!("100891344545564193334812497256"));
    assert_eq!(body["input"], json!([100, 50]));

    let (status, body, _) = gateway.get("/api/ncr/1000/500").await;
    assert_eq!(status, StatusCode::OK);
    let decimal = body["ncr_decimal"].as_str().unwrap();
    assert_eq!(decimal, binomial(1000, 500).to_string());
    assert_eq!(decimal.len(), 300);
    assert!(decimal.starts_with("2702882409454365"));
    assert_eq!(body["ncr"], json!(decimal));

    gateway.stop().await;
    factorial.stop().await;
}

#[tokio::test]
async fn exact_at_the_limit() {
    let (factorial, gateway) = system().await;
    let n = ncr_gateway::DEFAULT_MAX_N;
    let (status, body, elapsed) = gateway.get(&format!("/api/ncr/{n}/{}", n / 2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decimal = body["ncr_decimal"].as_str().unwrap();
    assert_eq!(decimal.len(), 30_101);
    assert!(decimal.starts_with("252060836892200338850090011673"));
    assert_eq!(decimal, binomial(n, n / 2).to_string());
    println!("C({n}, {}) took {elapsed:?}", n / 2);
    gateway.stop().await;
    factorial.stop().await;
}

#[tokio::test]
async fn the_limits_agree_with_the_factorial_service() {
    assert_eq!(ncr_gateway::DEFAULT_MAX_N, factorial::DEFAULT_MAX_N);
    assert_eq!(ncr_gateway::DEFAULT_FACTORIAL_PORT, factorial::DEFAULT_PORT);
}

#[tokio::test]
async fn bad_input_is_400_with_the_expected_format() {
    let (factorial, gateway) = system().await;
    let cases = [
        (
            "abc/1",
            json!(["abc", 1]),
            "n must be a whole number (0, 1, 2, ...), got \"abc\"",
        ),
        ("-1/0", json!(["-1", 0]), "n must be a whole number"),
        ("2.5/1", json!(["2.5", 1]), "n must be a whole number"),
        ("5/-1", json!([5, "-1"]), "r must be a whole number"),
        ("5/1.5", json!([5, "1.5"]), "r must be a whole number"),
        ("5/x", json!([5, "x"]), "r must be a whole number"),
        (
            "3/5",
            json!([3, 5]),
            "r must not be larger than n, got n = 3 and r = 5",
        ),
        (
            "100001/1",
            json!([100_001, 1]),
            "n must be at most 100000, got 100001",
        ),
        (
            "99999999999999999999999/1",
            json!(["99999999999999999999999", 1]),
            "n must be at most 100000",
        ),
    ];
    for (path, input, reason) in cases {
        let (status, body, _) = gateway.get(&format!("/api/ncr/{path}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["ncr"], Value::Null, "{path}");
        assert_eq!(body["input"], input, "{path}");
        let msg = body["msg"].as_str().unwrap();
        assert!(msg.starts_with(reason), "{path}: {msg}");
        assert!(
            msg.ends_with(
                "use /api/ncr/{n}/{r} with whole numbers 0 <= r <= n <= 100000, e.g. /api/ncr/10/3"
            ),
            "{path}: {msg}"
        );
    }

    let (status, body, _) = gateway.get("/api/ncr/5").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["ncr"], Value::Null);
    assert!(body["msg"].as_str().unwrap().contains("/api/ncr/{n}/{r}"));

    gateway.stop().await;
    factorial.stop().await;
}

#[tokio::test]
async fn a_lower_limit_in_the_factorial_service_is_400() {
    let factorial = FactorialServer::start(factorial::Config {
        max_n: 50,
        ..factorial::Config::default()
    })
    .await;
    let gateway = Gateway::start(config(factorial.addr, Duration::from_secs(5))).await;
    let (status, body, _) = gateway.get("/api/ncr/60/2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["ncr"], Value::Null);
    let msg = body["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("the factorial service rejected the input: n must be at most 50, got 60"),
        "{msg}"
    );
    gateway.stop().await;
    factorial.stop().await;
}

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

/// What the fake Factorial service saw of one call.
#[derive(Clone, Debug)]
struct SeenCall {
    /// `x-request-id`.
    request_id: Option<String>,
    /// `grpc-timeout`: the caller's deadline.
    deadline: Option<String>,
}

/// A Factorial service that misbehaves as told, and records what the gateway sent.
#[derive(Clone, Default)]
struct FakeFactorial {
    delay: Duration,
    wrong: bool,
    seen: Arc<Mutex<Vec<SeenCall>>>,
}

#[tonic::async_trait]
impl FactorialService for FakeFactorial {
    async fn factorial(
        &self,
        request: Request<FactorialRequest>,
    ) -> Result<Response<FactorialResponse>, Status> {
        let header = |name: &str| {
            request
                .metadata()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let call = SeenCall {
            request_id: header("x-request-id"),
            deadline: header("grpc-timeout"),
        };
        self.seen.lock().unwrap().push(call);
        tokio::time::sleep(self.delay).await;
        let n = request.get_ref().n;
        let value = if self.wrong {
            BigUint::from(7u32)
        } else {
            factorial::math::factorial(n)
        };
        Ok(Response::new(FactorialResponse {
            n,
            decimal: String::new(),
            big_endian: value.to_bytes_be(),
        }))
    }
}

async fn serve_fake(fake: FakeFactorial) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(FactorialServiceServer::new(fake))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    addr
}

#[tokio::test]
async fn slow_factorial_is_503_after_the_deadline() {
    let fake = FakeFactorial {
        delay: Duration::from_secs(10),
        ..FakeFactorial::default()
    };
    let gateway = Gateway::start(config(serve_fake(fake).await, Duration::from_millis(300))).await;
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
    let gateway = Gateway::start(config(serve_fake(fake).await, Duration::from_secs(2))).await;
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
    let gateway = Gateway::start(config(serve_fake(fake).await, Duration::from_secs(2))).await;
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
    let factorial = FactorialServer::start_on(listeners, factorial::Config::default());
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
    factorial.stop().await;
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
    factorial.stop().await;
}
