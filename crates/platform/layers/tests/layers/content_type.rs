//! Only gRPC on a gRPC port, through the platform's full server and raw HTTP/2 requests: a
//! request whose `content-type` is not gRPC, or that has none, gets a plain HTTP 415 (no
//! `grpc-status` to mistake it for a gRPC answer); `application/grpc` with a subtype is served
//! as gRPC; a tonic client notices nothing.

use std::net::SocketAddr;
use std::sync::Arc;

use bookstore_layers::{Metrics, TracingReporter};
use bookstore_proto::testing::v1::DummyResponse;
use bookstore_serve::ServerSettings;
use bookstore_testing::{DUMMY, SpecialCases, TestServer, req, serve_dummy_on_platform};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use prost::Message as _;

/// What a raw HTTP/2 request got back: the head, the body, the trailers.
pub(crate) struct RawAnswer {
    pub(crate) head: http::response::Parts,
    pub(crate) body: Bytes,
    pub(crate) trailers: Option<HeaderMap>,
}

/// Sends a POST to the dummy's `Execute` over a new raw HTTP/2 connection, with
/// `content_type` (or none) and `body`, and reads the whole answer.
pub(crate) async fn send_raw(
    addr: SocketAddr,
    content_type: Option<&str>,
    body: Bytes,
) -> RawAnswer {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let mut request =
        http::Request::post(format!("http://{addr}/{DUMMY}/Execute")).header("te", "trailers");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let (response, mut stream) = client
        .send_request(request.body(()).unwrap(), body.is_empty())
        .unwrap();
    if !body.is_empty() {
        stream.send_data(body, true).unwrap();
    }
    let (head, mut received) = response.await.unwrap().into_parts();
    let mut body = BytesMut::new();
    while let Some(chunk) = received.data().await {
        let chunk = chunk.unwrap();
        received
            .flow_control()
            .release_capacity(chunk.len())
            .unwrap();
        body.extend_from_slice(&chunk);
    }
    let trailers = received.trailers().await.unwrap();
    RawAnswer {
        head,
        body: body.freeze(),
        trailers,
    }
}

/// A dummy request for `input`, framed as one gRPC message.
pub(crate) fn framed(input: &str) -> Bytes {
    let message = req(input).encode_to_vec();
    let mut frame = vec![0];
    frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&message);
    frame.into()
}

async fn serve() -> TestServer {
    serve_dummy_on_platform(
        &ServerSettings::default(),
        &Metrics::new(),
        Arc::new(TracingReporter),
        SpecialCases::new(),
    )
    .await
}

#[tokio::test]
async fn a_request_that_is_not_grpc_gets_415() {
    let server = serve().await;
    for content_type in [Some("text/plain"), None, Some("application/grpc-web")] {
        // The body a gRPC server would serve: the refusal is for the content type alone.
        let answer = send_raw(server.addr, content_type, framed("hi")).await;
        let head = &answer.head;
        assert_eq!(
            head.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(head.headers["accept"], "application/grpc");
        assert_eq!(head.headers["content-type"], "text/plain; charset=utf-8");
        let text = std::str::from_utf8(&answer.body).unwrap();
        assert!(text.contains("content-type application/grpc"), "{text}");
        // Nothing that a gRPC client would read as a gRPC answer.
        assert!(head.headers.get("grpc-status").is_none(), "{head:?}");
        let trailers = answer.trailers.unwrap_or_default();
        assert!(trailers.get("grpc-status").is_none(), "{trailers:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn grpc_with_a_subtype_is_served_and_tonic_notices_nothing() {
    let server = serve().await;
    for content_type in ["application/grpc+proto", "application/grpc"] {
        let answer = send_raw(server.addr, Some(content_type), framed("hi")).await;
        assert_eq!(answer.head.status, StatusCode::OK, "{content_type}");
        let trailers = answer.trailers.expect("gRPC trailers");
        assert_eq!(trailers["grpc-status"], "0", "{content_type}: {trailers:?}");
        let reply = DummyResponse::decode(&answer.body[5..]).unwrap();
        assert_eq!(reply.output, "hi");
    }
    let mut client = server.client.clone();
    let reply = client.execute(req("still fine")).await.unwrap();
    assert_eq!(reply.into_inner().output, "still fine");
    server.stop().await;
}
