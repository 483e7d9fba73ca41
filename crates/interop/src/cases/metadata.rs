//! custom_metadata: metadata sent as initial metadata comes back as the server's initial
//! metadata (`x-grpc-test-echo-initial`) and as its trailing metadata
//! (`x-grpc-test-echo-trailing-bin`), on a unary and on a full-duplex call.
//!
//! tonic merges a unary response's trailers into its metadata, so for UnaryCall the trailing
//! value is checked there; FullDuplexCall reads the trailers on their own.

use bookstore_proto::grpc_testing::{
    ResponseParameters, SimpleRequest, StreamingOutputCallRequest,
};
use tonic::metadata::{MetadataMap, MetadataValue};

use super::expect::{Failure, ensure, ensure_zeros};
use crate::client::Clients;
use crate::payload::zeros;
use crate::server_layer::{ECHO_INITIAL, ECHO_TRAILING};

const INITIAL_VALUE: &str = "test_initial_metadata_value";
const TRAILING_VALUE: [u8; 3] = [0xab, 0xab, 0xab];

fn attach(metadata: &mut MetadataMap) {
    metadata.insert(ECHO_INITIAL, MetadataValue::from_static(INITIAL_VALUE));
    metadata.insert_bin(ECHO_TRAILING, MetadataValue::from_bytes(&TRAILING_VALUE));
}

fn ensure_initial(metadata: &MetadataMap, what: &str) -> Result<(), Failure> {
    let value = metadata
        .get(ECHO_INITIAL)
        .and_then(|value| value.to_str().ok());
    ensure(value == Some(INITIAL_VALUE), || {
        format!("{what}: initial metadata {ECHO_INITIAL} was {value:?}")
    })
}

fn ensure_trailing(metadata: &MetadataMap, what: &str) -> Result<(), Failure> {
    let value = metadata
        .get_bin(ECHO_TRAILING)
        .and_then(|value| value.to_bytes().ok());
    ensure(value.as_deref() == Some(&TRAILING_VALUE[..]), || {
        format!("{what}: trailing metadata {ECHO_TRAILING} was {value:?}")
    })
}

pub(super) async fn custom_metadata(clients: &Clients) -> Result<(), Failure> {
    let mut request = clients.request(SimpleRequest {
        response_size: 314_159,
        payload: Some(zeros(271_828).expect("a positive size")),
        ..SimpleRequest::default()
    });
    attach(request.metadata_mut());
    let response = clients.test.clone().unary_call(request).await?;
    ensure_initial(response.metadata(), "UnaryCall")?;
    ensure_trailing(response.metadata(), "UnaryCall")?;
    ensure_zeros(response.get_ref().payload.as_ref(), 314_159, "UnaryCall")?;

    let mut request = clients.request(tokio_stream::iter([StreamingOutputCallRequest {
        response_parameters: vec![ResponseParameters {
            size: 314_159,
            ..ResponseParameters::default()
        }],
        payload: Some(zeros(271_828).expect("a positive size")),
        ..StreamingOutputCallRequest::default()
    }]));
    attach(request.metadata_mut());
    let response = clients.test.clone().full_duplex_call(request).await?;
    ensure_initial(response.metadata(), "FullDuplexCall")?;
    let mut responses = response.into_inner();
    let mut count = 0;
    while let Some(response) = responses.message().await? {
        ensure_zeros(response.payload.as_ref(), 314_159, "FullDuplexCall")?;
        count += 1;
    }
    ensure(count == 1, || {
        format!("FullDuplexCall: {count} responses, expected 1")
    })?;
    let trailers = responses
        .trailers()
        .await?
        .ok_or_else(|| Failure::new("FullDuplexCall: no trailers"))?;
    ensure_trailing(&trailers, "FullDuplexCall")
}
