//! Connection hygiene against real servers: connections that stall before their first bytes,
//! HTTP/1 requests that never finish their headers, and HTTP/2 peers that stop answering pings
//! are closed (on gRPC, web and admin ports); connections beyond the limit are answered with a
//! reason and closed. Each with short timeouts, with and without server threads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_serve::{ConnectionSettings, ServeError, ServerSettings, serve_http};
use bookstore_testing::{
    RecordingReporter, Running, SpecialCases, TestServer, channel, req, serve_dummy_on_platform,
    spawn, within,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tonic::Code;

/// Short timeouts, so the tests see them fire.
const SHORT: Duration = Duration::from_millis(300);

fn settings(threads: usize, connections: ConnectionSettings) -> ServerSettings {
    ServerSettings {
        server_threads: threads,
        connections,
        ..ServerSettings::default()
    }
}

fn short_timeouts() -> ConnectionSettings {
    ConnectionSettings {
        handshake_timeout: SHORT,
        header_read_timeout: SHORT,
        http2_keepalive_interval: SHORT,
        http2_keepalive_timeout: SHORT,
        ..ConnectionSettings::default()
    }
}

async fn grpc_server(settings: &ServerSettings) -> TestServer {
    serve_dummy_on_platform(
        settings,
        &Metrics::new(),
        Arc::new(RecordingReporter::new()),
        SpecialCases::new(),
    )
    .await
}

async fn web_server(settings: ServerSettings) -> Running<ServeError> {
    let make_app = || Ok(axum::Router::new().route("/", axum::routing::get(|| async { "hi" })));
    spawn(|listeners, shutdown| async move {
        serve_http(
            listeners.main,
            make_app,
            &Metrics::new(),
            &settings,
            shutdown,
        )
        .await
    })
    .await
}

/// Reads until the server closes the connection; everything it sent.
async fn read_until_closed(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut received = Vec::new();
    within(what, async {
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buf[..read]),
            }
        }
    })
    .await;
    received
}

async fn silent_connection_is_closed(addr: SocketAddr, what: &str) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"PRI * HTTP/2.0").await.unwrap();
    read_until_closed(&mut stream, what).await;
}

#[tokio::test]
async fn a_connection_that_never_sends_its_preface_is_closed() {
    for threads in [0, 2] {
        let server = grpc_server(&settings(threads, short_timeouts())).await;
        silent_connection_is_closed(server.addr, "a silent gRPC connection to close").await;
        let admin = server.admin_addr.expect("an admin port");
        silent_connection_is_closed(admin, "a silent admin connection to close").await;
        server.stop().await;

        let web = web_server(settings(threads, short_timeouts())).await;
        silent_connection_is_closed(web.addr(), "a silent web connection to close").await;
        web.stop_cleanly().await;
    }
}

#[tokio::test]
async fn an_http1_request_that_never_finishes_its_headers_is_closed() {
    for threads in [0, 2] {
        let web = web_server(settings(threads, short_timeouts())).await;
        let mut stream = TcpStream::connect(web.addr()).await.unwrap();
        // Past the first-bytes deadline's 24 bytes, then nothing more.
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nx-slow: ")
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, "a half-sent request to be closed").await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        web.stop_cleanly().await;
    }
}

#[tokio::test]
async fn an_http2_peer_that_stops_answering_pings_is_closed() {
    let server = grpc_server(&settings(2, short_timeouts())).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The client preface and an empty SETTINGS frame; then the client never answers anything.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let received = read_until_closed(&mut stream, "an unresponsive peer to be closed").await;
    let frame_types = frame_types(&received);
    assert!(
        frame_types.contains(&6),
        "the server pinged before closing: {frame_types:?}"
    );
    server.stop().await;
}

/// The types of the HTTP/2 frames in `bytes`.
fn frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let length =
            usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        types.push(bytes[3]);
        bytes = &bytes[(9 + length).min(bytes.len())..];
    }
    types
}

#[tokio::test]
async fn grpc_connections_beyond_the_limit_are_told_why() {
    for threads in [0, 2] {
        let limit = ConnectionSettings {
            max_connections: 2,
            ..ConnectionSettings::default()
        };
        let server = grpc_server(&settings(threads, limit)).await;
        // The harness's own client holds one place; this one the other.
        let mut second = DummyServiceClient::new(channel(server.addr).await);
        second.execute(req("hello")).await.unwrap();

        let mut third = DummyServiceClient::new(channel(server.addr).await);
        let status = third.execute(req("hello")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(
            status.message().contains("limit of 2 connections"),
            "{status:?}"
        );

        drop(second);
        let mut freed = false;
        for _ in 0..100 {
            let mut retry = DummyServiceClient::new(channel(server.addr).await);
            if retry.execute(req("hello")).await.is_ok() {
                freed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(freed, "a closed connection frees its place");
        server.stop().await;
    }
}

#[tokio::test]
async fn web_connections_beyond_the_limit_get_503() {
    let limit = ConnectionSettings {
        max_connections: 1,
        ..ConnectionSettings::default()
    };
    let web = web_server(settings(2, limit)).await;
    let request = b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n";
    let mut first = TcpStream::connect(web.addr()).await.unwrap();
    first.write_all(request).await.unwrap();
    let mut buf = [0; 1024];
    let read = first.read(&mut buf).await.unwrap();
    assert!(
        buf[..read].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &buf[..read]
    );

    let mut second = TcpStream::connect(web.addr()).await.unwrap();
    second.write_all(request).await.unwrap();
    let answer = read_until_closed(&mut second, "the refusal").await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("limit of 1 connections"), "{answer}");
    drop(first);
    web.stop_cleanly().await;
}
