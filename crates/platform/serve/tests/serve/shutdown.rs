//! Graceful shutdown inside one process (the launcher and tests run servers this way): calls in
//! flight finish, new connections are refused, and at the grace deadline whatever is still
//! running is ended — its client told, its resources let go — rather than left running after
//! `serve` has returned. Both ways of serving: on server threads, and on the caller's runtime.

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, TestServer, serve_dummy_on_platform};
use tokio::time::Instant;
use tonic::Code;

use bookstore_testing::{eventually, req, series, within};

/// Server threads: the default (thread-per-core), and 0 (the caller's runtime).
const MODES: [usize; 2] = [2, 0];

async fn serve(grace: Duration, threads: usize, metrics: &Metrics) -> TestServer {
    let settings = ServerSettings {
        grace_period: grace,
        server_threads: threads,
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new()
        .delay("slow", Duration::from_secs(1))
        .hang("stuck");
    serve_dummy_on_platform(
        &settings,
        metrics,
        Arc::new(RecordingReporter::new()),
        cases,
    )
    .await
}

#[tokio::test]
async fn in_flight_calls_finish_and_new_connections_are_refused() {
    for threads in MODES {
        in_flight_calls_finish_and_new_connections_are_refused_with(threads).await;
    }
}

async fn in_flight_calls_finish_and_new_connections_are_refused_with(threads: usize) {
    let metrics = Metrics::new();
    let server = serve(Duration::from_secs(30), threads, &metrics).await;
    let mut client = server.client.clone();
    let slow = tokio::spawn(async move { client.execute(req("slow")).await });
    assert!(eventually(|| metrics.sample("grpc_server_in_flight_requests") == 1.0).await);

    let started = Instant::now();
    server.trigger_shutdown();
    let addr = server.addr;
    let refused = eventually(|| std::net::TcpStream::connect(addr).is_err()).await;
    assert!(refused, "the listener is still open after shutdown started");
    let slow = within("the slow call", slow).await.unwrap();
    assert_eq!(slow.unwrap().into_inner().output, "slow");
    within("stopping", server.stop()).await;
    // Done when the work was done, not when the grace period ran out.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stuck_stream_is_ended_at_the_grace_deadline() {
    for threads in MODES {
        a_stuck_stream_is_ended_at_the_grace_deadline_with(threads).await;
    }
}

async fn a_stuck_stream_is_ended_at_the_grace_deadline_with(threads: usize) {
    let metrics = Metrics::new();
    let grace = Duration::from_secs(1);
    let server = serve(grace, threads, &metrics).await;
    let mut client = server.client.clone();
    let mut stuck = client
        .execute_server_stream(req("stuck"))
        .await
        .unwrap()
        .into_inner();
    assert!(eventually(|| metrics.sample("grpc_server_in_flight_requests") == 1.0).await);

    let started = Instant::now();
    server.trigger_shutdown();
    // The client hears about it: its stream ends with an error, it is not left hanging.
    let end = within("the end of the stuck stream", stuck.message()).await;
    let status = end.expect_err("the stuck stream must end with an error");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        started.elapsed() >= grace - Duration::from_millis(50),
        "cut before the deadline"
    );
    within("stopping", server.stop()).await;
    assert!(
        started.elapsed() < grace + Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // And the server let go of it: nothing in flight, the call counted.
    let handled = series(
        "grpc_server_handled_total",
        "server_stream",
        "ExecuteServerStream",
        Some("Unavailable"),
    );
    assert!(
        eventually(|| metrics.sample(&handled) == 1.0).await,
        "{}",
        metrics.encode()
    );
    assert_eq!(metrics.sample("grpc_server_in_flight_requests"), 0.0);
}
