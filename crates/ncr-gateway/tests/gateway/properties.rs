//! Properties of the gateway over generated input (proptest), against a real Factorial server:
//! `n` and `r` are read exactly as documented (whole numbers, `r <= n <= max_n`); every request
//! target — well formed or not, to the API or to the form's answer page — gets the status the
//! routes document (200, 400 or 404, never a 5xx while the upstream is healthy), with the exact
//! nCr on a 200; and arbitrary headers change nothing. `PROPTEST_CASES` sets the number of cases (`bench/fuzz.sh`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::Uri;
use bookstore_serve::ServeError;
use bookstore_testing::{
    Running, arbitrary_header, is_readable_target, percent_decoded, percent_encoded,
    property_cases, property_runtime, raw_get, raw_http,
};
use ncr_gateway::Error;
use ncr_gateway::ncr::parse_input;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::fixtures::{Gateway, binomial, config, real_factorial};

/// The gateway's limit in these properties: small, so every accepted n is cheap upstream.
const MAX_N: u64 = 300;

fn cases(ci_default: u32) -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..ProptestConfig::with_cases(property_cases(ci_default))
    }
}

/// A gateway in front of a real Factorial server, on a runtime of their own.
struct System {
    addr: SocketAddr,
    _servers: (Gateway, Running<ServeError>),
    _runtime: Runtime,
}

impl System {
    fn start() -> Self {
        let runtime = property_runtime();
        let (factorial, gateway) = runtime.block_on(async {
            let factorial = real_factorial(factorial::Config::default()).await;
            let config = ncr_gateway::Config {
                max_n: MAX_N,
                ..config(factorial.addr(), Duration::from_secs(5))
            };
            (factorial, Gateway::start(config).await)
        });
        let addr = gateway.base.trim_start_matches("http://").parse().unwrap();
        Self {
            addr,
            _servers: (gateway, factorial),
            _runtime: runtime,
        }
    }
}

/// The value of a whole number (ASCII digits only), if it is one; `u128::MAX` stands for any
/// value too large to matter.
fn whole(text: &str) -> Option<u128> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let significant = text.trim_start_matches('0');
    Some(if significant.len() > 30 {
        u128::MAX
    } else {
        significant.parse().unwrap_or(0)
    })
}

/// What the documentation promises for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Documented {
    /// 200 with nCr, as JSON.
    Ncr(u64, u64),
    /// 200 with nCr, on the answer page.
    Page(u64, u64),
    /// This status (a 200 that is not an nCr answer, a 400 or a 404).
    Status(u16),
}

/// What `/api/ncr/{n}/{r}` answers for decoded segments.
fn documented(n: &str, r: &str, max_n: u64) -> Documented {
    match (whole(n), whole(r)) {
        (Some(n), Some(r)) if n <= u128::from(max_n) && r <= n => {
            Documented::Ncr(n as u64, r as u64)
        }
        _ => Documented::Status(400),
    }
}

/// The first `n` and `r` of a query string, decoded as forms are (`+` is a space, `%XX` a byte,
/// invalid UTF-8 replaced); a missing one is empty.
fn form_fields(query: &str) -> (String, String) {
    let decode = |text: &str| {
        String::from_utf8_lossy(&percent_decoded(&text.replace('+', " "))).into_owned()
    };
    let fields: Vec<(String, String)> = query
        .split('&')
        .filter(|field| !field.is_empty())
        .map(|field| {
            let (name, value) = field.split_once('=').unwrap_or((field, ""));
            (decode(name), decode(value))
        })
        .collect();
    let first = |wanted: &str| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    (first("n"), first("r"))
}

/// What a GET of `uri` (a valid URI) answers: the routes, then the fallback.
fn documented_for(uri: &Uri) -> Documented {
    let path = uri.path();
    if path == "/healthz" || path == "/metrics" || path == "/" {
        return Documented::Status(200);
    }
    if path == "/ncr" {
        let (n, r) = form_fields(uri.query().unwrap_or_default());
        return match documented(&n, &r, MAX_N) {
            Documented::Ncr(n, r) => Documented::Page(n, r),
            other => other,
        };
    }
    let Some(rest) = path.strip_prefix("/api/ncr/") else {
        return Documented::Status(404);
    };
    // The router matches an empty `n` (the handler then answers 400) but not an empty `r`:
    // `/api/ncr/5/` is no route of the API (404).
    match rest.split('/').collect::<Vec<_>>()[..] {
        [n, r] if !r.is_empty() => {
            // `Path` decodes each segment; one that is not UTF-8 then is a 400.
            match (
                String::from_utf8(percent_decoded(n)),
                String::from_utf8(percent_decoded(r)),
            ) {
                (Ok(n), Ok(r)) => documented(&n, &r, MAX_N),
                _ => Documented::Status(400),
            }
        }
        _ => Documented::Status(404),
    }
}

