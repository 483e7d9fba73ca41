//! The four kinds of RPC against a real server on a loopback port: the happy paths, ordering,
//! validation errors, cancellation and backpressure, observed from both ends.

mod running_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bookstore_proto::demo::v1::demo_service_client::DemoServiceClient;
use bookstore_proto::demo::v1::{CountdownRequest, SumRequest};
use bookstore_proto::legacy::bidirectional::bidirectional_client::BidirectionalClient;
use bookstore_proto::legacy::unary::unary_client::UnaryClient;
use bookstore_proto::legacy::{bidirectional, unary};
use demo::countdown::MAX_COUNTDOWN_START;
use demo::replies::MAX_MESSAGE_BYTES;
use demo::sum::MAX_SUM_VALUES;
use futures_util::stream::{self, StreamExt};
use running_server::{RunningServer, eventually, promptly, settled};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn text(message: &str) -> bidirectional::Message {
    bidirectional::Message {
        message: message.to_owned(),
    }
}

fn reply_to(message: &str) -> String {
    format!("Hello from the server, received \"{message}\"")
}

async fn countdown(
    channel: Channel,
    start: u32,
    interval_ms: u32,
) -> tonic::Streaming<bookstore_proto::demo::v1::CountdownResponse> {
    let request = CountdownRequest { start, interval_ms };
    DemoServiceClient::new(channel)
        .countdown(request)
        .await
        .expect("the countdown starts")
        .into_inner()
}

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

// --- Unary -------------------------------------------------------------------------------------

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

// --- Bidirectional streaming -------------------------------------------------------------------

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

// --- Server streaming --------------------------------------------------------------------------

#[tokio::test]
async fn countdown_streams_every_number_in_order() {
    let server = RunningServer::start().await;
    let numbers: Vec<u32> = countdown(server.channel().await, 1_000, 0)
        .await
        .map(|r| r.unwrap().number)
        .collect()
        .await;
    assert_eq!(numbers, (1..=1_000).rev().collect::<Vec<_>>());
    assert_eq!(server.activity.countdown_numbers(), 1_000);
    server.stop().await;
}

#[tokio::test]
async fn countdown_numbers_are_spaced_by_the_interval() {
    let server = RunningServer::start().await;
    let started = std::time::Instant::now();
    let numbers: Vec<u32> = countdown(server.channel().await, 4, 50)
        .await
        .map(|r| r.unwrap().number)
        .collect()
        .await;
    assert_eq!(numbers, [4, 3, 2, 1]);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "three intervals of 50 ms"
    );
    server.stop().await;
}

#[tokio::test]
async fn countdown_requests_outside_the_limits_are_invalid_arguments() {
    let server = RunningServer::start().await;
    let mut client = DemoServiceClient::new(server.channel().await);
    for (start, interval_ms, expected) in [
        (0, 0, "start must be between 1 and 10000, got 0".to_owned()),
        (
            MAX_COUNTDOWN_START + 1,
            0,
            "start must be between 1 and 10000, got 10001".to_owned(),
        ),
        (
            1_000,
            1_000,
            "the countdown would take 999s ((start - 1) x interval); the limit is 300s".to_owned(),
        ),
    ] {
        let status = client
            .countdown(CountdownRequest { start, interval_ms })
            .await
            .expect_err("refused");
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, expected.as_str())
        );
    }
    assert_eq!(server.activity.countdown_numbers(), 0);
    server.stop().await;
}

#[tokio::test]
async fn countdown_cancelled_by_the_client_stops_producing() {
    let server = RunningServer::start().await;
    let mut numbers = countdown(server.channel().await, MAX_COUNTDOWN_START, 10).await;
    for expected in [10_000, 9_999, 9_998] {
        assert_eq!(
            promptly(numbers.message()).await.unwrap().unwrap().number,
            expected
        );
    }
    drop(numbers);
    eventually("the server drops the cancelled countdown", || {
        server.activity.open_streams() == 0
    })
    .await;
    let produced = server.activity.countdown_numbers();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.activity.countdown_numbers(),
        produced,
        "no number is produced after the cancel"
    );
    assert!(
        produced < 50,
        "the countdown stopped soon after the cancel, at {produced}"
    );
    server.stop().await;
}

