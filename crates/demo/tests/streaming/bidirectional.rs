//! Bidirectional streaming: every message answered in order and as it arrives, the stream
//! ended at the first invalid message, a vanished client noticed, and backpressure.

use crate::running_server::{RunningServer, eventually, promptly, settled};
use bookstore_proto::legacy::bidirectional;
use bookstore_proto::legacy::bidirectional::bidirectional_client::BidirectionalClient;
use demo::replies::MAX_MESSAGE_BYTES;
use futures_util::stream::{self, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

fn text(message: &str) -> bidirectional::Message {
    bidirectional::Message {
        message: message.to_owned(),
    }
}

fn reply_to(message: &str) -> String {
    format!("Hello from the server, received \"{message}\"")
}

#[tokio::test]
async fn bidirectional_answers_every_message_in_order() {
    let server = RunningServer::start().await;
    let messages: Vec<String> = (0..500).map(|i| format!("message {i}")).collect();
    let outgoing = stream::iter(messages.clone()).map(|m| text(&m));
    let mut client = BidirectionalClient::new(server.channel().await);
    let replies: Vec<String> = client
        .get_server_response(outgoing)
        .await
        .unwrap()
        .into_inner()
        .map(|reply| reply.unwrap().message)
        .collect()
        .await;
    let expected: Vec<String> = messages.iter().map(|m| reply_to(m)).collect();
    assert_eq!(replies, expected);
    server.stop().await;
}

#[tokio::test]
async fn bidirectional_answers_each_message_before_the_next_is_sent() {
    let server = RunningServer::start().await;
    let (outbox, queued) = mpsc::channel(1);
    outbox.send(text("ping 0")).await.unwrap();
    let mut client = BidirectionalClient::new(server.channel().await);
    let mut replies = client
        .get_server_response(ReceiverStream::new(queued))
        .await
        .unwrap()
        .into_inner();
    for i in 0..20 {
        // Nothing more is sent until this reply arrives: a server that waited for more input
        // (or for the end of the stream) before answering would time out here.
        let reply = promptly(replies.message()).await.unwrap().expect("a reply");
        assert_eq!(reply.message, reply_to(&format!("ping {i}")));
        outbox.send(text(&format!("ping {}", i + 1))).await.unwrap();
    }
    assert_eq!(
        promptly(replies.message()).await.unwrap().unwrap().message,
        reply_to("ping 20")
    );
    drop(outbox);
    assert!(
        promptly(replies.message()).await.unwrap().is_none(),
        "the server ends its stream after ours"
    );
    assert_eq!(server.activity.bidirectional_replies(), 21);
    server.stop().await;
}

#[tokio::test]
async fn bidirectional_stream_ends_at_the_first_invalid_message_after_earlier_replies() {
    let server = RunningServer::start().await;
    let mut client = BidirectionalClient::new(server.channel().await);
    let oversized = "y".repeat(MAX_MESSAGE_BYTES + 10);
    for (bad, expected_message) in [
        ("", "message must not be empty".to_owned()),
        (
            oversized.as_str(),
            "message is 4106 bytes long; the limit is 4096 bytes".to_owned(),
        ),
    ] {
        let outgoing = stream::iter(["one", "two", bad, "after the bad one"].map(text));
        let mut replies = client
            .get_server_response(outgoing)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            replies.message().await.unwrap().unwrap().message,
            reply_to("one")
        );
        assert_eq!(
            replies.message().await.unwrap().unwrap().message,
            reply_to("two")
        );
        let status = replies.message().await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, expected_message.as_str())
        );
    }
    eventually("both streams are closed", || {
        server.activity.open_streams() == 0
    })
    .await;
    assert_eq!(
        server.activity.bidirectional_replies(),
        4,
        "nothing after a bad message is answered"
    );
    server.stop().await;
}

