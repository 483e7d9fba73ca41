//! Server streaming (the countdown): order, pacing, limits, cancellation and backpressure.

use crate::running_server::{RunningServer, eventually, promptly, settled};
use bookstore_proto::demo::v1::CountdownRequest;
use bookstore_proto::demo::v1::demo_service_client::DemoServiceClient;
use demo::countdown::MAX_COUNTDOWN_START;
use futures_util::stream::StreamExt;
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;

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
