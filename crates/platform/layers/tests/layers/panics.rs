//! A panicking handler becomes `INTERNAL` with a generic message, and nothing else notices: a
//! call already in flight on the same connection completes, and the next call on it succeeds —
//! for a panic in the call's future (unary, client-streaming) and while the response body is
//! produced (server-streaming, bidi).

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::CatchPanicLayer;
use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::{DummyRequest, DummyResponse};
use bookstore_serve::ServerSettings;
use bookstore_testing::{
    RecordingReporter, SpecialCases, TestServer, serve_dummy, serve_dummy_on_platform,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Status};

use bookstore_testing::{assert_status, collect, req, reqs, within};

/// How long the concurrent call takes: long enough to be in flight when the panic happens.
const SLOW: Duration = Duration::from_secs(1);

fn cases() -> SpecialCases {
    SpecialCases::new()
        .panic("boom", "kaboom")
        .delay("slow", SLOW)
}

async fn on_platform() -> TestServer {
    let reporter = Arc::new(RecordingReporter::new());
    serve_dummy_on_platform(
        &ServerSettings::default(),
        &Metrics::new(),
        reporter,
        cases(),
    )
    .await
}

/// The four ways to make the dummy panic.
async fn panic_in(shape: &str, client: &mut DummyServiceClient<Channel>) -> Status {
    match shape {
        "unary" => client.execute(req("boom")).await.unwrap_err(),
        "client_stream" => client
            .execute_client_stream(reqs(&["a", "boom"]))
            .await
            .unwrap_err(),
        "server_stream" => collect(client.execute_server_stream(req("boom")).await)
            .await
            .unwrap_err(),
        "bidi_stream" => {
            // One message at a time, so the panic comes in a later poll of the response body
            // than the reply before it (see `bidi_then_panic`).
            let (mut stream, requests) = bidi_then_panic(client).await;
            let status = stream.message().await.unwrap_err();
            drop(requests);
            status
        }
        other => unreachable!("no such shape: {other}"),
    }
}

async fn a_panic_is_contained(server: TestServer) {
    for shape in ["unary", "client_stream", "server_stream", "bidi_stream"] {
        // One connection for everything: the panic must not take it down.
        let mut panicking = server.client.clone();
        let mut concurrent = server.client.clone();
        let in_flight = tokio::spawn(async move { concurrent.execute(req("slow")).await });
        // Let the slow call get going before the panic.
        tokio::time::sleep(SLOW / 10).await;
        let status = panic_in(shape, &mut panicking).await;
        assert_status(&status, Code::Internal, "internal error");
        assert!(
            !in_flight.is_finished(),
            "{shape}: the concurrent call ended too early"
        );
        let concurrent = within("the concurrent call", in_flight).await.unwrap();
        assert_eq!(concurrent.unwrap().into_inner().output, "slow", "{shape}");
        let next = panicking.execute(req("next")).await;
        assert_eq!(next.unwrap().into_inner().output, "next", "{shape}");
        let next = collect(panicking.execute_server_stream(req("ok")).await).await;
        assert_eq!(next.unwrap(), ["o", "k"], "{shape}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_panic_gives_internal_and_spares_the_connection_on_the_platform() {
    a_panic_is_contained(on_platform().await).await;
}

#[tokio::test]
async fn a_panic_gives_internal_and_spares_the_connection_with_the_layer_alone() {
    a_panic_is_contained(serve_dummy(CatchPanicLayer, cases()).await).await;
}

/// Opens a bidi call, sends `a` and reads its reply, then sends `boom`: returns the response
/// stream (next: the panic's status) and the request sender.
///
/// Sent together, the two would be handled in one poll of the response body, and tonic's
/// encoder drops the reply it had buffered when the panic unwinds through it: the client then
/// sees only the `INTERNAL`.
pub(crate) async fn bidi_then_panic(
    client: &mut DummyServiceClient<Channel>,
) -> (tonic::Streaming<DummyResponse>, mpsc::Sender<DummyRequest>) {
    let (requests, receiver) = mpsc::channel(1);
    let mut stream = client
        .execute_bidi_stream(ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    requests.send(req("a")).await.unwrap();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.output, "a");
    requests.send(req("boom")).await.unwrap();
    (stream, requests)
}