#[tokio::test]
async fn bidirectional_call_of_a_client_that_goes_away_closes_the_server_side() {
    let server = RunningServer::start().await;
    let endpoint = server.endpoint();
    let (answered, first_reply) = oneshot::channel();
    let (vanish, vanished) = oneshot::channel::<()>();
    // The client runs on its own runtime, standing in for a client process: dropping that
    // runtime drops its connection mid-call, with the request stream still open. (Dropping only
    // tonic's response stream would not do: HTTP/2 keeps a stream whose request side is still
    // open, so a tonic client cancels a bidirectional call by ending or dropping both sides.)
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let call_in_progress = runtime.block_on(async move {
            let (outbox, queued) = mpsc::channel(1);
            outbox.send(text("hello")).await.unwrap();
            let mut client = BidirectionalClient::new(endpoint.connect().await.unwrap());
            let mut replies = client
                .get_server_response(ReceiverStream::new(queued))
                .await
                .unwrap()
                .into_inner();
            answered
                .send(replies.message().await.unwrap().unwrap().message)
                .unwrap();
            let _ = vanished.await;
            (outbox, replies)
        });
        drop(runtime);
        drop(call_in_progress);
    });
    assert_eq!(promptly(first_reply).await.unwrap(), reply_to("hello"));
    assert_eq!(server.activity.open_streams(), 1);
    vanish.send(()).unwrap();
    eventually("the server drops the abandoned stream", || {
        server.activity.open_streams() == 0
    })
    .await;
    client.join().unwrap();
    server.stop().await;
}

/// Messages of 4000 bytes, so that the HTTP/2 windows in between hold only a few hundred.
const LARGE_MESSAGE_BYTES: usize = 4000;
/// More than the transport can hold several times over (20 MB of messages).
const OFFERED_MESSAGES: u64 = 5_000;

#[tokio::test]
async fn bidirectional_server_stops_reading_while_the_client_is_not_reading() {
    let server = RunningServer::start().await;
    // A client that stops reading replies. Its small receive window fills after a few replies;
    // the server, unable to send, must stop reading requests; its own receive window (1 MiB,
    // hyper's default) then fills and the client's request stream stops being pulled.
    let channel = server
        .endpoint()
        .initial_stream_window_size(16 * 1024)
        .connect()
        .await
        .unwrap();
    let offered = Arc::new(AtomicU64::new(0));
    let counted = offered.clone();
    let body = "z".repeat(LARGE_MESSAGE_BYTES - 10);
    let outgoing = stream::iter(0..OFFERED_MESSAGES).map(move |i| {
        counted.fetch_add(1, Ordering::SeqCst);
        text(&format!("{i:08} {body}"))
    });
    let mut replies = BidirectionalClient::new(channel)
        .get_server_response(outgoing)
        .await
        .unwrap()
        .into_inner();

    let pulled = settled(
        "messages pulled from the client",
        Duration::from_millis(300),
        || offered.load(Ordering::SeqCst),
    )
    .await;
    let answered = server.activity.bidirectional_replies();
    // What is in flight is bounded by the flow-control windows and send buffers on the way
    // (≈ 1 MiB of requests, 16 KiB plus one 32 KiB encoder chunk of replies; measured: 288
    // pulled, 16 answered), not by what the client offers: a server that buffered would have
    // read all 5000 and answered them. The bounds leave a wide margin for transport details.
    assert!(
        pulled < 1_000,
        "the client's request stream was drained: {pulled} messages pulled"
    );
    assert!(
        answered < 100,
        "the server kept answering a client that does not read: {answered}"
    );
    assert!(answered <= pulled);

    // Once the client reads, everything flows again, in order.
    for i in 0..OFFERED_MESSAGES {
        let reply = promptly(replies.message()).await.unwrap().expect("a reply");
        assert!(
            reply
                .message
                .starts_with(&format!("Hello from the server, received \"{i:08} "))
        );
    }
    assert!(promptly(replies.message()).await.unwrap().is_none());
    assert_eq!(offered.load(Ordering::SeqCst), OFFERED_MESSAGES);
    server.stop().await;
}
