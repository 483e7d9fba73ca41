//! What the gateway's tests share: the gateway and a real or fake Factorial service, each
//! running in this process on free loopback ports.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookstore_client::UpstreamOptions;
use bookstore_proto::factorial::v1::factorial_service_server::{
    FactorialService, FactorialServiceServer,
};
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialResponse};
use bookstore_serve::ServeError;
use bookstore_testing::{Running, spawn};
use ncr_gateway::{Config, RunError};
use num_bigint::BigUint;
use reqwest::StatusCode;
use serde_json::Value;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// A Factorial server of the real kind, in this process.
pub(crate) async fn real_factorial(config: factorial::Config) -> Running<ServeError> {
    spawn(|listeners, shutdown| factorial::run(listeners, config, shutdown)).await
}

/// The gateway under test, in this process.
pub(crate) struct Gateway {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    running: Running<RunError>,
}

/// A gateway config pointing at `factorial`, with a short deadline so failures are quick.
pub(crate) fn config(factorial: SocketAddr, upstream_timeout: Duration) -> Config {
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
    pub(crate) async fn start(config: Config) -> Self {
        let running =
            spawn(|listeners, shutdown| ncr_gateway::run(listeners, config, shutdown)).await;
        Self {
            base: running.url(),
            http: reqwest::Client::new(),
            running,
        }
    }

    /// GET `path`: the status, the JSON body, and how long it took.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value, Duration) {
        let started = Instant::now();
        let response = self.response(path).await;
        let status = response.status();
        let body = response.json().await.unwrap();
        (status, body, started.elapsed())
    }

    pub(crate) async fn text(&self, path: &str) -> (StatusCode, String) {
        let response = self.response(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// GET `path`: the whole response, headers and all.
    pub(crate) async fn response(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn stop(self) {
        self.running.stop_cleanly().await;
    }
}

/// A gateway in front of a real Factorial server with default settings.
pub(crate) async fn system() -> (Running<ServeError>, Gateway) {
    let factorial = real_factorial(factorial::Config::default()).await;
    let gateway = Gateway::start(config(factorial.addr(), Duration::from_secs(5))).await;
    (factorial, gateway)
}

/// C(n, r) by the multiplicative formula, a method independent of the gateway's.
pub(crate) fn binomial(n: u64, r: u64) -> BigUint {
    let r = r.min(n - r);
    (1..=r).fold(BigUint::from(1u32), |acc, i| acc * (n - r + i) / i)
}

/// A port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], bookstore_testing::free_port()))
}

/// What the fake Factorial service saw of one call.
#[derive(Clone, Debug)]
pub(crate) struct SeenCall {
    /// `x-request-id`.
    pub(crate) request_id: Option<String>,
    /// `grpc-timeout`: the caller's deadline.
    pub(crate) deadline: Option<String>,
}

/// A Factorial service that misbehaves as told, and records what the gateway sent.
#[derive(Clone, Default)]
pub(crate) struct FakeFactorial {
    pub(crate) delay: Duration,
    pub(crate) wrong: bool,
    pub(crate) seen: Arc<Mutex<Vec<SeenCall>>>,
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

/// Serves `fake` on a bare tonic server.
pub(crate) async fn serve_fake(fake: FakeFactorial) -> Running<tonic::transport::Error> {
    let router = tonic::transport::Server::builder().add_service(FactorialServiceServer::new(fake));
    spawn(|listeners, shutdown| {
        router.serve_with_incoming_shutdown(TcpIncoming::from(listeners.main), shutdown)
    })
    .await
}
