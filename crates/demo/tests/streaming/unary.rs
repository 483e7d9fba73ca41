//! Unary calls, and health: the article's acknowledgement, and validation.

use crate::running_server::RunningServer;
use bookstore_proto::legacy::unary;
use bookstore_proto::legacy::unary::unary_client::UnaryClient;
use demo::replies::MAX_MESSAGE_BYTES;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn health_reports_every_demo_service_serving() {
    let server = RunningServer::start().await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [
        "unary.Unary",
        "bidirectional.Bidirectional",
        "bookstore.demo.v1.DemoService",
        "",
    ] {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let status = health.check(request).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn unary_acknowledges_the_message_as_the_article_does() {
    let server = RunningServer::start().await;
    let mut client = UnaryClient::new(server.channel().await);
    let request = unary::Message {
        message: "Hello Server! Are you listening?".into(),
    };
    let reply = client
        .get_server_response(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.message,
        "Hello I am up and running received \"Hello Server! Are you listening?\" message from you"
    );
    assert!(reply.received);
    server.stop().await;
}

#[tokio::test]
async fn unary_rejects_empty_and_oversized_messages() {
    let server = RunningServer::start().await;
    let mut client = UnaryClient::new(server.channel().await);
    let status = client
        .get_server_response(unary::Message::default())
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::InvalidArgument, "message must not be empty")
    );
    let long = unary::Message {
        message: "x".repeat(MAX_MESSAGE_BYTES + 1),
    };
    let status = client.get_server_response(long).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "message is 4097 bytes long; the limit is 4096 bytes"
    );
    server.stop().await;
}
