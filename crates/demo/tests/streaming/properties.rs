//! The four kinds of RPC over generated requests (proptest): every message, countdown and
//! stream of values gets the status the README and `error.rs` document — `INVALID_ARGUMENT`
//! for an empty or oversized message or a countdown out of bounds, `OUT_OF_RANGE` for a sum
//! past 64 bits, after the replies to what came before — and any bytes as request messages get
//! that same answer when they decode, and `INTERNAL` (gRPC's code for an unparseable request)
//! at the first that does not. The server keeps serving. `PROPTEST_CASES` sets the number of
//! cases (`bench/fuzz.sh`).

use std::time::Duration;

use bookstore_proto::demo::v1::{CountdownRequest, CountdownResponse, SumRequest, SumResponse};
use bookstore_proto::legacy::{bidirectional, unary};
use bookstore_testing::{RawCodec, property_cases, property_runtime, raw_unary};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::uri::PathAndQuery;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use prost::Message;
use tokio::runtime::Runtime;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::running_server::RunningServer;

const UNARY: &str = "/unary.Unary/GetServerResponse";
const BIDIRECTIONAL: &str = "/bidirectional.Bidirectional/GetServerResponse";
const COUNTDOWN: &str = "/bookstore.demo.v1.DemoService/Countdown";
const SUM: &str = "/bookstore.demo.v1.DemoService/Sum";

/// The longest message accepted, in bytes (`replies.rs`).
const MAX_MESSAGE_BYTES: usize = 4096;
/// The largest countdown start, and the longest countdown (`countdown.rs`).
const MAX_COUNTDOWN_START: u32 = 10_000;
const MAX_COUNTDOWN: Duration = Duration::from_secs(300);

fn cases(ci_default: u32) -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..ProptestConfig::with_cases(property_cases(ci_default))
    }
}

/// A demo server with a channel to it, on a runtime of their own.
struct Server {
    channel: Channel,
    _server: RunningServer,
    runtime: Runtime,
}

impl Server {
    fn start() -> Self {
        let runtime = property_runtime();
        let (server, channel) = runtime.block_on(async {
            let server = RunningServer::start().await;
            let channel = server.channel().await;
            (server, channel)
        });
        Self {
            channel,
            _server: server,
            runtime,
        }
    }

    /// A call of any shape with raw message bytes (on the wire, a unary request is a stream
    /// of one message): the replies, then how the call ended. After `keep` replies the rest
    /// is cancelled.
    fn call(&self, path: &'static str, messages: Vec<Vec<u8>>, keep: usize) -> Reply {
        let channel = self.channel.clone();
        let path = PathAndQuery::from_static(path);
        self.runtime.block_on(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.unwrap();
            let requests = tokio_stream::iter(messages.into_iter().map(Bytes::from));
            let response = grpc
                .streaming(tonic::Request::new(requests), path, RawCodec)
                .await;
            let mut replies = Vec::new();
            let mut stream = match response {
                Ok(response) => response.into_inner(),
                Err(status) => return (replies, Err(status)),
            };
            while replies.len() < keep {
                match stream.next().await {
                    Some(Ok(reply)) => replies.push(reply),
                    Some(Err(status)) => return (replies, Err(status)),
                    None => break,
                }
            }
            (replies, Ok(()))
        })
    }

    /// Fails the property unless the server still answers a well-formed call.
    fn still_serving(&self) {
        let message = unary::Message {
            message: "still there?".into(),
        };
        let call = raw_unary(self.channel.clone(), UNARY, message.encode_to_vec().into());
        let reply = unary::MessageResponse::decode(self.runtime.block_on(call).unwrap());
        assert!(reply.unwrap().received);
    }
}

/// The replies of a call, and how it ended.
type Reply = (Vec<Bytes>, Result<(), Status>);

/// The answer a call must get: these replies, then this end (`Ok` for a clean one).
type Documented<T> = (Vec<T>, Result<(), Code>);

/// Checks a call's replies and end against the documented ones.
fn check<T: Message + Default + PartialEq + std::fmt::Debug>(
    (replies, end): Reply,
    (expected, expected_end): Documented<T>,
) -> Result<(), TestCaseError> {
    let replies: Vec<T> = replies
        .into_iter()
        .map(|reply| T::decode(reply).unwrap())
        .collect();
    prop_assert_eq!(replies, expected);
    prop_assert_eq!(end.map_err(|status| status.code()), expected_end);
    Ok(())
}

/// Each message's reply until the first that is not valid protobuf (`INTERNAL`), empty or
/// over the limit (`INVALID_ARGUMENT`); `reply` words a reply.
fn documented_replies<T>(messages: &[Vec<u8>], reply: impl Fn(String) -> T) -> Documented<T> {
    let mut replies = Vec::new();
    for bytes in messages {
        let Ok(message) = unary::Message::decode(bytes.as_slice()) else {
            return (replies, Err(Code::Internal));
        };
        if message.message.is_empty() || message.message.len() > MAX_MESSAGE_BYTES {
            return (replies, Err(Code::InvalidArgument));
        }
        replies.push(reply(message.message));
    }
    (replies, Ok(()))
}

fn unary_reply(message: String) -> unary::MessageResponse {
    unary::MessageResponse {
        message: format!("Hello I am up and running received \"{message}\" message from you"),
        received: true,
    }
}

