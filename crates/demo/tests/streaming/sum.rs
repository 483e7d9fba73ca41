//! Client streaming (the sum): the total, its limits, and a client that goes away.

use crate::running_server::{RunningServer, eventually};
use bookstore_proto::demo::v1::SumRequest;
use bookstore_proto::demo::v1::demo_service_client::DemoServiceClient;
use demo::sum::MAX_SUM_VALUES;
use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

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
