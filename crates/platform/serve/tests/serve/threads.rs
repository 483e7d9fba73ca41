//! gRPC servers serve on server threads of their own (`--server-threads`), a connection at a
//! time each, round-robin; with 0 threads, on the caller's runtime.

use std::sync::Arc;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, serve_dummy_on_platform};

use bookstore_testing::{channel, req};

async fn threads_serving_new_connections(threads: usize, connections: usize) -> Vec<String> {
    let settings = ServerSettings {
        server_threads: threads,
        ..ServerSettings::default()
    };
    let server = serve_dummy_on_platform(
        &settings,
        &Metrics::new(),
        Arc::new(RecordingReporter::new()),
        SpecialCases::new().thread_name("which thread?"),
    )
    .await;
    let mut names = Vec::new();
    for _ in 0..connections {
        // A channel of its own: a new connection each time.
        let mut client = DummyServiceClient::new(channel(server.addr).await);
        let answer = client.execute(req("which thread?")).await.unwrap();
        names.push(answer.into_inner().output);
    }
    server.stop().await;
    names
}

#[tokio::test]
async fn connections_take_turns_on_the_server_threads() {
    let names = threads_serving_new_connections(2, 4).await;
    // The harness's own client took the first turn; from there the two threads alternate.
    let mut turns = [names[0].as_str(), names[1].as_str()];
    assert_eq!(names, [turns[0], turns[1], turns[0], turns[1]], "{names:?}");
    turns.sort_unstable();
    assert_eq!(turns, ["grpc-0", "grpc-1"]);
}

#[tokio::test]
async fn with_no_server_threads_calls_run_on_the_callers_runtime() {
    for name in threads_serving_new_connections(0, 2).await {
        assert!(!name.starts_with("grpc-"), "{name}");
    }
}
