//! The cases that end calls early: cancelled by the client before or after a response, and
//! cut by the client's deadline.
//!
//! In tonic a call is cancelled by dropping it (the stream is reset with CANCEL), so there is no
//! status object to read CANCELLED from: these cases assert what the client can observe — the
//! call had not completed when it was dropped, and the channel then serves the next call, so
//! the cancellation reached the transport cleanly.

use std::time::Duration;

use bookstore_proto::grpc_testing::{Empty, ResponseParameters, StreamingOutputCallRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

use super::expect::{Failure, ensure, ensure_zeros, expect_status};
use crate::client::Clients;
use crate::payload::zeros;

/// How long cancel_after_begin lets its call run before cancelling it: long enough for the
/// request headers to leave.
const BEGIN: Duration = Duration::from_millis(200);

pub(super) async fn cancel_after_begin(clients: &Clients) -> Result<(), Failure> {
    let (_open, requests) = mpsc::channel(1);
    let mut test = clients.test.clone();
    let request = clients.request(ReceiverStream::new(requests));
    let call = tokio::spawn(async move { test.streaming_input_call(request).await });
    tokio::time::sleep(BEGIN).await;
    ensure(!call.is_finished(), || {
        "the call completed although its request stream was still open".into()
    })?;
    call.abort();
    let ended = call.await;
    ensure(
        ended.as_ref().is_err_and(|error| error.is_cancelled()),
        || format!("the call was not cancelled: {ended:?}"),
    )?;
    channel_still_serves(clients).await
}

pub(super) async fn cancel_after_first_response(clients: &Clients) -> Result<(), Failure> {
    let (sender, requests) = mpsc::channel(1);
    sender
        .send(StreamingOutputCallRequest {
            response_parameters: vec![ResponseParameters {
                size: 31_415,
                ..ResponseParameters::default()
            }],
            payload: Some(zeros(27_182).expect("a positive size")),
            ..StreamingOutputCallRequest::default()
        })
        .await
        .map_err(|_| Failure::new("the request channel closed"))?;
    let mut responses = clients
        .test
        .clone()
        .full_duplex_call(clients.request(ReceiverStream::new(requests)))
        .await?
        .into_inner();
    let first = responses
        .message()
        .await?
        .ok_or_else(|| Failure::new("the stream ended before the first response"))?;
    ensure_zeros(first.payload.as_ref(), 31_415, "the first response")?;
    // Cancel: drop the call while the request stream is still open.
    drop(responses);
    drop(sender);
    channel_still_serves(clients).await
}

pub(super) async fn timeout_on_sleeping_server(clients: &Clients) -> Result<(), Failure> {
    let (sender, requests) = mpsc::channel(1);
    sender
        .send(StreamingOutputCallRequest {
            payload: Some(zeros(27_182).expect("a positive size")),
            ..StreamingOutputCallRequest::default()
        })
        .await
        .map_err(|_| Failure::new("the request channel closed"))?;
    let mut request = tonic::Request::new(ReceiverStream::new(requests));
    request.set_timeout(Duration::from_millis(1));
    let outcome = async {
        let mut responses = clients
            .test
            .clone()
            .full_duplex_call(request)
            .await?
            .into_inner();
        while responses.message().await?.is_some() {}
        Ok::<_, tonic::Status>(())
    }
    .await;
    drop(sender);
    expect_status(
        outcome,
        Code::DeadlineExceeded,
        "FullDuplexCall with a 1 ms deadline",
    )
    .map(drop)
}

/// A call after a cancelled one succeeds on the same channel.
async fn channel_still_serves(clients: &Clients) -> Result<(), Failure> {
    clients
        .test
        .clone()
        .empty_call(clients.request(Empty {}))
        .await
        .map(drop)
        .map_err(|status| Failure::new(format!("the next call failed: {status:?}")))
}
