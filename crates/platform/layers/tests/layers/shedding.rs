//! Overload shedding through a real server: past its limit of calls in progress, a call is
//! refused at once with `RESOURCE_EXHAUSTED` and a message saying why, while the calls it
//! admitted finish as they would have; health checks are still answered; the refusal is
//! counted and reported.

use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{FaultSettings, GrpcServer, ServerSettings};
use bookstore_testing::{
    DUMMY, DummyService, SpecialCases, WAIT, assert_status, eventually, req, series, spawn,
};
use tonic::Code;

use crate::{PlatformServer, serve_on_platform};
use tonic_health::pb::health_check_response::ServingStatus;

/// What a shed call's caller reads, with a limit of two.
const OVERLOADED: &str = "server overloaded: 2 calls in progress (the limit, \
                          --max-concurrent-calls); try again shortly or another replica";

/// The dummy service admitting two calls at a time, where `slow` takes a while.
async fn serve_with_a_limit_of_two() -> PlatformServer {
    let settings = ServerSettings {
        max_concurrent_calls: 2,
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new().delay("slow", Duration::from_secs(2));
    serve_on_platform(&settings, &FaultSettings::default(), cases).await
}

#[tokio::test]
async fn a_call_past_the_limit_is_shed_at_once_and_the_admitted_ones_finish() {
    let server = serve_with_a_limit_of_two().await;
    let slow_calls: Vec<_> = (0..2)
        .map(|_| {
            let mut client = server.client.clone();
            tokio::spawn(async move { client.execute(req("slow")).await })
        })
        .collect();
    assert!(
        eventually(|| server.metrics.sample("grpc_server_in_flight_requests") == 2.0).await,
        "the slow calls never started"
    );

    let status = server.client.clone().execute(req("hi")).await.unwrap_err();
    assert_status(&status, Code::ResourceExhausted, OVERLOADED);
    assert!(
        slow_calls.iter().all(|call| !call.is_finished()),
        "the third call was answered before the slow calls finished, not after them"
    );

    // Probes still get their answer from the overloaded server.
    let health = crate::dummy_health(server.running.channel().await).await;
    assert_eq!(health, ServingStatus::Serving);

    for call in slow_calls {
        let reply = call.await.unwrap().unwrap().into_inner();
        assert_eq!(
            reply.output, "slow",
            "an admitted call finished as it would have"
        );
    }
    // With the load gone, calls are admitted again.
    let reply = server.client.clone().execute(req("hi")).await.unwrap();
    assert_eq!(reply.into_inner().output, "hi");

    let shed =
        format!(r#"grpc_server_shed_calls_total{{grpc_service="{DUMMY}",grpc_method="Execute"}}"#);
    assert_eq!(
        server.metrics.sample(&shed),
        1.0,
        "{}",
        server.metrics.encode()
    );
    let handled = series(
        "grpc_server_handled_total",
        "unary",
        "Execute",
        Some("ResourceExhausted"),
    );
    assert_eq!(server.metrics.sample(&handled), 1.0);
    let reports = server.reporter.wait_for(1, WAIT).await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        (reports[0].code, reports[0].message.as_str()),
        (Code::ResourceExhausted, OVERLOADED)
    );
    server.running.stop_cleanly().await;
}

#[tokio::test]
async fn a_streaming_call_holds_its_place_until_its_stream_ends() {
    let settings = ServerSettings {
        max_concurrent_calls: 1,
        ..ServerSettings::default()
    };
    let metrics = Metrics::new();
    let cases = SpecialCases::new().hang("forever");
    let server = GrpcServer::new(&settings, &metrics)
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let running = spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
    let mut client = DummyServiceClient::new(running.channel().await);
    // A bidi stream whose handler answered (its headers are sent) but whose stream never ends.
    let (sender, requests) = tokio::sync::mpsc::channel(1);
    let stream = client
        .execute_bidi_stream(tokio_stream::wrappers::ReceiverStream::new(requests))
        .await
        .unwrap();
    let status = client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // The stream ends: its place is free.
    drop(sender);
    drop(stream);
    assert!(
        eventually(|| metrics.sample("grpc_server_in_flight_requests") == 0.0).await,
        "the stream never ended"
    );
    assert_eq!(
        client.execute(req("hi")).await.unwrap().into_inner().output,
        "hi"
    );
    running.stop_cleanly().await;
}
