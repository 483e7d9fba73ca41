//! The unary cases: empty and large messages, compression both ways, status codes and
//! messages, unimplemented methods and services.

use bookstore_proto::grpc_testing::{Empty, SimpleRequest};
use tonic::Code;

use super::expect::{Failure, echo_status_request, ensure, ensure_zeros, expect_status, no, yes};
use crate::call_compression::CallCompression;
use crate::client::Clients;
use crate::payload::zeros;

const REQUEST_SIZE: i32 = 271_828;
const RESPONSE_SIZE: i32 = 314_159;
/// The status messages of status_code_and_message and special_status_message.
const STATUS_MESSAGE: &str = "test status message";
const SPECIAL_MESSAGE: &str = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

/// The large_unary request (the compression cases send it too).
fn large_request() -> SimpleRequest {
    SimpleRequest {
        response_size: RESPONSE_SIZE,
        payload: Some(zeros(REQUEST_SIZE).expect("a positive size")),
        ..SimpleRequest::default()
    }
}

pub(super) async fn empty_unary(clients: &Clients) -> Result<(), Failure> {
    let response = clients
        .test
        .clone()
        .empty_call(clients.request(Empty {}))
        .await?;
    ensure(response.get_ref() == &Empty {}, || {
        "non-empty response".into()
    })
}

pub(super) async fn large_unary(clients: &Clients) -> Result<(), Failure> {
    let response = clients
        .test
        .clone()
        .unary_call(clients.request(large_request()))
        .await?;
    ensure_zeros(response.get_ref().payload.as_ref(), 314_159, "response")
}

/// Sends `request` with its one message compressed or not.
async fn unary_with(
    clients: &Clients,
    request: SimpleRequest,
    compressed: bool,
) -> Result<tonic::Response<bookstore_proto::grpc_testing::SimpleResponse>, tonic::Status> {
    let call = CallCompression::default();
    call.plan_next(compressed);
    let mut request = clients.request(request);
    request.extensions_mut().insert(call);
    clients.test.clone().unary_call(request).await
}

pub(super) async fn client_compressed_unary(clients: &Clients) -> Result<(), Failure> {
    let expecting = |expect| SimpleRequest {
        expect_compressed: expect,
        ..large_request()
    };
    // The probe: an uncompressed message that claims to be compressed must be refused.
    let probe = unary_with(clients, expecting(yes()), false).await;
    expect_status(
        probe,
        Code::InvalidArgument,
        "the probe (uncompressed, expect_compressed)",
    )?;
    for (compressed, expect) in [(true, yes()), (false, no())] {
        let response = unary_with(clients, expecting(expect), compressed).await?;
        let what = if compressed {
            "compressed"
        } else {
            "uncompressed"
        };
        ensure_zeros(response.get_ref().payload.as_ref(), 314_159, what)?;
    }
    Ok(())
}

pub(super) async fn server_compressed_unary(clients: &Clients) -> Result<(), Failure> {
    for compress in [true, false] {
        let call = CallCompression::default();
        let mut request = clients.request(SimpleRequest {
            response_compressed: if compress { yes() } else { no() },
            ..large_request()
        });
        request.extensions_mut().insert(call.clone());
        let response = clients.test.clone().unary_call(request).await?;
        ensure_zeros(response.get_ref().payload.as_ref(), 314_159, "response")?;
        ensure(call.received_all() == [compress], || {
            format!(
                "response_compressed {compress}: the response's compressed flags were {:?}",
                call.received_all()
            )
        })?;
    }
    Ok(())
}

/// Checks a call ended with UNKNOWN and exactly `message`.
fn expect_echo(
    result: Result<impl Sized, tonic::Status>,
    message: &str,
    what: &str,
) -> Result<(), Failure> {
    let status = expect_status(result, Code::Unknown, what)?;
    ensure(status.message() == message, || {
        format!(
            "{what}: message {:?}, expected {message:?}",
            status.message()
        )
    })
}

pub(super) async fn status_code_and_message(clients: &Clients) -> Result<(), Failure> {
    let request = SimpleRequest {
        response_status: Some(echo_status_request(STATUS_MESSAGE)),
        ..SimpleRequest::default()
    };
    let unary = clients
        .test
        .clone()
        .unary_call(clients.request(request))
        .await;
    expect_echo(unary, STATUS_MESSAGE, "UnaryCall")?;
    let duplex = super::streaming::full_duplex_status(clients, STATUS_MESSAGE).await;
    expect_echo(duplex, STATUS_MESSAGE, "FullDuplexCall")
}

pub(super) async fn special_status_message(clients: &Clients) -> Result<(), Failure> {
    let request = SimpleRequest {
        response_status: Some(echo_status_request(SPECIAL_MESSAGE)),
        ..SimpleRequest::default()
    };
    let unary = clients
        .test
        .clone()
        .unary_call(clients.request(request))
        .await;
    expect_echo(unary, SPECIAL_MESSAGE, "UnaryCall")
}

pub(super) async fn unimplemented_method(clients: &Clients) -> Result<(), Failure> {
    let result = clients
        .test
        .clone()
        .unimplemented_call(clients.request(Empty {}))
        .await;
    expect_status(result, Code::Unimplemented, "TestService/UnimplementedCall").map(drop)
}

pub(super) async fn unimplemented_service(clients: &Clients) -> Result<(), Failure> {
    let result = clients
        .unimplemented
        .clone()
        .unimplemented_call(clients.request(Empty {}))
        .await;
    expect_status(
        result,
        Code::Unimplemented,
        "UnimplementedService/UnimplementedCall",
    )
    .map(drop)
}