/// Checks one response against the documentation; `target` is what was sent.
fn check(target: &[u8], status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(target);
    if !is_readable_target(target) {
        prop_assert_eq!(status, 400, "a malformed target: {}", shown);
        return Ok(());
    }
    let uri = Uri::try_from(target).expect("a readable target");
    match documented_for(&uri) {
        Documented::Ncr(n, r) => {
            prop_assert_eq!(status, 200, "{}", shown);
            let body: Value = serde_json::from_slice(body).expect("a JSON body");
            let exact = binomial(n, r).to_string();
            prop_assert_eq!(
                body["ncr_decimal"].as_str(),
                Some(exact.as_str()),
                "{}",
                shown
            );
        }
        Documented::Page(n, r) => {
            prop_assert_eq!(status, 200, "{}", shown);
            let body = String::from_utf8_lossy(body);
            let answer = format!(r#"<p class="answer">{}</p>"#, binomial(n, r));
            prop_assert!(body.contains(&answer), "{}: {}", shown, body);
        }
        Documented::Status(expected) => prop_assert_eq!(status, expected, "{}", shown),
    }
    Ok(())
}

/// A path segment: numbers of every size, near-numbers, stray `%`, any text encoded.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..=MAX_N + 20).prop_map(|n| n.to_string()),
        2 => "[0-9]{1,40}",
        2 => "[-+.eE0-9]{0,8}",
        2 => "[-A-Za-z0-9._~!$&'()*+,;=:@%]{0,12}",
        1 => any::<String>().prop_map(|text| percent_encoded(text.as_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(|bytes| percent_encoded(&bytes)),
    ]
}

/// A request target in origin form, shaped like the routes more often than not.
fn target() -> impl Strategy<Value = String> {
    let query = prop::option::of("[-A-Za-z0-9._~!$&'()*+,;=:@%/?]{0,16}");
    let path = prop_oneof![
        4 => (segment(), segment()).prop_map(|(n, r)| format!("/api/ncr/{n}/{r}")),
        1 => prop::collection::vec(segment(), 0..5).prop_map(|parts| format!("/api/ncr/{}", parts.join("/"))),
        1 => prop::collection::vec(segment(), 0..4).prop_map(|parts| format!("/{}", parts.join("/"))),
        2 => (segment(), segment()).prop_map(|(n, r)| format!("/ncr?n={n}&r={r}")),
        1 => prop::sample::select(vec!["/healthz", "/metrics", "/", "/api", "/api/ncr", "/healthz/", "/ncr", "/ncr/"])
            .prop_map(str::to_owned),
    ];
    (path, query).prop_map(|(path, query)| match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    })
}

#[test]
fn n_and_r_are_read_exactly_as_documented() {
    let text = prop_oneof!["[0-9]{0,25}", "[-+.eE0-9 ]{0,6}", any::<String>()];
    proptest!(cases(1024), |(n in text.clone(), r in text, max_n in 0..200_000u64)| {
        match (parse_input(&n, &r, max_n), documented(&n, &r, max_n)) {
            (Ok(parsed), Documented::Ncr(n, r)) => prop_assert_eq!(parsed, (n, r)),
            (Err(error), Documented::Status(_)) => {
                prop_assert!(error.is_bad_input(), "{error:?}");
                let kind_is_right = match (whole(&n), whole(&r)) {
                    (None, _) => matches!(error, Error::NotAWholeNumber { name: "n", .. }),
                    (_, None) => matches!(error, Error::NotAWholeNumber { name: "r", .. }),
                    (Some(n), _) if n > u128::from(max_n) => {
                        matches!(error, Error::AboveLimit { .. })
                    }
                    _ => matches!(error, Error::ROverN { .. }),
                };
                prop_assert!(kind_is_right, "{:?}/{:?}: {:?}", n, r, error);
            }
            (parsed, expected) => {
                return Err(TestCaseError::fail(format!("{n:?}/{r:?}: {parsed:?}, not {expected:?}")));
            }
        }
    });
}

#[test]
fn every_target_gets_its_documented_status() {
    let system = System::start();
    proptest!(cases(256), |(target in target())| {
        let response = raw_http(system.addr, &raw_get(target.as_bytes(), &[]))
            .map_err(|error| TestCaseError::fail(format!("{target}: {error}")))?;
        check(target.as_bytes(), response.status, &response.body)?;
    });
}

#[test]
fn arbitrary_bytes_in_the_request_line_get_a_response() {
    let system = System::start();
    let bytes = prop::collection::vec(any::<u8>(), 0..40);
    proptest!(cases(256), |(tail in bytes)| {
        let target = [b"/api/ncr/".as_slice(), &tail].concat();
        let response = raw_http(system.addr, &raw_get(&target, &[]))
            .map_err(|error| TestCaseError::fail(format!("{tail:?}: {error}")))?;
        check(&target, response.status, &response.body)?;
    });
    let healthz = raw_http(system.addr, &raw_get(b"/healthz", &[])).unwrap();
    assert_eq!(healthz.status, 200);
}

/// A header: a name from those the stack reads or any token, and any value HTTP allows.
fn header() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    arbitrary_header(&["authorization", "grpc-timeout"])
}

#[test]
fn arbitrary_headers_change_nothing() {
    let system = System::start();
    proptest!(cases(128), |(headers in prop::collection::vec(header(), 0..6))| {
        let response = raw_http(system.addr, &raw_get(b"/api/ncr/10/3", &headers))
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(response.status, 200, "{}", response.head);
        check(b"/api/ncr/10/3", response.status, &response.body)?;
    });
}
