//! Both Factorial APIs over generated requests (proptest), through a real server: every `n`
//! and `view` (v1) and every float (legacy) gets the status the README and the proto document,
//! with the exact n! on success; any bytes as a request message — to either API or to the
//! health check — get that same answer when they decode as the request, and `INTERNAL` (gRPC's
//! code for an unparseable request) when they do not; and the server keeps serving. `PROPTEST_CASES` sets the number of cases
//! (`bench/fuzz.sh`).

use bookstore_proto::factorial::v1;
use bookstore_proto::factorial::v1::factorial_service_client::FactorialServiceClient;
use bookstore_proto::legacy;
use bookstore_proto::legacy::factorial_client::FactorialClient;
use bookstore_serve::ServeError;
use bookstore_testing::{Running, property_cases, property_runtime, raw_unary, spawn};
use bytes::Bytes;
use num_bigint::BigUint;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use prost::Message;
use tokio::runtime::Runtime;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// The server's limit here: above `INLINE_MAX_N`, so both ways of computing are exercised,
/// and small, so every answer is cheap.
const MAX_N: u64 = 1_500;

const V1_FACTORIAL: &str = "/bookstore.factorial.v1.FactorialService/Factorial";
const LEGACY_FACTORIAL: &str = "/Factorial/Factorial";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

fn cases(ci_default: u32) -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..ProptestConfig::with_cases(property_cases(ci_default))
    }
}

/// The service, on a runtime of its own.
struct Server {
    channel: Channel,
    _running: Running<ServeError>,
    runtime: Runtime,
}

impl Server {
    fn start() -> Self {
        let runtime = property_runtime();
        let config = factorial::Config {
            max_n: MAX_N,
            ..factorial::Config::default()
        };
        let (running, channel) = runtime.block_on(async {
            let running =
                spawn(|listeners, shutdown| factorial::run(listeners, config, shutdown)).await;
            let channel = running.channel().await;
            (running, channel)
        });
        Self {
            channel,
            _running: running,
            runtime,
        }
    }

    /// Fails the property unless the server still answers a well-formed call.
    fn still_serving(&self) {
        let mut client = FactorialServiceClient::new(self.channel.clone());
        let request = v1::FactorialRequest { n: 5, view: 0 };
        let answer = self.runtime.block_on(client.factorial(request)).unwrap();
        assert_eq!(answer.into_inner().decimal, "120");
    }
}

/// n!, the slow and obvious way.
fn factorial(n: u64) -> BigUint {
    (1..=n).fold(BigUint::from(1u32), |product, k| product * k)
}

/// The v1 answer the proto documents: an unknown view is `INVALID_ARGUMENT`, an n above the
/// limit `OUT_OF_RANGE` (the view is checked first); otherwise n! both ways, or big-endian only.
fn documented_v1(request: &v1::FactorialRequest) -> Result<v1::FactorialResponse, Code> {
    let decimal = match v1::FactorialView::try_from(request.view) {
        Ok(v1::FactorialView::Unspecified | v1::FactorialView::Full) => true,
        Ok(v1::FactorialView::BigEndianOnly) => false,
        Err(_) => return Err(Code::InvalidArgument),
    };
    if request.n > MAX_N {
        return Err(Code::OutOfRange);
    }
    let value = factorial(request.n);
    Ok(v1::FactorialResponse {
        n: request.n,
        decimal: if decimal {
            value.to_string()
        } else {
            String::new()
        },
        big_endian: value.to_bytes_be(),
    })
}

/// The legacy answer the README documents: NaN, infinities, negatives and fractions are
/// `INVALID_ARGUMENT`; n ≥ 35 is `OUT_OF_RANGE` (n! does not fit a float); otherwise the float
/// nearest n!.
fn documented_legacy(value: f32) -> Result<f32, Code> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return Err(Code::InvalidArgument);
    }
    if value >= 35.0 {
        return Err(Code::OutOfRange);
    }
    // Parsing the exact decimal rounds it to the nearest float, as the API promises.
    Ok(factorial(value as u64).to_string().parse().unwrap())
}

fn check<T: PartialEq + std::fmt::Debug>(
    answer: Result<T, Status>,
    documented: Result<T, Code>,
) -> Result<(), TestCaseError> {
    match (answer, documented) {
        (Ok(answer), Ok(expected)) => prop_assert_eq!(answer, expected),
        (Err(status), Err(code)) => prop_assert_eq!(status.code(), code, "{:?}", status),
        (answer, documented) => {
            return Err(TestCaseError::fail(format!(
                "{answer:?}, documented {documented:?}"
            )));
        }
    }
    Ok(())
}

