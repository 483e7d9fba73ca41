//! The client policies against real servers (the platform's `GrpcServer` serving the testing
//! harness's dummy service): retries go to another replica, a silent replica is hedged around
//! and ejected, attempts stop at the maximum and when the retry budget is spent, and calls
//! that may not be retried are sent once. Each replica counts the calls it handled in its own
//! metrics, so the tests see every attempt, not only what the caller got.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bookstore_client::{GrpcChannel, HedgeDelay, Resolve, UpstreamConfig, UpstreamOptions};
use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::DummyRequest;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{GrpcServer, Listeners, ServeError, ServerSettings};
use bookstore_testing::{DummyService, Running, SpecialCases, eventually, series, spawn_on};
use futures_util::future::BoxFuture;
use tonic::Code;

/// One name standing for a fixed set of addresses.
struct Fixed(Vec<SocketAddr>);

impl Resolve for Fixed {
    fn resolve(&self, _host: &str, _port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let addresses = self.0.clone();
        Box::pin(async move { Ok(addresses) })
    }
}

/// A replica on a port of its own, answering "who" as `cases` say, counting into `metrics`.
struct Replica {
    addr: SocketAddr,
    metrics: Metrics,
    _running: Running<ServeError>,
}

impl Replica {
    async fn start(cases: SpecialCases) -> Self {
        let listeners = Listeners::bind("127.0.0.1", 0, None).await.unwrap();
        let addr = listeners.main.local_addr().unwrap();
        let metrics = Metrics::new();
        let server = GrpcServer::new(&ServerSettings::default(), &metrics)
            .add_service(DummyServiceServer::new(DummyService::new(cases)));
        let running = spawn_on(listeners, |listeners, shutdown| {
            server.serve(listeners, shutdown)
        });
        Self {
            addr,
            metrics,
            _running: running,
        }
    }

    /// Unary `Execute` calls this replica handled with `code`.
    fn handled(&self, code: &str) -> f64 {
        let name = "grpc_server_handled_total";
        self.metrics
            .sample(&series(name, "unary", "Execute", Some(code)))
    }
}

fn options() -> UpstreamOptions {
    let mut options = UpstreamOptions {
        upstream_load_balance: true,
        upstream_timeout: Duration::from_secs(5),
        ..UpstreamOptions::default()
    };
    options.resilience.upstream_hedge_delay = HedgeDelay::After(Duration::from_millis(20));
    options
}

/// A client of `replicas` behind one name, recording into `metrics`; ready once every replica
/// has joined the pool.
async fn client_of(
    replicas: &[&Replica],
    options: &UpstreamOptions,
    metrics: &Metrics,
) -> DummyServiceClient<GrpcChannel> {
    let resolver = Fixed(replicas.iter().map(|replica| replica.addr).collect());
    let channel = UpstreamConfig::new("replicas", 0, options)
        .channel_with_resolver(metrics, Arc::new(resolver))
        .unwrap();
    // Discovery probes every address before it joins; give it its first round.
    tokio::time::sleep(Duration::from_millis(300)).await;
    DummyServiceClient::new(channel)
}

async fn call(client: &mut DummyServiceClient<GrpcChannel>, input: &str) -> Result<String, Code> {
    let request = DummyRequest {
        input: input.into(),
    };
    match client.execute(request).await {
        Ok(response) => Ok(response.into_inner().output),
        Err(status) => Err(status.code()),
    }
}

fn client_series(name: &str) -> String {
    format!("{name}{{grpc_service=\"bookstore.testing.v1.DummyService\",grpc_method=\"Execute\"}}")
}

