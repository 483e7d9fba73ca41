//! Server and client metrics move by exactly the expected amounts, for all four RPC shapes, and
//! `/metrics` on the admin port shows them under the grpc-ecosystem names.

use std::sync::Arc;

use bookstore_layers::Metrics;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, TestServer, serve_dummy_on_platform};
use bytes::Bytes;
use tonic::Code;

use bookstore_testing::{
    channel, collect, raw_unary, req, reqs, sample_settles, series, series_of,
};

pub(crate) async fn serve(metrics: &Metrics, cases: SpecialCases) -> TestServer {
    let reporter = Arc::new(RecordingReporter::new());
    serve_dummy_on_platform(&ServerSettings::default(), metrics, reporter, cases).await
}

/// Asserts one method's counters after its calls have been let go of.
pub(crate) async fn assert_counts(
    metrics: &Metrics,
    side: &str,
    grpc_type: &str,
    method: &str,
    code: &str,
    [started, received, sent]: [f64; 3],
) {
    let name = |what: &str| format!("grpc_{side}_{what}");
    let handled = series(&name("handled_total"), grpc_type, method, Some(code));
    // `handled` moves last, when the call is let go of: wait for it, then read the rest.
    assert_eq!(
        sample_settles(metrics, &handled, started).await,
        started,
        "{handled}"
    );
    for (what, expected) in [
        ("started_total", started),
        ("msg_received_total", received),
        ("msg_sent_total", sent),
        ("handling_seconds_count", started),
    ] {
        let series = series(&name(what), grpc_type, method, None);
        assert_eq!(metrics.sample(&series), expected, "{series}");
    }
    let in_flight = name("in_flight_requests");
    assert_eq!(
        sample_settles(metrics, &in_flight, 0.0).await,
        0.0,
        "{in_flight}"
    );
}

#[tokio::test]
async fn server_counters_move_by_exactly_the_messages_of_each_rpc_shape() {
    let metrics = Metrics::new();
    let server = serve(&metrics, SpecialCases::new()).await;
    let mut client = server.client.clone();

    assert_eq!(
        client
            .execute(req("abc"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "abc"
    );
    assert_counts(
        &metrics,
        "server",
        "unary",
        "Execute",
        "OK",
        [1.0, 1.0, 1.0],
    )
    .await;

    let reply = client
        .execute_client_stream(reqs(&["a", "b", "c"]))
        .await
        .unwrap();
    assert_eq!(reply.into_inner().output, "abc");
    assert_counts(
        &metrics,
        "server",
        "client_stream",
        "ExecuteClientStream",
        "OK",
        [1.0, 3.0, 1.0],
    )
    .await;

    let outputs = collect(client.execute_server_stream(req("abc")).await)
        .await
        .unwrap();
    assert_eq!(outputs, ["a", "b", "c"]);
    assert_counts(
        &metrics,
        "server",
        "server_stream",
        "ExecuteServerStream",
        "OK",
        [1.0, 1.0, 3.0],
    )
    .await;

    let outputs = collect(client.execute_bidi_stream(reqs(&["x", "y", "z"])).await)
        .await
        .unwrap();
    assert_eq!(outputs, ["x", "y", "z"]);
    assert_counts(
        &metrics,
        "server",
        "bidi_stream",
        "ExecuteBidiStream",
        "OK",
        [1.0, 3.0, 3.0],
    )
    .await;

    // A second unary call moves every counter by one more, not by the total.
    client.execute(req("again")).await.unwrap();
    assert_counts(
        &metrics,
        "server",
        "unary",
        "Execute",
        "OK",
        [2.0, 2.0, 2.0],
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn failed_and_panicking_calls_are_counted_by_the_code_the_client_saw() {
    let metrics = Metrics::new();
    let cases = SpecialCases::new()
        .fail("missing", Code::NotFound, "nope")
        .panic("boom", "kaboom");
    let server = serve(&metrics, cases).await;
    let mut client = server.client.clone();

    client.execute(req("missing")).await.unwrap_err();
    assert_counts(
        &metrics,
        "server",
        "unary",
        "Execute",
        "NotFound",
        [1.0, 1.0, 0.0],
    )
    .await;
    assert_eq!(
        metrics.sample(&series(
            "grpc_server_handled_total",
            "unary",
            "Execute",
            Some("OK")
        )),
        0.0
    );

    // A panic while the stream is produced, after one message went out.
    let (mut stream, _requests) = crate::panics::bidi_then_panic(&mut client).await;
    let status = stream.message().await.unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_counts(
        &metrics,
        "server",
        "bidi_stream",
        "ExecuteBidiStream",
        "Internal",
        [1.0, 2.0, 1.0],
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_method_is_counted_under_unknown() {
    let metrics = Metrics::new();
    let server = serve(&metrics, SpecialCases::new()).await;
    let status = raw_unary(
        channel(server.addr).await,
        "/nope.v1.Nope/Nope",
        Bytes::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    let handled = series_of(
        "grpc_server_handled_total",
        "unary",
        "unknown",
        "unknown",
        Some("Unimplemented"),
    );
    assert_eq!(sample_settles(&metrics, &handled, 1.0).await, 1.0);
    let started = series_of(
        "grpc_server_started_total",
        "unary",
        "unknown",
        "unknown",
        None,
    );
    assert_eq!(metrics.sample(&started), 1.0);
    assert!(
        !metrics.encode().contains("nope"),
        "an unknown path must not become a label"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_admin_port_serves_the_series_over_http() {
    let metrics = Metrics::new();
    let server = serve(&metrics, SpecialCases::new()).await;
    let mut client = server.client.clone();
    collect(client.execute_server_stream(req("abc")).await)
        .await
        .unwrap();
    let handled = series(
        "grpc_server_handled_total",
        "server_stream",
        "ExecuteServerStream",
        Some("OK"),
    );
    sample_settles(&metrics, &handled, 1.0).await;

    let admin = server
        .admin_addr
        .expect("the platform serves an admin port");
    let response = reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let body = response.text().await.unwrap();
    for line in [
        format!(
            "{} 1",
            series(
                "grpc_server_started_total",
                "server_stream",
                "ExecuteServerStream",
                None
            )
        ),
        format!("{handled} 1"),
        format!(
            "{} 1",
            series(
                "grpc_server_msg_received_total",
                "server_stream",
                "ExecuteServerStream",
                None
            )
        ),
        format!(
            "{} 3",
            series(
                "grpc_server_msg_sent_total",
                "server_stream",
                "ExecuteServerStream",
                None
            )
        ),
        format!(
            "{} 1",
            series(
                "grpc_server_handling_seconds_count",
                "server_stream",
                "ExecuteServerStream",
                None
            )
        ),
        "grpc_server_in_flight_requests 0".to_owned(),
        "# TYPE grpc_server_handling_seconds histogram".to_owned(),
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in:\n{body}"
        );
    }
    // Every served method has its series from the start, so dashboards see zeros, not gaps.
    assert!(body.contains(&series(
        "grpc_server_started_total",
        "unary",
        "Execute",
        None
    )));
    assert!(body.contains(&series_of(
        "grpc_server_started_total",
        "server_stream",
        "grpc.health.v1.Health",
        "Watch",
        None
    )));
    server.stop().await;
}