fn bidirectional_reply(message: String) -> bidirectional::Message {
    bidirectional::Message {
        message: format!("Hello from the server, received \"{message}\""),
    }
}

/// A countdown's numbers: all of them if it is quick, else the first.
fn documented_countdown(bytes: &[u8]) -> (Documented<CountdownResponse>, usize) {
    let Ok(request) = CountdownRequest::decode(bytes) else {
        return ((vec![], Err(Code::Internal)), 1);
    };
    let start = request.start;
    let interval = Duration::from_millis(request.interval_ms.into());
    if !(1..=MAX_COUNTDOWN_START).contains(&start)
        || interval.saturating_mul(start - 1) > MAX_COUNTDOWN
    {
        return ((vec![], Err(Code::InvalidArgument)), 1);
    }
    // A quick countdown is read to its end; of a slow one, only the first number.
    let quick = start <= 50 && interval.saturating_mul(start - 1) <= Duration::from_millis(20);
    let keep = if quick { usize::MAX } else { 1 };
    let numbers = (1..=start).rev().take(keep);
    let numbers = numbers.map(|number| CountdownResponse { number }).collect();
    ((numbers, Ok(())), keep)
}

/// The sum of the values, or the first failure: `INTERNAL` for a message that is not
/// protobuf, `OUT_OF_RANGE` once the running sum leaves 64 bits.
fn documented_sum(messages: &[Vec<u8>]) -> Documented<SumResponse> {
    let mut sum = SumResponse::default();
    for bytes in messages {
        let Ok(request) = SumRequest::decode(bytes.as_slice()) else {
            return (vec![], Err(Code::Internal));
        };
        let Some(total) = sum.sum.checked_add(request.value) else {
            return (vec![], Err(Code::OutOfRange));
        };
        sum = SumResponse {
            sum: total,
            count: sum.count + 1,
        };
    }
    (vec![sum], Ok(()))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        4 => any::<String>(),
        1 => (MAX_MESSAGE_BYTES - 3..=MAX_MESSAGE_BYTES + 3).prop_map(|len| "x".repeat(len)),
        1 => (MAX_MESSAGE_BYTES / 2 - 2..=MAX_MESSAGE_BYTES / 2 + 1).prop_map(|len| "é".repeat(len)),
    ]
}

fn countdown() -> impl Strategy<Value = CountdownRequest> {
    let start =
        prop_oneof![3 => 0..=12u32, 1 => 9_990..=10_010u32, 1 => 290..=310u32, 1 => any::<u32>()];
    let interval = prop_oneof![3 => 0..=2u32, 1 => 999..=1_001u32, 1 => any::<u32>()];
    (start, interval).prop_map(|(start, interval_ms)| CountdownRequest { start, interval_ms })
}

fn value() -> impl Strategy<Value = i64> {
    prop_oneof![3 => -100..=100i64, 1 => Just(i64::MAX), 1 => Just(i64::MIN), 2 => any::<i64>()]
}

/// Message bytes: mostly a real message's, sometimes with anything after them, sometimes
/// anything at all.
fn message_bytes<M: Message + std::fmt::Debug + 'static>(
    message: impl Strategy<Value = M>,
) -> impl Strategy<Value = Vec<u8>> {
    let tail = prop::option::weighted(0.15, prop::collection::vec(any::<u8>(), 1..6));
    prop_oneof![
        7 => (message, tail).prop_map(|(message, tail)| {
            [message.encode_to_vec(), tail.unwrap_or_default()].concat()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ]
}

fn text_message() -> impl Strategy<Value = unary::Message> {
    text().prop_map(|message| unary::Message { message })
}

#[test]
fn every_unary_message_gets_its_documented_answer() {
    let server = Server::start();
    proptest!(cases(128), |(bytes in message_bytes(text_message()))| {
        let answer = server.call(UNARY, vec![bytes.clone()], usize::MAX);
        check(answer, documented_replies(&[bytes], unary_reply))?;
    });
    server.still_serving();
}

#[test]
fn every_bidirectional_stream_gets_its_documented_replies() {
    let server = Server::start();
    let messages = prop::collection::vec(message_bytes(text_message()), 0..6);
    proptest!(cases(128), |(messages in messages)| {
        let answer = server.call(BIDIRECTIONAL, messages.clone(), usize::MAX);
        check(answer, documented_replies(&messages, bidirectional_reply))?;
    });
    server.still_serving();
}

#[test]
fn every_countdown_gets_its_documented_numbers() {
    let server = Server::start();
    proptest!(cases(128), |(bytes in message_bytes(countdown()))| {
        let (documented, keep) = documented_countdown(&bytes);
        check(server.call(COUNTDOWN, vec![bytes], keep), documented)?;
    });
    server.still_serving();
}

#[test]
fn every_stream_of_values_gets_its_documented_sum() {
    let server = Server::start();
    let values = value().prop_map(|value| SumRequest { value });
    let messages = prop::collection::vec(message_bytes(values), 0..8);
    proptest!(cases(128), |(messages in messages)| {
        let answer = server.call(SUM, messages.clone(), usize::MAX);
        check(answer, documented_sum(&messages))?;
    });
    server.still_serving();
}