#[tokio::test]
async fn failures_are_retried_on_another_replica_and_the_failing_replica_ejected() {
    // A replica that is draining, and one that sheds load: both say "not served, try again".
    for (code, label) in [
        (Code::Unavailable, "Unavailable"),
        (Code::ResourceExhausted, "ResourceExhausted"),
    ] {
        let failing = Replica::start(SpecialCases::new().fail("who", code, "not now")).await;
        let a = Replica::start(SpecialCases::new().reply("who", "a")).await;
        let b = Replica::start(SpecialCases::new().reply("who", "b")).await;
        let metrics = Metrics::new();
        let mut options = options();
        // Long enough that the ejection outlasts the test.
        options.resilience.upstream_ejection_time = Duration::from_secs(60);
        let mut client = client_of(&[&failing, &a, &b], &options, &metrics).await;

        for _ in 0..100 {
            let answer = call(&mut client, "who").await;
            assert!(
                matches!(answer.as_deref(), Ok("a" | "b")),
                "{label}: {answer:?}"
            );
        }
        let retries = metrics.sample(&client_series("grpc_client_retries_total"));
        assert!(retries >= 1.0, "{label}: {retries}");
        let ejections = "grpc_client_endpoint_ejections_total{upstream=\"replicas\"}";
        assert_eq!(metrics.sample(ejections), 1.0, "{label}");
        assert_eq!(
            failing.handled(label),
            3.0,
            "{label}: ejected at its third failure"
        );

        // Ejected: the failing replica gets no more calls meanwhile.
        for _ in 0..50 {
            assert!(call(&mut client, "who").await.is_ok());
        }
        assert_eq!(failing.handled(label), 3.0, "{label}");
    }
}

#[tokio::test]
async fn a_silent_replica_is_hedged_around_and_ejected() {
    let silent = Replica::start(SpecialCases::new().hang("who")).await;
    let a = Replica::start(SpecialCases::new().reply("who", "a")).await;
    let b = Replica::start(SpecialCases::new().reply("who", "b")).await;
    let metrics = Metrics::new();
    let mut client = client_of(&[&silent, &a, &b], &options(), &metrics).await;

    for _ in 0..60 {
        let answer = call(&mut client, "who").await;
        assert!(matches!(answer.as_deref(), Ok("a" | "b")), "{answer:?}");
    }
    assert!(metrics.sample(&client_series("grpc_client_hedges_total")) >= 1.0);
    let ejections = "grpc_client_endpoint_ejections_total{upstream=\"replicas\"}";
    assert!(
        metrics.sample(ejections) >= 1.0,
        "the silent replica was ejected"
    );
    // Every attempt the hedges outran was cancelled: the silent replica holds no call.
    let started = series("grpc_server_started_total", "unary", "Execute", None);
    assert!(
        silent.metrics.sample(&started) >= 1.0,
        "the silent replica got calls"
    );
    let exposed = silent.metrics.encode();
    assert!(
        exposed
            .lines()
            .any(|line| line.starts_with("grpc_server_in_flight_requests ")),
        "{exposed}"
    );
    let hung = || silent.metrics.sample("grpc_server_in_flight_requests");
    assert!(
        eventually(|| hung() == 0.0).await,
        "{} calls still held",
        hung()
    );
}

#[tokio::test]
async fn attempts_stop_at_the_maximum_and_when_the_retry_budget_is_spent() {
    let down = Replica::start(SpecialCases::new().fail("who", Code::Unavailable, "down")).await;
    let metrics = Metrics::new();
    let options = UpstreamOptions {
        upstream_load_balance: false,
        ..options()
    };
    let channel = UpstreamConfig::new("127.0.0.1", down.addr.port(), &options)
        .channel(&metrics)
        .unwrap();
    let mut client = DummyServiceClient::new(channel);

    assert_eq!(call(&mut client, "who").await, Err(Code::Unavailable));
    assert_eq!(
        down.handled("Unavailable"),
        3.0,
        "three attempts, all to the one endpoint"
    );
    // The bucket started with 10 tokens and lost 3; retries stop at 5 or fewer: the second call
    // makes 2 attempts, every later one 1.
    for _ in 0..9 {
        assert_eq!(call(&mut client, "who").await, Err(Code::Unavailable));
    }
    assert_eq!(down.handled("Unavailable"), 3.0 + 2.0 + 8.0);
    let throttled = metrics.sample(&client_series("grpc_client_retries_throttled_total"));
    assert_eq!(throttled, 9.0);
}

