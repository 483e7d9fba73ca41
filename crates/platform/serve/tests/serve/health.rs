//! `grpc.health.v1.Health` and server reflection (v1 and v1alpha), as served by every platform
//! server next to its own services.

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_serve::ServerSettings;
use bookstore_testing::{RecordingReporter, SpecialCases, TestServer, serve_dummy_on_platform};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use bookstore_testing::{DUMMY, channel, within};

async fn serve(settings: &ServerSettings) -> TestServer {
    let reporter = Arc::new(RecordingReporter::new());
    serve_dummy_on_platform(settings, &Metrics::new(), reporter, SpecialCases::new()).await
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

#[tokio::test]
async fn check_reports_serving_for_the_server_and_each_service() {
    let server = serve(&ServerSettings::default()).await;
    let mut health = HealthClient::new(channel(server.addr).await);
    for service in ["", DUMMY] {
        let status = health
            .check(check(service))
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let status = health.check(check("no.such.Service")).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn watch_streams_the_status_then_not_serving_when_shutdown_starts() {
    // A long grace period: an open Watch must not make the shutdown wait for it.
    let settings = ServerSettings {
        grace_period: Duration::from_secs(60),
        ..ServerSettings::default()
    };
    let server = serve(&settings).await;
    let mut health = HealthClient::new(channel(server.addr).await);
    let mut overall = health.watch(check("")).await.unwrap().into_inner();
    let mut dummy = health.watch(check(DUMMY)).await.unwrap().into_inner();
    for watch in [&mut overall, &mut dummy] {
        let first = within("the first status", watch.message())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.status(), ServingStatus::Serving);
    }

    server.trigger_shutdown();
    for watch in [&mut overall, &mut dummy] {
        let next = within("the status after shutdown", watch.message())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.status(), ServingStatus::NotServing);
    }
    // The watches then end, so the shutdown is not held for the whole grace period.
    for watch in [&mut overall, &mut dummy] {
        let end = within("the end of the watch", watch.message()).await;
        assert!(matches!(end, Ok(None)), "{end:?}");
    }
    within("stopping a server with watches open", server.stop()).await;
}

mod reflection {
    //! Both reflection versions, so grpcurl (v1) and older clients such as Python's reflection
    //! client (v1alpha) can list and describe the services.

    use super::*;

    /// Everything a platform server lists.
    const EXPECTED: [&str; 4] = [
        DUMMY,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ];

    #[tokio::test]
    async fn v1_lists_every_service() {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

        let server = serve(&ServerSettings::default()).await;
        let mut client = ServerReflectionClient::new(channel(server.addr).await);
        let requests = [
            MessageRequest::ListServices(String::new()),
            MessageRequest::FileContainingSymbol(DUMMY.to_owned()),
        ]
        .map(|request| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        });
        let mut responses = client
            .server_reflection_info(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();

        let listed = within("list services", responses.message())
            .await
            .unwrap()
            .unwrap();
        let Some(MessageResponse::ListServicesResponse(listed)) = listed.message_response else {
            panic!("not a list: {listed:?}");
        };
        let mut names: Vec<_> = listed
            .service
            .into_iter()
            .map(|service| service.name)
            .collect();
        names.sort();
        assert_eq!(names, EXPECTED);

        let file = within("describe a service", responses.message())
            .await
            .unwrap()
            .unwrap();
        let Some(MessageResponse::FileDescriptorResponse(file)) = file.message_response else {
            panic!("not a file: {file:?}");
        };
        assert!(!file.file_descriptor_proto.is_empty());
        server.stop().await;
    }

    #[tokio::test]
    async fn v1alpha_lists_every_service() {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

        let server = serve(&ServerSettings::default()).await;
        let mut client = ServerReflectionClient::new(channel(server.addr).await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let listed = within("list services", responses.message())
            .await
            .unwrap()
            .unwrap();
        let Some(MessageResponse::ListServicesResponse(listed)) = listed.message_response else {
            panic!("not a list: {listed:?}");
        };
        let mut names: Vec<_> = listed
            .service
            .into_iter()
            .map(|service| service.name)
            .collect();
        names.sort();
        assert_eq!(names, EXPECTED);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_admin_healthz_turns_503_while_the_server_drains() {
    let reporter = Arc::new(RecordingReporter::new());
    let cases = SpecialCases::new().delay("slow", Duration::from_secs(1));
    let server =
        serve_dummy_on_platform(&ServerSettings::default(), &Metrics::new(), reporter, cases).await;
    let healthz = format!("http://{}/healthz", server.admin_addr.unwrap());
    let answer = reqwest::get(&healthz).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "serving\n");

    let mut client = server.new_client().await;
    let slow = tokio::spawn(async move { client.execute(bookstore_testing::req("slow")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.trigger_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let draining = reqwest::get(&healthz)
        .await
        .expect("the admin port answers while draining");
    assert_eq!(draining.status(), 503);
    assert_eq!(draining.text().await.unwrap(), "shutting down\n");

    within("the slow call", slow)
        .await
        .unwrap()
        .expect("the call in flight completes");
    within("the shutdown", server.stop()).await;
}
