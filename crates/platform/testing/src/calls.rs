//! Calling the dummy service (and anything else) from tests: requests, reading a stream to its
//! end, raw message bytes for what protobuf would refuse to encode, and checking a status.

use std::net::SocketAddr;

use bookstore_proto::testing::v1::{DummyRequest, DummyResponse};
use bytes::{Buf, BufMut, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A dummy request.
pub fn req(input: &str) -> DummyRequest {
    DummyRequest {
        input: input.to_owned(),
    }
}

/// Dummy requests, as a stream for the client- and bidi-streaming calls.
pub fn reqs(inputs: &[&str]) -> impl tokio_stream::Stream<Item = DummyRequest> + Send + 'static {
    tokio_stream::iter(inputs.iter().map(|input| req(input)).collect::<Vec<_>>())
}

/// Reads a response stream to its end: every output, or the status it failed with.
pub async fn collect(
    response: Result<tonic::Response<tonic::Streaming<DummyResponse>>, Status>,
) -> Result<Vec<String>, Status> {
    let mut stream = response?.into_inner();
    let mut outputs = Vec::new();
    while let Some(message) = stream.message().await? {
        outputs.push(message.output);
    }
    Ok(outputs)
}

/// A channel to `addr`, connected now.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect()
        .await
        .expect("the server is listening")
}

/// Sends `payload` as the single message of a unary call to `path`, bypassing protobuf, and
/// returns the raw reply: for malformed messages and unknown methods.
pub async fn raw_unary(
    channel: Channel,
    path: &'static str,
    payload: Bytes,
) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    let response = grpc
        .unary(
            tonic::Request::new(payload),
            http::uri::PathAndQuery::from_static(path),
            RawCodec,
        )
        .await?;
    Ok(response.into_inner())
}

/// A codec that sends and receives message bytes as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Asserts a status's code and message together, so a failure shows both.
#[track_caller]
pub fn assert_status(status: &Status, code: Code, message: &str) {
    assert_eq!(
        (status.code(), status.message()),
        (code, message),
        "{status:?}"
    );
}
