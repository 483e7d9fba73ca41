//! Error → status and error reporting, through the platform's full server: each error kind
//! reaches the client as its own code in all four RPC shapes, and the exact error reaches the
//! reporter once — with method, request id, panic message, and cancellations included.

use std::sync::Arc;

use bookstore_layers::Metrics;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, TestServer, serve_dummy_on_platform};
use tonic::Code;

use bookstore_testing::{DUMMY, WAIT, assert_status, collect, eventually, req, reqs, within};

/// Every code a handler can fail with (all but OK).
const CODES: [Code; 16] = [
    Code::Cancelled,
    Code::Unknown,
    Code::InvalidArgument,
    Code::DeadlineExceeded,
    Code::NotFound,
    Code::AlreadyExists,
    Code::PermissionDenied,
    Code::ResourceExhausted,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::OutOfRange,
    Code::Unimplemented,
    Code::Internal,
    Code::Unavailable,
    Code::DataLoss,
    Code::Unauthenticated,
];

async fn serve(cases: SpecialCases) -> (TestServer, Arc<RecordingReporter>, Metrics) {
    let reporter = Arc::new(RecordingReporter::new());
    let metrics = Metrics::new();
    let server = serve_dummy_on_platform(
        &ServerSettings::default(),
        &metrics,
        reporter.clone(),
        cases,
    )
    .await;
    (server, reporter, metrics)
}

fn input_for(code: Code) -> String {
    format!("fail-{code:?}")
}

fn message_for(code: Code) -> String {
    format!("the handler says {code:?}")
}

fn failing_cases() -> SpecialCases {
    CODES.iter().fold(SpecialCases::new(), |cases, &code| {
        cases.fail(&input_for(code), code, &message_for(code))
    })
}

