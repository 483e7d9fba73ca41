//! Bad input and faults: a malformed message, an unknown method, an oversized message, a client
//! that vanishes mid-call, a request past the server's time limit, a half-sent scrape. Each gets
//! its status (or is dropped), nothing is leaked, and the server keeps serving.

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, TestServer, serve_dummy_on_platform};
use bytes::Bytes;
use tokio::io::AsyncWriteExt as _;
use tonic::Code;

use bookstore_testing::{
    Proxy, WAIT, channel, collect, eventually, raw_unary, req, reqs, sample_settles, series, within,
};

async fn serve(
    settings: &ServerSettings,
    cases: SpecialCases,
) -> (TestServer, Arc<RecordingReporter>, Metrics) {
    let reporter = Arc::new(RecordingReporter::new());
    let metrics = Metrics::new();
    let server = serve_dummy_on_platform(settings, &metrics, reporter.clone(), cases).await;
    (server, reporter, metrics)
}

/// The server still answers, on a fresh connection and on the harness's own.
async fn still_serving(server: &TestServer) {
    let mut fresh = server.new_client().await;
    assert_eq!(
        fresh
            .execute(req("still here"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "still here"
    );
    let mut old = server.client.clone();
    assert_eq!(
        old.execute(req("and here"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "and here"
    );
}

#[tokio::test]
async fn a_malformed_message_is_rejected_and_the_server_keeps_serving() {
    let (server, reporter, metrics) = serve(&ServerSettings::default(), SpecialCases::new()).await;
    // Field 1 announced as a 100-byte string, then the message ends: not protobuf.
    let garbage = Bytes::from_static(&[0x0a, 0x64, 0xff, 0xff]);
    let status = raw_unary(
        channel(server.addr).await,
        "/bookstore.testing.v1.DummyService/Execute",
        garbage,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(status.code(), Code::InvalidArgument | Code::Internal),
        "{status:?}"
    );

    let code = bookstore_layers::code_name(status.code());
    let handled = series("grpc_server_handled_total", "unary", "Execute", Some(code));
    assert_eq!(sample_settles(&metrics, &handled, 1.0).await, 1.0);
    let reports = reporter.wait_for(1, WAIT).await;
    assert_eq!(reports[0].code, status.code());
    still_serving(&server).await;
    assert_eq!(
        sample_settles(&metrics, "grpc_server_in_flight_requests", 0.0).await,
        0.0
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_method_or_service_is_unimplemented() {
    let (server, reporter, _) = serve(&ServerSettings::default(), SpecialCases::new()).await;
    for path in [
        "/bookstore.testing.v1.DummyService/Nope",
        "/no.such.Service/Execute",
    ] {
        let status = raw_unary(channel(server.addr).await, path, Bytes::new())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented, "{path}: {status:?}");
    }
    let reports = reporter.wait_for(2, WAIT).await;
    let codes: Vec<_> = reports.iter().map(|report| report.code).collect();
    assert_eq!(codes, [Code::Unimplemented, Code::Unimplemented]);
    still_serving(&server).await;
    server.stop().await;
}

/// The server's limit applies to every service it serves, above tonic's own default (4 MiB)
/// too: `GrpcServer::add_service` lifts each generated server's decoding limit to it.
#[tokio::test]
async fn a_message_above_tonics_default_limit_passes_when_the_server_allows_it() {
    let settings = ServerSettings {
        max_message_bytes: 8 << 20,
        ..ServerSettings::default()
    };
    let (server, _, _) = serve(&settings, SpecialCases::new()).await;
    let mut client = server
        .client
        .clone()
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(16 << 20);
    let big = "z".repeat(5 << 20);
    let output = client.execute(req(&big)).await.unwrap().into_inner().output;
    assert_eq!(output.len(), big.len());
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_message_is_resource_exhausted() {
    let settings = ServerSettings {
        max_message_bytes: 1024,
        ..ServerSettings::default()
    };
    let (server, _, metrics) = serve(&settings, SpecialCases::new()).await;
    let mut client = server.client.clone();
    let big = "x".repeat(4 * 1024);

    let status = client.execute(req(&big)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let status = client
        .execute_client_stream(reqs(&["small", &big]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let status = collect(client.execute_bidi_stream(reqs(&["small", &big])).await)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    // Just under the limit is fine.
    let fits = "y".repeat(1000);
    assert_eq!(
        client
            .execute(req(&fits))
            .await
            .unwrap()
            .into_inner()
            .output,
        fits
    );
    let handled = series(
        "grpc_server_handled_total",
        "unary",
        "Execute",
        Some("ResourceExhausted"),
    );
    assert_eq!(sample_settles(&metrics, &handled, 1.0).await, 1.0);
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_vanishes_mid_call_leaks_nothing() {
    let cases = SpecialCases::new().delay("slow", WAIT * 3).hang("stuck");
    let (server, reporter, metrics) = serve(&ServerSettings::default(), cases).await;
    let in_flight = || metrics.sample("grpc_server_in_flight_requests");

    let proxy = Proxy::start(server.addr).await;
    let mut client = DummyServiceClient::new(channel(proxy.addr).await);
    let mut unary = client.clone();
    let unary = tokio::spawn(async move { unary.execute(req("slow")).await });
    let stream = client.execute_bidi_stream(reqs(&["stuck"])).await.unwrap();
    assert!(
        eventually(|| in_flight() == 2.0).await,
        "in flight: {}",
        in_flight()
    );

    // The TCP connection goes away without a word: no RST_STREAM, no GOAWAY.
    proxy.cut();
    assert!(
        eventually(|| in_flight() == 0.0).await,
        "in flight: {}",
        in_flight()
    );
    for (grpc_type, method) in [("unary", "Execute"), ("bidi_stream", "ExecuteBidiStream")] {
        let handled = series(
            "grpc_server_handled_total",
            grpc_type,
            method,
            Some("Canceled"),
        );
        assert_eq!(
            sample_settles(&metrics, &handled, 1.0).await,
            1.0,
            "{handled}"
        );
    }
    let reports = reporter.wait_for(2, WAIT).await;
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(
        reports.iter().all(|report| report.code == Code::Cancelled),
        "{reports:#?}"
    );

    // The client side sees its connection fail.
    assert!(within("the cut call", unary).await.unwrap().is_err());
    assert!(collect(Ok(stream)).await.is_err());
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_request_past_the_server_time_limit_fails_with_deadline_exceeded() {
    let settings = ServerSettings {
        request_timeout: Duration::from_millis(300),
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new().delay("slow", Duration::from_secs(5));
    let (server, reporter, metrics) = serve(&settings, cases).await;
    let mut client = server.client.clone();

    let status = client.execute(req("slow")).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let handled = series(
        "grpc_server_handled_total",
        "unary",
        "Execute",
        Some("DeadlineExceeded"),
    );
    assert_eq!(sample_settles(&metrics, &handled, 1.0).await, 1.0);
    let reports = reporter.wait_for(1, WAIT).await;
    assert_eq!(
        (reports[0].code, reports[0].message.as_str()),
        (status.code(), status.message())
    );
    still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_half_sent_metrics_request_does_not_hold_the_shutdown() {
    let settings = ServerSettings {
        grace_period: Duration::from_secs(1),
        ..ServerSettings::default()
    };
    let (server, _, _) = serve(&settings, SpecialCases::new()).await;
    let admin = server.admin_addr.unwrap();
    let mut scrape = tokio::net::TcpStream::connect(admin).await.unwrap();
    scrape
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Let the admin server start reading the request.
    tokio::time::sleep(Duration::from_millis(100)).await;
    within("stopping with a half-sent scrape", server.stop()).await;
    drop(scrape);
}
