//! Client metrics (`grpc_client_*`) on a platform channel move as the server's do, and a call
//! that never reaches a server — nothing listening, a deadline that passes — is counted by the
//! code its caller saw.

use std::time::Duration;

use bookstore_client::UpstreamConfig;
use bookstore_client::UpstreamOptions;
use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_testing::SpecialCases;
use tonic::Code;

use bookstore_testing::{collect, req, reqs, sample_settles, series};

use crate::metrics::{assert_counts, serve};

#[tokio::test]
async fn a_platform_channel_records_client_metrics() {
    let server_metrics = Metrics::new();
    let cases = SpecialCases::new().fail("missing", Code::NotFound, "nope");
    let server = serve(&server_metrics, cases).await;
    let metrics = Metrics::new();
    let upstream =
        UpstreamConfig::new("127.0.0.1", server.addr.port(), &UpstreamOptions::default());
    let mut client = DummyServiceClient::new(upstream.channel(&metrics).unwrap());

    assert_eq!(
        client.execute(req("hi")).await.unwrap().into_inner().output,
        "hi"
    );
    assert_counts(
        &metrics,
        "client",
        "unary",
        "Execute",
        "OK",
        [1.0, 1.0, 1.0],
    )
    .await;

    let outputs = collect(client.execute_server_stream(req("abc")).await)
        .await
        .unwrap();
    assert_eq!(outputs, ["a", "b", "c"]);
    // A client sends the request and receives the stream.
    assert_counts(
        &metrics,
        "client",
        "server_stream",
        "ExecuteServerStream",
        "OK",
        [1.0, 3.0, 1.0],
    )
    .await;

    let outputs = collect(client.execute_bidi_stream(reqs(&["x", "y"])).await)
        .await
        .unwrap();
    assert_eq!(outputs, ["x", "y"]);
    assert_counts(
        &metrics,
        "client",
        "bidi_stream",
        "ExecuteBidiStream",
        "OK",
        [1.0, 2.0, 2.0],
    )
    .await;

    client.execute(req("missing")).await.unwrap_err();
    let not_found = series(
        "grpc_client_handled_total",
        "unary",
        "Execute",
        Some("NotFound"),
    );
    assert_eq!(sample_settles(&metrics, &not_found, 1.0).await, 1.0);
    // Counted on top of the first unary call: sent one more request, received no reply.
    for (what, expected) in [
        ("started_total", 2.0),
        ("msg_sent_total", 2.0),
        ("msg_received_total", 1.0),
    ] {
        let series = series(&format!("grpc_client_{what}"), "unary", "Execute", None);
        assert_eq!(metrics.sample(&series), expected, "{series}");
    }
    assert_eq!(metrics.sample("grpc_client_in_flight_requests"), 0.0);
    // The server's registry is its own.
    assert_eq!(
        server_metrics.sample(&series(
            "grpc_client_started_total",
            "unary",
            "Execute",
            None
        )),
        0.0
    );
    server.stop().await;
}

#[tokio::test]
async fn a_call_to_a_port_where_nothing_listens_is_counted_as_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let metrics = Metrics::new();
    let upstream = UpstreamConfig::new("127.0.0.1", port, &UpstreamOptions::default());
    let mut client = DummyServiceClient::new(upstream.channel(&metrics).unwrap());
    let status = client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let handled = series(
        "grpc_client_handled_total",
        "unary",
        "Execute",
        Some("Unavailable"),
    );
    assert_eq!(sample_settles(&metrics, &handled, 1.0).await, 1.0);
    assert_eq!(metrics.sample("grpc_client_in_flight_requests"), 0.0);
}

#[tokio::test]
async fn a_call_past_its_deadline_is_counted_by_the_code_the_caller_saw() {
    let server_metrics = Metrics::new();
    let server = serve(
        &server_metrics,
        SpecialCases::new().delay("slow", Duration::from_secs(5)),
    )
    .await;
    let metrics = Metrics::new();
    let timeouts = UpstreamOptions {
        upstream_timeout: Duration::from_millis(200),
        ..UpstreamOptions::default()
    };
    let upstream = UpstreamConfig::new("127.0.0.1", server.addr.port(), &timeouts);
    let mut client = DummyServiceClient::new(upstream.channel(&metrics).unwrap());
    let status = client.execute(req("slow")).await.unwrap_err();
    let code = bookstore_layers::code_name(status.code());
    let handled = series("grpc_client_handled_total", "unary", "Execute", Some(code));
    assert_eq!(
        sample_settles(&metrics, &handled, 1.0).await,
        1.0,
        "the caller saw {status:?}"
    );
    assert_eq!(metrics.sample("grpc_client_in_flight_requests"), 0.0);
    server.stop().await;
}