#[tokio::test]
async fn each_error_kind_gets_its_status_code_in_every_rpc_shape() {
    let (server, reporter, _) = serve(failing_cases()).await;
    let mut client = server.client.clone();
    for code in CODES {
        let (input, message) = (input_for(code), message_for(code));
        let unary = client.execute(req(&input)).await.unwrap_err();
        assert_status(&unary, code, &message);
        let client_stream = client
            .execute_client_stream(reqs(&["fine", &input, "never read"]))
            .await
            .unwrap_err();
        assert_status(&client_stream, code, &message);
        let server_stream = collect(client.execute_server_stream(req(&input)).await)
            .await
            .unwrap_err();
        assert_status(&server_stream, code, &message);
        let bidi = client.execute_bidi_stream(reqs(&["fine", &input])).await;
        let bidi = collect(bidi).await.unwrap_err();
        assert_status(&bidi, code, &message);
    }
    let expected = CODES.len() * 4;
    let reports = reporter.wait_for(expected, WAIT).await;
    assert_eq!(reports.len(), expected, "one report per failed call");
    for code in CODES {
        let mut methods: Vec<_> = reports
            .iter()
            .filter(|report| report.code == code)
            .map(|report| {
                assert_eq!(report.message, message_for(code));
                assert_eq!(report.panic, None);
                report.method.clone()
            })
            .collect();
        methods.sort();
        let expected: Vec<_> = [
            "Execute",
            "ExecuteBidiStream",
            "ExecuteClientStream",
            "ExecuteServerStream",
        ]
        .iter()
        .map(|method| format!("/{DUMMY}/{method}"))
        .collect();
        assert_eq!(methods, expected, "reports for {code:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_exact_error_reaches_the_reporter_once_and_ok_calls_report_nothing() {
    let cases = SpecialCases::new().fail("missing", Code::NotFound, "book 7 not found");
    let (server, reporter, _) = serve(cases).await;
    let mut client = server.client.clone();

    assert_eq!(
        client
            .execute(req("fine"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "fine"
    );
    assert_eq!(
        collect(client.execute_server_stream(req("abc")).await)
            .await
            .unwrap(),
        ["a", "b", "c"]
    );
    let mut request = tonic::Request::new(req("missing"));
    request
        .metadata_mut()
        .insert("x-request-id", "req-42".parse().unwrap());
    let status = client.execute(request).await.unwrap_err();
    assert_status(&status, Code::NotFound, "book 7 not found");
    assert_eq!(
        client
            .execute(req("after"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "after"
    );
    // Stopping the server waits for every call to be let go of, so every report is made.
    within("stopping the server", server.stop()).await;

    let reports = reporter.reports();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let report = &reports[0];
    assert_eq!(report.method, format!("/{DUMMY}/Execute"));
    assert_eq!(
        (report.code, report.message.as_str()),
        (Code::NotFound, "book 7 not found")
    );
    assert_eq!(report.request_id.as_deref(), Some("req-42"));
    assert_eq!(report.panic, None);
    assert!(report.latency < WAIT, "{:?}", report.latency);
}

#[tokio::test]
async fn a_call_without_a_request_id_is_reported_with_the_one_the_server_assigned() {
    let cases = SpecialCases::new().fail("missing", Code::NotFound, "gone");
    let (server, reporter, _) = serve(cases).await;
    let mut client = server.client.clone();
    client.execute(req("missing")).await.unwrap_err();
    let reports = reporter.wait_for(1, WAIT).await;
    let id = reports[0]
        .request_id
        .as_deref()
        .expect("the server assigns a request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    server.stop().await;
}

#[tokio::test]
async fn a_panic_is_reported_with_its_message_while_the_client_sees_a_generic_internal() {
    let cases = SpecialCases::new().panic("boom", "the database password is hunter2");
    let (server, reporter, _) = serve(cases).await;
    let mut client = server.client.clone();

    let status = client.execute(req("boom")).await.unwrap_err();
    assert_status(&status, Code::Internal, "internal error");
    let status = collect(client.execute_server_stream(req("boom")).await)
        .await
        .unwrap_err();
    assert_status(&status, Code::Internal, "internal error");

    let reports = reporter.wait_for(2, WAIT).await;
    assert_eq!(reports.len(), 2, "{reports:#?}");
    for report in &reports {
        assert_eq!(
            (report.code, report.message.as_str()),
            (Code::Internal, "internal error")
        );
        assert_eq!(
            report.panic.as_deref(),
            Some("the database password is hunter2")
        );
    }
    let mut methods: Vec<_> = reports
        .iter()
        .map(|report| report.method.as_str())
        .collect();
    methods.sort_unstable();
    assert_eq!(
        methods,
        [
            format!("/{DUMMY}/Execute"),
            format!("/{DUMMY}/ExecuteServerStream")
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_cancelling_mid_call_is_reported_as_cancelled() {
    let cases = SpecialCases::new().delay("slow", WAIT * 3).hang("stuck");
    let (server, reporter, metrics) = serve(cases).await;
    let in_flight = || metrics.sample("grpc_server_in_flight_requests");

    // A unary call the client gives up on: its future is dropped, the stream is reset.
    let mut client = server.client.clone();
    let call = tokio::spawn(async move { client.execute(req("slow")).await });
    assert!(
        eventually(|| in_flight() == 1.0).await,
        "the slow call never started"
    );
    call.abort();
    let reports = reporter.wait_for(1, WAIT).await;
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].method, format!("/{DUMMY}/Execute"));
    assert_eq!(reports[0].code, Code::Cancelled);

    // A server stream the client drops after it started.
    let mut client = server.client.clone();
    let stream = client
        .execute_server_stream(req("stuck"))
        .await
        .unwrap()
        .into_inner();
    assert!(eventually(|| in_flight() == 1.0).await);
    drop(stream);
    let reports = reporter.wait_for(2, WAIT).await;
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert_eq!(reports[1].method, format!("/{DUMMY}/ExecuteServerStream"));
    assert_eq!(reports[1].code, Code::Cancelled);
    assert!(
        eventually(|| in_flight() == 0.0).await,
        "in flight: {}",
        in_flight()
    );

    // The connection is still good.
    let mut client = server.client.clone();
    assert_eq!(
        client
            .execute(req("fine"))
            .await
            .unwrap()
            .into_inner()
            .output,
        "fine"
    );
    server.stop().await;
}

/// Starts a unary call over a raw HTTP/2 connection and sends half of its request message, so
/// the server is left waiting for the rest.
async fn half_a_request(
    server: &TestServer,
) -> (
    h2::SendStream<bytes::Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!("http://{}/{DUMMY}/Execute", server.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (_response, mut body) = client.send_request(request, false).unwrap();
    // A prefix announcing 100 bytes, then 3 of them.
    body.send_data(
        bytes::Bytes::from_static(&[0, 0, 0, 0, 100, 1, 2, 3]),
        false,
    )
    .unwrap();
    (body, connection)
}

/// A client that goes away half way through sending its request — it resets the stream (here
/// with an unusual reason, then with CANCEL), or its connection breaks (a killed client, a load
/// generator closing its sockets at the end of a run) — cancelled the call. tonic alone makes
/// these `UNKNOWN` "h2 protocol error" or `INTERNAL` "Missing request message", which the error
/// log would report as server faults, thousands at a time, and the metrics would count so.
#[tokio::test]
async fn a_client_that_goes_away_mid_request_is_reported_as_cancelled() {
    let (server, reporter, metrics) = serve(SpecialCases::new()).await;
    let in_flight = || metrics.sample("grpc_server_in_flight_requests");

    for (reports, reason) in [(1, h2::Reason::STREAM_CLOSED), (2, h2::Reason::CANCEL)] {
        let (mut stream, _connection) = half_a_request(&server).await;
        assert!(
            eventually(|| in_flight() == 1.0).await,
            "the call never started"
        );
        stream.send_reset(reason);
        reporter.wait_for(reports, WAIT).await;
        // The server runs on threads of its own: the report can come before the call's
        // in-flight gauge is lowered, and the next call must not be taken as started on the
        // strength of it.
        assert!(
            eventually(|| in_flight() == 0.0).await,
            "the call never ended"
        );
    }

    let (_stream, connection) = half_a_request(&server).await;
    assert!(
        eventually(|| in_flight() == 1.0).await,
        "the call never started"
    );
    // The connection breaks: its task and socket are gone, without a reset or a GOAWAY.
    connection.abort();
    let reports = reporter.wait_for(3, WAIT).await;

    assert_eq!(reports.len(), 3, "{reports:#?}");
    for report in &reports {
        assert_eq!(
            (report.method.as_str(), report.code),
            (format!("/{DUMMY}/Execute").as_str(), Code::Cancelled),
            "{reports:#?}"
        );
    }
    let handled = |code: &str| {
        metrics.sample(&format!(
            r#"grpc_server_handled_total{{grpc_type="unary",grpc_service="{DUMMY}",grpc_method="Execute",grpc_code="{code}"}}"#
        ))
    };
    // The metrics record a call just after the error log reports it.
    assert!(
        eventually(|| handled("Canceled") == 3.0).await,
        "Canceled: {}",
        handled("Canceled")
    );
    assert_eq!(
        handled("Unknown") + handled("Internal") + handled("Aborted"),
        0.0
    );
    server.stop().await;
}
