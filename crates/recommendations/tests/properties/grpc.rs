//! Both Recommendations APIs over generated requests, through a real server: every field
//! combination gets the status the README's table documents, with the books it promises; any
//! bytes as a request message get that same answer when they decode as the request, and
//! `INTERNAL` (gRPC's code for an unparseable request) when they do not; any other method path
//! is `UNIMPLEMENTED`; any `grpc-timeout` is a deadline or, malformed, none. The connection
//! survives all of it.

use std::time::Duration;

use bookstore_proto::legacy;
use bookstore_proto::legacy::recommendations_client::RecommendationsClient;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::{RawCodec, Running, property_runtime, raw_unary, spawn};
use bytes::Bytes;
use http::uri::PathAndQuery;
use proptest::prelude::*;
use prost::Message;
use recommendations::{Catalog, Category, Config, RunError};
use tokio::runtime::Runtime;
use tonic::Code;
use tonic::transport::Channel;

use crate::cases;

const V1_RECOMMEND: &str = "/bookstore.recommendations.v1.RecommendationsService/Recommend";
const V1_LIST: &str = "/bookstore.recommendations.v1.RecommendationsService/ListCategories";
const LEGACY_RECOMMEND: &str = "/Recommendations/Recommend";

/// The service with the built-in catalog, on a runtime of its own.
pub(crate) struct Server {
    pub(crate) channel: Channel,
    pub(crate) catalog: Catalog,
    _running: Running<RunError>,
    pub(crate) runtime: Runtime,
}

impl Server {
    pub(crate) fn start() -> Self {
        let runtime = property_runtime();
        let (running, channel) = runtime.block_on(async {
            let running = spawn(|listeners, shutdown| {
                recommendations::run(listeners, Config::default(), shutdown)
            })
            .await;
            let channel = running.channel().await;
            (running, channel)
        });
        Self {
            channel,
            catalog: Catalog::built_in().unwrap(),
            _running: running,
            runtime,
        }
    }

    /// How many books the catalog holds in the category an enum names (`CATEGORY_SELF_HELP`
    /// and `SELF_HELP` both name `self_help`).
    fn available(&self, enum_name: &str) -> Option<usize> {
        let slug = enum_name
            .trim_start_matches("CATEGORY_")
            .to_ascii_lowercase();
        Category::from_slug(&slug).map(|category| self.catalog.books(category).len())
    }

    /// A client of the v1 API.
    pub(crate) fn v1(&self) -> RecommendationsServiceClient<Channel> {
        RecommendationsServiceClient::new(self.channel.clone())
    }

    /// Fails the property unless the server still answers a well-formed call.
    pub(crate) fn still_serving(&self) {
        let request = v1::RecommendRequest {
            user_id: 1,
            category: v1::Category::Mystery.into(),
            max_results: 1,
        };
        let books = self.runtime.block_on(self.v1().recommend(request)).unwrap();
        assert_eq!(books.into_inner().books.len(), 1);
    }
}

/// What the README promises for a request: this many books of this category, or this code.
type Documented = Result<(usize, i32), Code>;

/// The v1 table: ids and counts must not be negative, the category must be given and known;
/// `max_results` 0 means 3; at most 50, and at most the books there are.
fn documented_v1(server: &Server, request: &v1::RecommendRequest) -> Documented {
    if request.user_id < 0 {
        return Err(Code::InvalidArgument);
    }
    let available = match v1::Category::try_from(request.category) {
        Ok(v1::Category::Unspecified) => return Err(Code::InvalidArgument),
        Ok(category) => server.available(category.as_str_name()),
        Err(_) => None,
    }
    .ok_or(Code::NotFound)?;
    let wanted = usize::try_from(request.max_results).map_err(|_| Code::InvalidArgument)?;
    let wanted = if wanted == 0 { 3 } else { wanted };
    Ok((wanted.min(50).min(available), request.category))
}

/// The legacy table: as v1, but the three tutorial categories only, 0 is mystery, and
/// `max_results` 0 means none.
fn documented_legacy(server: &Server, request: &legacy::RecommendationRequest) -> Documented {
    if request.user_id < 0 {
        return Err(Code::InvalidArgument);
    }
    let available = legacy::BookCategory::try_from(request.category)
        .ok()
        .and_then(|category| server.available(category.as_str_name()))
        .ok_or(Code::NotFound)?;
    let wanted = usize::try_from(request.max_results).map_err(|_| Code::InvalidArgument)?;
    Ok((wanted.min(50).min(available), request.category))
}

fn small_or_any_i32() -> impl Strategy<Value = i32> {
    prop_oneof![3 => -3..=60i32, 1 => any::<i32>()]
}