fn v1_request() -> impl Strategy<Value = v1::FactorialRequest> {
    let n = prop_oneof![4 => 0..=MAX_N + 10, 1 => any::<u64>()];
    let view = prop_oneof![4 => -1..=3i32, 1 => any::<i32>()];
    (n, view).prop_map(|(n, view)| v1::FactorialRequest { n, view })
}

fn legacy_value() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => (0..40u8).prop_map(f32::from),
        1 => (-40..40i8).prop_map(|n| f32::from(n) + 0.5),
        1 => prop::sample::select(vec![-0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 34.000_004, f32::MIN_POSITIVE]),
        2 => any::<f32>(),
    ]
}

#[test]
fn every_v1_request_gets_its_documented_answer() {
    let server = Server::start();
    proptest!(cases(128), |(request in v1_request())| {
        let mut client = FactorialServiceClient::new(server.channel.clone());
        let answer = server.runtime.block_on(client.factorial(request));
        check(answer.map(tonic::Response::into_inner), documented_v1(&request))?;
    });
    server.still_serving();
}

#[test]
fn every_legacy_value_gets_its_documented_answer() {
    let server = Server::start();
    proptest!(cases(256), |(value in legacy_value())| {
        let mut client = FactorialClient::new(server.channel.clone());
        let answer = server.runtime.block_on(client.factorial(legacy::Number { value }));
        let answer = answer.map(|response| response.into_inner().value.to_bits());
        check(answer, documented_legacy(value).map(f32::to_bits))?;
    });
    server.still_serving();
}

/// Message bytes: anything, or a real message with anything after it.
fn message_bytes<M: Message + std::fmt::Debug + 'static>(
    message: impl Strategy<Value = M>,
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        (message, prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(message, tail)| [
            message.encode_to_vec(),
            tail
        ]
        .concat()),
    ]
}

#[test]
fn any_bytes_as_a_request_get_the_documented_answer_or_internal() {
    let server = Server::start();
    let legacy_message = legacy_value().prop_map(|value| legacy::Number { value });
    let bytes = (
        any::<bool>(),
        message_bytes(v1_request()),
        message_bytes(legacy_message),
    );
    proptest!(cases(256), |((v1_api, v1_bytes, legacy_bytes) in bytes)| {
        let (path, bytes) = if v1_api { (V1_FACTORIAL, v1_bytes) } else { (LEGACY_FACTORIAL, legacy_bytes) };
        let call = raw_unary(server.channel.clone(), path, Bytes::from(bytes.clone()));
        let answer = server.runtime.block_on(call);
        if v1_api {
            match v1::FactorialRequest::decode(bytes.as_slice()) {
                Ok(request) => {
                    let answer = answer.map(|reply| v1::FactorialResponse::decode(reply).unwrap());
                    check(answer, documented_v1(&request))?;
                }
                Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
            }
        } else {
            match legacy::Number::decode(bytes.as_slice()) {
                Ok(request) => {
                    let answer = answer.map(|reply| legacy::Number::decode(reply).unwrap().value.to_bits());
                    check(answer, documented_legacy(request.value).map(f32::to_bits))?;
                }
                Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
            }
        }
    });
    server.still_serving();
}

/// The services whose health the server reports: the overall `""` and its own two.
const SERVING: [&str; 3] = ["", "Factorial", "bookstore.factorial.v1.FactorialService"];

#[test]
fn any_health_check_gets_serving_not_found_or_internal() {
    let server = Server::start();
    let name = prop_oneof![
        3 => prop::sample::select(SERVING.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["grpc.health.v1.Health", "factorial", "Factorial "])
            .prop_map(str::to_owned),
        2 => any::<String>(),
    ];
    let request = message_bytes(name.prop_map(|service| HealthCheckRequest { service }));
    proptest!(cases(128), |(bytes in request)| {
        let call = raw_unary(server.channel.clone(), HEALTH_CHECK, Bytes::from(bytes.clone()));
        let answer = server.runtime.block_on(call);
        match HealthCheckRequest::decode(bytes.as_slice()) {
            Ok(request) if SERVING.contains(&request.service.as_str()) => {
                let status = HealthCheckResponse::decode(answer.unwrap()).unwrap().status;
                prop_assert_eq!(status, ServingStatus::Serving as i32);
            }
            Ok(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::NotFound),
            Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
        }
    });
    server.still_serving();
}