#[tokio::test]
async fn countdown_producer_is_parked_while_the_client_is_not_reading() {
    let server = RunningServer::start().await;
    // A receive window of 1 KiB holds about 130 of these 8-byte messages (measured: parked at
    // 129); a millisecond apart, an unparked countdown would produce all 10000 within seconds.
    let channel = server
        .endpoint()
        .initial_stream_window_size(1024)
        .connect()
        .await
        .unwrap();
    let mut numbers = countdown(channel, MAX_COUNTDOWN_START, 1).await;

    let parked_at = settled("the countdown", Duration::from_millis(300), || {
        server.activity.countdown_numbers()
    })
    .await;
    assert!(
        parked_at < 1_000,
        "the countdown ran ahead of its reader: {parked_at} numbers produced"
    );
    assert_eq!(server.activity.open_streams(), 1, "parked, not ended");

    // Reading resumes it, from where it was, in order.
    for expected in (MAX_COUNTDOWN_START - 200..=MAX_COUNTDOWN_START).rev() {
        assert_eq!(
            promptly(numbers.message()).await.unwrap().unwrap().number,
            expected
        );
    }
    eventually("the countdown moves on", || {
        server.activity.countdown_numbers() > parked_at
    })
    .await;
    drop(numbers);
    eventually("the stream closes", || server.activity.open_streams() == 0).await;
    server.stop().await;
}

// --- Client streaming --------------------------------------------------------------------------

fn values<I>(values: I) -> impl futures_util::Stream<Item = SumRequest> + Send + 'static
where
    I: IntoIterator<Item = i64>,
    I::IntoIter: Send + 'static,
{
    stream::iter(values).map(|value| SumRequest { value })
}

#[tokio::test]
async fn sum_adds_up_the_streamed_values() {
    let server = RunningServer::start().await;
    let mut client = DemoServiceClient::new(server.channel().await);
    let response = client.sum(values(1..=1_000)).await.unwrap().into_inner();
    assert_eq!((response.sum, response.count), (500_500, 1_000));
    let response = client.sum(values([-5, 2])).await.unwrap().into_inner();
    assert_eq!((response.sum, response.count), (-3, 2));
    let response = client.sum(values([])).await.unwrap().into_inner();
    assert_eq!((response.sum, response.count), (0, 0));
    server.stop().await;
}

#[tokio::test]
async fn sum_refuses_overflow_and_too_many_values() {
    let server = RunningServer::start().await;
    let mut client = DemoServiceClient::new(server.channel().await);
    let status = client.sum(values([i64::MAX, 1])).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (
            Code::OutOfRange,
            "the sum does not fit in a signed 64-bit integer"
        )
    );
    let status = client
        .sum(values((0..=i64::from(MAX_SUM_VALUES)).map(|_| 1)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (
            Code::InvalidArgument,
            "at most 100000 values can be summed in one call"
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn sum_cancelled_by_the_client_closes_the_server_side() {
    let server = RunningServer::start().await;
    let channel = server.channel().await;
    let (outbox, queued) = mpsc::channel(1);
    let call = tokio::spawn(async move {
        DemoServiceClient::new(channel)
            .sum(ReceiverStream::new(queued))
            .await
    });
    outbox.send(SumRequest { value: 1 }).await.unwrap();
    eventually("the server is summing", || {
        server.activity.open_streams() == 1
    })
    .await;
    call.abort();
    eventually("the server drops the cancelled sum", || {
        server.activity.open_streams() == 0
    })
    .await;
    server.stop().await;
}