fn v1_request() -> impl Strategy<Value = v1::RecommendRequest> {
    let user_id = prop_oneof![3 => -2..=5i64, 1 => any::<i64>()];
    let category = prop_oneof![3 => -2..=10i32, 1 => any::<i32>()];
    (user_id, category, small_or_any_i32()).prop_map(|(user_id, category, max_results)| {
        v1::RecommendRequest {
            user_id,
            category,
            max_results,
        }
    })
}

fn legacy_request() -> impl Strategy<Value = legacy::RecommendationRequest> {
    let user_id = prop_oneof![3 => -2..=5i32, 1 => any::<i32>()];
    let category = prop_oneof![3 => -2..=4i32, 1 => any::<i32>()];
    (user_id, category, small_or_any_i32()).prop_map(|(user_id, category, max_results)| {
        legacy::RecommendationRequest {
            user_id,
            category,
            max_results,
        }
    })
}

/// Checks a v1 answer: the documented code, or as many distinct books of the category.
fn check_v1(
    answer: Result<Vec<v1::Book>, tonic::Status>,
    documented: Documented,
) -> Result<(), TestCaseError> {
    match (answer, documented) {
        (Ok(books), Ok((count, category))) => {
            prop_assert_eq!(books.len(), count);
            prop_assert!(
                books.iter().all(|book| book.category == category),
                "{books:?}"
            );
            let ids: std::collections::HashSet<_> = books.iter().map(|book| book.id).collect();
            prop_assert_eq!(ids.len(), count, "distinct books");
        }
        (Err(status), Err(code)) => prop_assert_eq!(status.code(), code, "{:?}", status),
        (answer, documented) => {
            return Err(TestCaseError::fail(format!(
                "{answer:?}, documented {documented:?}"
            )));
        }
    }
    Ok(())
}

/// Checks a legacy answer: the documented code, or as many distinct books.
fn check_legacy(
    answer: Result<Vec<legacy::BookRecommendation>, tonic::Status>,
    documented: Documented,
) -> Result<(), TestCaseError> {
    let answer = answer.map(|books| {
        books
            .into_iter()
            .map(|book| v1::Book {
                id: book.id.into(),
                category: 0,
                ..v1::Book::default()
            })
            .collect()
    });
    check_v1(answer, documented.map(|(count, _)| (count, 0)))
}

#[test]
fn every_v1_request_gets_its_documented_answer() {
    let server = Server::start();
    proptest!(cases(256), |(request in v1_request())| {
        let answer = server.runtime.block_on(server.v1().recommend(request));
        check_v1(answer.map(|response| response.into_inner().books), documented_v1(&server, &request))?;
    });
    server.still_serving();
}

#[test]
fn every_legacy_request_gets_its_documented_answer() {
    let server = Server::start();
    proptest!(cases(256), |(request in legacy_request())| {
        let mut client = RecommendationsClient::new(server.channel.clone());
        let answer = server.runtime.block_on(client.recommend(request));
        let answer = answer.map(|response| response.into_inner().recommendations);
        check_legacy(answer, documented_legacy(&server, &request))?;
    });
    server.still_serving();
}

/// Message bytes: anything, or a real message with anything after it (unknown fields, a
/// truncated field, garbage).
fn message_bytes<M: Message + std::fmt::Debug + 'static>(
    message: impl Strategy<Value = M>,
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..48),
        (message, prop::collection::vec(any::<u8>(), 0..8)).prop_map(|(message, tail)| [
            message.encode_to_vec(),
            tail
        ]
        .concat()),
    ]
}

#[test]
fn any_bytes_as_a_request_get_the_documented_answer_or_internal() {
    let server = Server::start();
    let bytes = (
        0..3usize,
        message_bytes(v1_request()),
        message_bytes(legacy_request()),
    );
    proptest!(cases(256), |((method, v1_bytes, legacy_bytes) in bytes)| {
        let (path, bytes) = match method {
            0 => (V1_RECOMMEND, v1_bytes),
            1 => (V1_LIST, v1_bytes),
            _ => (LEGACY_RECOMMEND, legacy_bytes),
        };
        let answer = server.runtime.block_on(raw_unary(server.channel.clone(), path, Bytes::from(bytes.clone())));
        match path {
            V1_RECOMMEND => match v1::RecommendRequest::decode(bytes.as_slice()) {
                Ok(request) => {
                    let books = answer.map(|reply| v1::RecommendResponse::decode(reply).unwrap().books);
                    check_v1(books, documented_v1(&server, &request))?;
                }
                Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
            },
            V1_LIST => match v1::ListCategoriesRequest::decode(bytes.as_slice()) {
                Ok(_) => {
                    let listed = v1::ListCategoriesResponse::decode(answer.unwrap()).unwrap();
                    prop_assert_eq!(listed.categories.len(), Category::ALL.len());
                }
                Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
            },
            _ => match legacy::RecommendationRequest::decode(bytes.as_slice()) {
                Ok(request) => {
                    let books = answer.map(|reply| {
                        legacy::RecommendationResponse::decode(reply).unwrap().recommendations
                    });
                    check_legacy(books, documented_legacy(&server, &request))?;
                }
                Err(_) => prop_assert_eq!(answer.unwrap_err().code(), Code::Internal),
            },
        }
    });
    server.still_serving();
}

