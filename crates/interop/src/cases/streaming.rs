//! The streaming cases: client, server and bidirectional streams, empty streams, and
//! per-message compression in both directions.

use bookstore_proto::grpc_testing::{
    ResponseParameters, StreamingInputCallRequest, StreamingOutputCallRequest,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};

use super::expect::{Failure, echo_status_request, ensure, ensure_zeros, expect_status, no, yes};
use crate::call_compression::CallCompression;
use crate::client::Clients;
use crate::payload::zeros;

/// The request sizes of client_streaming and ping_pong, and the response sizes of
/// server_streaming and ping_pong.
const REQUEST_SIZES: [i32; 4] = [27_182, 8, 1_828, 45_904];
const RESPONSE_SIZES: [i32; 4] = [31_415, 9, 2_653, 58_979];

fn input(size: i32) -> StreamingInputCallRequest {
    StreamingInputCallRequest {
        payload: Some(zeros(size).expect("a positive size")),
        ..StreamingInputCallRequest::default()
    }
}

fn output_parameters(size: i32) -> ResponseParameters {
    ResponseParameters {
        size,
        ..ResponseParameters::default()
    }
}

/// Reads every response of `responses`, checking each is zeros of the next size in `sizes`.
async fn expect_sizes(
    responses: &mut Streaming<bookstore_proto::grpc_testing::StreamingOutputCallResponse>,
    sizes: &[i32],
) -> Result<(), Failure> {
    let mut count = 0;
    while let Some(response) = responses.message().await? {
        let expected = sizes.get(count).ok_or_else(|| {
            Failure::new(format!("more than the {} responses expected", sizes.len()))
        })?;
        ensure_zeros(
            response.payload.as_ref(),
            *expected as usize,
            &format!("response {count}"),
        )?;
        count += 1;
    }
    ensure(count == sizes.len(), || {
        format!("{count} responses, expected {}", sizes.len())
    })
}

pub(super) async fn client_streaming(clients: &Clients) -> Result<(), Failure> {
    let requests = tokio_stream::iter(REQUEST_SIZES.map(input));
    let response = clients
        .test
        .clone()
        .streaming_input_call(clients.request(requests))
        .await?;
    let size = response.get_ref().aggregated_payload_size;
    ensure(size == 74_922, || {
        format!("aggregated size {size}, expected 74922")
    })
}

pub(super) async fn client_compressed_streaming(clients: &Clients) -> Result<(), Failure> {
    // The probe: one uncompressed message that claims to be compressed must be refused.
    let probe = CallCompression::default();
    probe.plan_next(false);
    let mut request = clients.request(tokio_stream::iter([StreamingInputCallRequest {
        expect_compressed: yes(),
        ..input(27_182)
    }]));
    request.extensions_mut().insert(probe);
    let result = clients.test.clone().streaming_input_call(request).await;
    expect_status(
        result,
        Code::InvalidArgument,
        "the probe (uncompressed, expect_compressed)",
    )?;

    let call = CallCompression::default();
    call.plan_next(true);
    call.plan_next(false);
    let mut request = clients.request(tokio_stream::iter([
        StreamingInputCallRequest {
            expect_compressed: yes(),
            ..input(27_182)
        },
        StreamingInputCallRequest {
            expect_compressed: no(),
            ..input(45_904)
        },
    ]));
    request.extensions_mut().insert(call);
    let response = clients.test.clone().streaming_input_call(request).await?;
    let size = response.get_ref().aggregated_payload_size;
    ensure(size == 73_086, || {
        format!("aggregated size {size}, expected 73086")
    })
}

pub(super) async fn server_streaming(clients: &Clients) -> Result<(), Failure> {
    let request = StreamingOutputCallRequest {
        response_parameters: RESPONSE_SIZES.map(output_parameters).to_vec(),
        ..StreamingOutputCallRequest::default()
    };
    let mut responses = clients
        .test
        .clone()
        .streaming_output_call(clients.request(request))
        .await?
        .into_inner();
    expect_sizes(&mut responses, &RESPONSE_SIZES).await
}

pub(super) async fn server_compressed_streaming(clients: &Clients) -> Result<(), Failure> {
    let request = StreamingOutputCallRequest {
        response_parameters: vec![
            ResponseParameters {
                compressed: yes(),
                ..output_parameters(31_415)
            },
            ResponseParameters {
                compressed: no(),
                ..output_parameters(92_653)
            },
        ],
        ..StreamingOutputCallRequest::default()
    };
    let call = CallCompression::default();
    let mut request = clients.request(request);
    request.extensions_mut().insert(call.clone());
    let mut responses = clients
        .test
        .clone()
        .streaming_output_call(request)
        .await?
        .into_inner();
    expect_sizes(&mut responses, &[31_415, 92_653]).await?;
    ensure(call.received_all() == [true, false], || {
        format!(
            "the responses' compressed flags were {:?}, expected [true, false]",
            call.received_all()
        )
    })
}

pub(super) async fn ping_pong(clients: &Clients) -> Result<(), Failure> {
    let (sender, requests) = mpsc::channel(1);
    let ping = |index: usize| StreamingOutputCallRequest {
        response_parameters: vec![output_parameters(RESPONSE_SIZES[index])],
        payload: Some(zeros(REQUEST_SIZES[index]).expect("a positive size")),
        ..StreamingOutputCallRequest::default()
    };
    send(&sender, ping(0)).await?;
    let mut responses = clients
        .test
        .clone()
        .full_duplex_call(clients.request(ReceiverStream::new(requests)))
        .await?
        .into_inner();
    for (index, size) in RESPONSE_SIZES.into_iter().enumerate() {
        if index > 0 {
            send(&sender, ping(index)).await?;
        }
        let response = responses
            .message()
            .await?
            .ok_or_else(|| Failure::new(format!("the stream ended before response {index}")))?;
        ensure_zeros(
            response.payload.as_ref(),
            size as usize,
            &format!("response {index}"),
        )?;
    }
    drop(sender);
    let extra = responses.message().await?;
    ensure(extra.is_none(), || "a fifth response".into())
}

pub(super) async fn empty_stream(clients: &Clients) -> Result<(), Failure> {
    let mut responses = clients
        .test
        .clone()
        .full_duplex_call(clients.request(tokio_stream::empty()))
        .await?
        .into_inner();
    expect_sizes(&mut responses, &[]).await
}

/// A FullDuplexCall whose one request asks for a status with `message`: how it ended.
pub(super) async fn full_duplex_status(clients: &Clients, message: &str) -> Result<(), Status> {
    let request = StreamingOutputCallRequest {
        response_status: Some(echo_status_request(message)),
        ..StreamingOutputCallRequest::default()
    };
    let mut responses = clients
        .test
        .clone()
        .full_duplex_call(clients.request(tokio_stream::iter([request])))
        .await?
        .into_inner();
    while responses.message().await?.is_some() {}
    Ok(())
}

async fn send(
    sender: &mpsc::Sender<StreamingOutputCallRequest>,
    request: StreamingOutputCallRequest,
) -> Result<(), Failure> {
    sender
        .send(request)
        .await
        .map_err(|_| Failure::new("the call ended while requests were still to be sent"))
}