#[tokio::test]
async fn calls_the_service_answered_or_that_may_have_side_effects_are_sent_once() {
    let cases = SpecialCases::new()
        .fail("missing", Code::NotFound, "no such thing")
        .fail("down", Code::Unavailable, "down");
    let replica = Replica::start(cases).await;
    let metrics = Metrics::new();
    let mut client = client_of(&[&replica], &options(), &metrics).await;

    assert_eq!(call(&mut client, "missing").await, Err(Code::NotFound));
    assert_eq!(replica.handled("NotFound"), 1.0, "an answer is not retried");

    // A client stream is not idempotent by the protos: sent once, even when UNAVAILABLE.
    let requests = futures_util::stream::iter([DummyRequest {
        input: "down".into(),
    }]);
    let status = client.execute_client_stream(requests).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    let streams = series(
        "grpc_server_handled_total",
        "client_stream",
        "ExecuteClientStream",
        Some("Unavailable"),
    );
    assert_eq!(replica.metrics.sample(&streams), 1.0);
}

#[tokio::test]
async fn the_channels_of_one_upstream_share_their_budget_and_their_metrics() {
    // A web app makes one channel per server thread, from one config.
    let down = Replica::start(SpecialCases::new().fail("who", Code::Unavailable, "down")).await;
    let metrics = Metrics::new();
    let options = UpstreamOptions {
        upstream_load_balance: false,
        ..options()
    };
    let upstream = UpstreamConfig::new("127.0.0.1", down.addr.port(), &options);
    let mut first = DummyServiceClient::new(upstream.channel(&metrics).unwrap());
    let mut second = DummyServiceClient::new(upstream.clone().channel(&metrics).unwrap());

    assert_eq!(call(&mut first, "who").await, Err(Code::Unavailable));
    assert_eq!(call(&mut second, "who").await, Err(Code::Unavailable));
    // 3 attempts, then 2: the second channel found the bucket the first had spent from.
    assert_eq!(down.handled("Unavailable"), 5.0);
    let exposition = metrics.encode();
    let families = exposition
        .lines()
        .filter(|line| *line == "# TYPE grpc_client_retries counter")
        .count();
    assert_eq!(families, 1, "registered once:\n{exposition}");
}

#[tokio::test]
async fn no_retry_is_sent_that_could_not_start_before_the_deadline() {
    let down = Replica::start(SpecialCases::new().fail("who", Code::Unavailable, "down")).await;
    let metrics = Metrics::new();
    let mut options = UpstreamOptions {
        upstream_load_balance: false,
        ..options()
    };
    // Every backoff is a random wait below 10 s: almost never inside the 200 ms of a call.
    options.resilience.upstream_retry_backoff = Duration::from_secs(10);
    options.resilience.upstream_retry_max_backoff = Duration::from_secs(10);
    let upstream = UpstreamConfig::new("127.0.0.1", down.addr.port(), &options);
    let mut client = DummyServiceClient::new(upstream.channel(&metrics).unwrap());
    for _ in 0..5 {
        let mut request = tonic::Request::new(DummyRequest {
            input: "who".into(),
        });
        request.set_timeout(Duration::from_millis(200));
        // UNAVAILABLE, the server's answer, at once: a call that waited out a backoff longer
        // than its deadline would end DEADLINE_EXCEEDED instead.
        let status = client.execute(request).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    let retried = metrics.sample(&client_series("grpc_client_retries_total"));
    // At most a rare retry whose random wait happened to fit (2% a call).
    assert!(retried <= 2.0, "{retried} retries");
    assert_eq!(down.handled("Unavailable"), 5.0 + retried);
}