/// What a call with an empty message answers, by method: the methods this server serves
/// (but the streaming ones, which a unary call would wait on).
const METHODS: [(&str, Code); 6] = [
    (V1_RECOMMEND, Code::InvalidArgument), // no category
    (V1_LIST, Code::Ok),
    (
        "/bookstore.recommendations.v1.RecommendationsService/GetBook",
        Code::InvalidArgument, // id 0
    ),
    (
        "/bookstore.recommendations.v1.RecommendationsService/SearchBooks",
        Code::Ok, // the first page of every book
    ),
    (LEGACY_RECOMMEND, Code::Ok), // mystery, no books
    ("/grpc.health.v1.Health/Check", Code::Ok),
];

/// A unary call with an empty message to any path.
async fn call_path(channel: Channel, path: PathAndQuery) -> Result<Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let request = tonic::Request::new(Bytes::new());
    let response = grpc.unary(request, path, RawCodec).await?;
    Ok(response.into_inner())
}

#[test]
fn any_method_path_is_a_method_or_unimplemented() {
    let server = Server::start();
    let service = prop_oneof![
        3 => prop::sample::select(vec![
            "bookstore.recommendations.v1.RecommendationsService",
            "Recommendations",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "bookstore.recommendations.v1.recommendationsservice",
            "bookstore.recommendations.v1",
            "",
        ])
        .prop_map(str::to_owned),
        1 => "[-A-Za-z0-9._~!$&'()*+,;=:@%]{0,16}",
    ];
    let method = prop_oneof![
        3 => prop::sample::select(vec!["Recommend", "ListCategories", "GetBook", "SearchBooks", "Check", "recommend", "", "Recommend/"])
            .prop_map(str::to_owned),
        1 => "[-A-Za-z0-9._~!$&'()*+,;=:@%/]{0,16}",
    ];
    proptest!(cases(256), |(service in service, method in method, slashes in 0..3usize)| {
        let path = format!("{}{service}/{method}", "/".repeat(slashes.max(1)));
        let Ok(path_and_query) = PathAndQuery::try_from(path.as_str()) else {
            return Ok(());
        };
        let answer = server.runtime.block_on(call_path(server.channel.clone(), path_and_query));
        let code = answer.err().map_or(Code::Ok, |status| status.code());
        let documented = METHODS
            .iter()
            .find(|(method, _)| *method == path)
            .map_or(Code::Unimplemented, |(_, code)| *code);
        prop_assert_eq!(code, documented, "{}", path);
    });
    server.still_serving();
}

/// A `grpc-timeout` as the gRPC spec writes it: 1 to 8 ASCII digits and a unit.
fn spec_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// What tonic reads from a `grpc-timeout`: the spec's values, and also a `+` then 1 to 7
/// digits and a unit (its parser uses `str::parse`, outside the spec).
fn tonic_timeout(value: &str) -> Option<Duration> {
    spec_timeout(value).or_else(|| {
        let rest = value.strip_prefix('+')?;
        spec_timeout(rest).filter(|_| rest.len() <= 8)
    })
}

#[test]
fn any_grpc_timeout_is_a_deadline_or_none() {
    let server = Server::start();
    let value = prop_oneof![
        "[0-9]{1,9}[HMSmun]",
        "[+-]?[0-9]{0,9}[HMSmunxs ]?",
        "[ -~]{0,12}",
    ];
    proptest!(cases(128), |(value in value)| {
        let mut request = tonic::Request::new(v1::RecommendRequest {
            user_id: 1,
            category: v1::Category::Fantasy.into(),
            max_results: 2,
        });
        request.metadata_mut().insert("grpc-timeout", value.parse().unwrap());
        let answer = server.runtime.block_on(server.v1().recommend(request));
        match (answer, tonic_timeout(&value)) {
            (Ok(response), _) => prop_assert_eq!(response.into_inner().books.len(), 2),
            // tonic applies a deadline it reads (in the client's channel and in the server,
            // both outside the platform's layers), answering CANCELLED "Timeout expired".
            (Err(status), Some(deadline)) if deadline < Duration::from_secs(1) => {
                let code = status.code();
                let passed = matches!(code, Code::Cancelled | Code::DeadlineExceeded);
                prop_assert!(passed, "{:?}: {:?}", value, status);
            }
            // A malformed value is no deadline, and a long one does not pass.
            (Err(status), _) => {
                return Err(TestCaseError::fail(format!("{value:?}: {status:?}")));
            }
        }
    });
    server.still_serving();
}
