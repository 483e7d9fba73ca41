//! `grpc.testing.TestService`, as the interop descriptions' "Server" section specifies it:
//! EmptyCall, UnaryCall, CacheableUnaryCall, StreamingInputCall, StreamingOutputCall,
//! FullDuplexCall and HalfDuplexCall, with Echo Status, CompressedRequest/CompressedResponse
//! (through the call's [`CallCompression`], see `server_layer`) and
//! `ResponseParameters.interval_us`. UnimplementedCall stays unimplemented, as the suite expects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bookstore_proto::grpc_testing::test_service_server::TestService;
use bookstore_proto::grpc_testing::{
    BoolValue, EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse,
};
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::call_compression::CallCompression;
use crate::payload::{body_len, supported_type, zeros};

/// How many responses a streaming call may have produced ahead of the client.
const STREAM_BUFFER: usize = 4;

/// The interop test service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interop;

type ResponseStream = BoxStream<'static, Result<StreamingOutputCallResponse, Status>>;

#[tonic::async_trait]
impl TestService for Interop {
    async fn empty_call(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        Ok(Response::new(Empty {}))
    }

    async fn unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let call = call_compression(&request);
        let message = request.into_inner();
        expect_compressed(message.expect_compressed.as_ref(), &call, 0)?;
        echo_status(message.response_status.as_ref())?;
        supported_type(message.response_type)?;
        let payload = zeros(message.response_size)?;
        call.plan_next(is_true(message.response_compressed.as_ref()));
        Ok(Response::new(SimpleResponse {
            payload: Some(payload),
            ..SimpleResponse::default()
        }))
    }

    async fn cacheable_unary_call(
        &self,
        _request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut response = Response::new(SimpleResponse {
            payload: Some(Payload {
                body: nanos.to_string().into_bytes(),
                ..Payload::default()
            }),
            ..SimpleResponse::default()
        });
        response.metadata_mut().insert(
            "cache-control",
            "public, max-age=60".parse().expect("valid"),
        );
        Ok(response)
    }

    type StreamingOutputCallStream = ResponseStream;

    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
    ) -> Result<Response<ResponseStream>, Status> {
        let call = call_compression(&request);
        let message = request.into_inner();
        supported_type(message.response_type)?;
        echo_status(message.response_status.as_ref())?;
        let (sender, stream) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            let _ = respond(&sender, &call, &message.response_parameters).await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    async fn streaming_input_call(
        &self,
        request: Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<Response<StreamingInputCallResponse>, Status> {
        let call = call_compression(&request);
        let mut requests = request.into_inner();
        let (mut index, mut aggregated) = (0, 0_usize);
        while let Some(message) = requests.message().await? {
            expect_compressed(message.expect_compressed.as_ref(), &call, index)?;
            aggregated += body_len(message.payload.as_ref());
            index += 1;
        }
        let aggregated_payload_size = i32::try_from(aggregated)
            .map_err(|_| Status::out_of_range("the aggregated payload size exceeds 2^31 - 1"))?;
        Ok(Response::new(StreamingInputCallResponse {
            aggregated_payload_size,
        }))
    }

    type FullDuplexCallStream = ResponseStream;

    async fn full_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        let call = call_compression(&request);
        let mut requests = request.into_inner();
        let (sender, stream) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            loop {
                let message = match requests.message().await {
                    Ok(Some(message)) => message,
                    Ok(None) => break,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        break;
                    }
                };
                if answer(&sender, &call, &message).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    type HalfDuplexCallStream = ResponseStream;

    async fn half_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        let call = call_compression(&request);
        let mut requests = request.into_inner();
        let mut received = Vec::new();
        while let Some(message) = requests.message().await? {
            received.push(message);
        }
        let (sender, stream) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            for message in &received {
                if answer(&sender, &call, message).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    async fn unimplemented_call(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Empty>, Status> {
        Err(Status::unimplemented(
            "grpc.testing.TestService/UnimplementedCall is never implemented",
        ))
    }
}

type Sender = mpsc::Sender<Result<StreamingOutputCallResponse, Status>>;

/// Answers one streaming request: its status, if it asks for one, else its responses. `Err`
/// when the stream is over (a status was sent, or the client is gone).
async fn answer(
    sender: &Sender,
    call: &CallCompression,
    message: &StreamingOutputCallRequest,
) -> Result<(), ()> {
    let checked = supported_type(message.response_type)
        .and_then(|()| echo_status(message.response_status.as_ref()));
    if let Err(status) = checked {
        let _ = sender.send(Err(status)).await;
        return Err(());
    }
    respond(sender, call, &message.response_parameters).await
}

/// Sends one response per parameter set, each after its interval, compressed if it asks.
async fn respond(
    sender: &Sender,
    call: &CallCompression,
    parameters: &[ResponseParameters],
) -> Result<(), ()> {
    for parameters in parameters {
        if parameters.interval_us > 0 {
            let interval = u64::try_from(parameters.interval_us).unwrap_or(0);
            tokio::time::sleep(Duration::from_micros(interval)).await;
        }
        let response = zeros(parameters.size).map(|payload| StreamingOutputCallResponse {
            payload: Some(payload),
        });
        let failed = response.is_err();
        if !failed {
            call.plan_next(is_true(parameters.compressed.as_ref()));
        }
        if sender.send(response).await.is_err() || failed {
            return Err(());
        }
    }
    Ok(())
}

/// The call's compression record (the layer puts one in every call's extensions).
fn call_compression<T>(request: &Request<T>) -> CallCompression {
    request
        .extensions()
        .get::<CallCompression>()
        .cloned()
        .unwrap_or_default()
}

/// CompressedRequest: a request that says it was compressed must have been.
fn expect_compressed(
    expected: Option<&BoolValue>,
    call: &CallCompression,
    index: usize,
) -> Result<(), Status> {
    if is_true(expected) && call.received(index) != Some(true) {
        return Err(Status::invalid_argument(format!(
            "request message {index} was expected to be compressed, and was not"
        )));
    }
    Ok(())
}

/// Echo Status: ends the call with the status the request asks for, if any.
fn echo_status(status: Option<&EchoStatus>) -> Result<(), Status> {
    match status {
        Some(status) if status.code != 0 => Err(Status::new(
            Code::from_i32(status.code),
            status.message.clone(),
        )),
        _ => Ok(()),
    }
}

fn is_true(value: Option<&BoolValue>) -> bool {
    value.is_some_and(|value| value.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unary_call_answers_with_the_size_asked_and_echoes_status() {
        let response = Interop
            .unary_call(Request::new(SimpleRequest {
                response_size: 10,
                ..SimpleRequest::default()
            }))
            .await
            .unwrap();
        assert_eq!(body_len(response.get_ref().payload.as_ref()), 10);

        let status = Interop
            .unary_call(Request::new(SimpleRequest {
                response_status: Some(EchoStatus {
                    code: 2,
                    message: "test status message".into(),
                }),
                ..SimpleRequest::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unknown, "test status message")
        );
    }

    #[tokio::test]
    async fn an_uncompressed_request_that_expects_compression_is_refused() {
        let status = Interop
            .unary_call(Request::new(SimpleRequest {
                expect_compressed: Some(BoolValue { value: true }),
                ..SimpleRequest::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }
}
