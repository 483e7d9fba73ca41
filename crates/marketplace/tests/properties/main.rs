//! Properties of the marketplace over generated input (proptest), against the tests' fake
//! Recommendations service (`support`) on the platform's gRPC server: every request target —
//! any path, any query string, well formed or not — gets the status the routes document
//! (`routes.rs`: 200, 400 or 404; 503 from the routes that need Recommendations while it is
//! down, but never from the homepage), with the books asked for on a 200 from the JSON API;
//! and arbitrary headers change nothing. `PROPTEST_CASES` sets the number of cases
//! (`bench/fuzz.sh`). What the routes document is modelled in `documented`.

mod documented;
#[path = "../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::Uri;
use bookstore_client::UpstreamOptions;
use bookstore_serve::{Listeners, ServeError};
use bookstore_testing::{
    Running, arbitrary_header, is_readable_target, percent_encoded, property_cases,
    property_runtime, raw_get, raw_http, spawn,
};
use documented::{Documented, documented, slugs};
use marketplace::{Config, RunError};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use support::{FakeRecommendations, start_upstream};
use tokio::runtime::Runtime;

fn cases(ci_default: u32) -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..ProptestConfig::with_cases(property_cases(ci_default))
    }
}

/// The marketplace, in front of the fake or of nothing, on a runtime of their own.
struct System {
    addr: SocketAddr,
    upstream_up: bool,
    _servers: (Running<RunError>, Option<Running<ServeError>>),
    _runtime: Runtime,
}

impl System {
    fn start(upstream_up: bool) -> Self {
        let runtime = property_runtime();
        let (web, upstream) = runtime.block_on(async {
            let listeners = Listeners::ephemeral().await.unwrap();
            let port = listeners.main_addr().port();
            let upstream =
                upstream_up.then(|| start_upstream(listeners, FakeRecommendations::default()));
            // Down: the port was bound and released, so connections are refused at once.
            let config = Config {
                recommendations_host: "127.0.0.1".into(),
                recommendations_port: port,
                upstream: UpstreamOptions {
                    upstream_timeout: Duration::from_secs(5),
                    upstream_connect_timeout: Duration::from_secs(1),
                    ..UpstreamOptions::default()
                },
                ..Config::default()
            };
            let web = spawn(|listeners, shutdown| marketplace::run(listeners, config, shutdown));
            (web.await, upstream)
        });
        Self {
            addr: web.addr(),
            upstream_up,
            _servers: (web, upstream),
            _runtime: runtime,
        }
    }
}

/// Sends a GET of `target` with `headers` and checks the answer against the documentation.
fn check(
    system: &System,
    target: &[u8],
    headers: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(target).into_owned();
    let response = raw_http(system.addr, &raw_get(target, headers))
        .map_err(|error| TestCaseError::fail(format!("{shown}: {error}")))?;
    let status = response.status;
    if !is_readable_target(target) {
        prop_assert_eq!(status, 400, "a malformed target: {}", shown);
        return Ok(());
    }
    let uri = Uri::try_from(target).expect("a readable target");
    match documented(uri.path(), uri.query()) {
        Documented::Page => prop_assert_eq!(status, 200, "{}", shown),
        Documented::Books(category, count) if system.upstream_up => {
            prop_assert_eq!(status, 200, "{}", shown);
            let body: serde_json::Value =
                serde_json::from_slice(&response.body).expect("a JSON body");
            prop_assert_eq!(
                body["category"].as_str(),
                Some(category.as_str()),
                "{}",
                shown
            );
            prop_assert_eq!(
                body["books"].as_array().map(Vec::len),
                Some(count),
                "{}",
                shown
            );
        }
        Documented::Books(..) => prop_assert_eq!(status, 503, "{}", shown),
        Documented::Calls(expected) if system.upstream_up => {
            prop_assert_eq!(status, expected, "{}", shown);
        }
        Documented::Calls(_) => prop_assert_eq!(status, 503, "{}", shown),
        Documented::Status(expected) => prop_assert_eq!(status, expected, "{}", shown),
    }
    Ok(())
}

/// A query value: slugs and near-slugs, counts and near-counts, any text, encoded any way.
fn value() -> impl Strategy<Value = String> {
    let slug = prop::sample::select(slugs());
    prop_oneof![
        3 => slug.clone(),
        1 => slug.prop_map(|slug| percent_encoded(slug.as_bytes())),
        1 => prop::sample::select(vec!["", "MYSTERY", "unspecified", "Mystery", "science+fiction"])
            .prop_map(str::to_owned),
        3 => (0..60u32).prop_map(|n| n.to_string()),
        2 => "[-+0-9 ]{0,6}|0{1,30}[0-9]{1,3}|[0-9]{10,40}",
        2 => "[-A-Za-z0-9._~!$'()*+,;:@%/?]{0,16}",
        1 => any::<String>().prop_map(|text| percent_encoded(text.as_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(|bytes| percent_encoded(&bytes)),
        1 => prop::sample::select(vec!["archer", "Book+1", "harmless", "%20", "after+12%2F%26"])
            .prop_map(str::to_owned),
        1 => "[a-z ]{195,205}",
    ]
}

/// A path segment: ids and slugs, in and out of range, encoded any way.
fn path_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..450i64).prop_map(|id| id.to_string()),
        1 => (0..20i64).prop_map(|id| percent_encoded(id.to_string().as_bytes())),
        1 => prop::sample::select(vec!["-1", "+3", "00", "03", "%2B3", "1.5", "9223372036854775808"])
            .prop_map(str::to_owned),
        2 => value(),
    ]
}

/// A query string: pairs of the fields the routes read (sometimes twice) and others.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => Just("category".to_owned()),
        3 => Just("max_results".to_owned()),
        2 => Just("q".to_owned()),
        2 => Just("page_token".to_owned()),
        1 => Just("ca%74egory".to_owned()),
        1 => "[a-z_]{1,8}",
    ];
    let pair = prop_oneof![
        8 => (name.clone(), value()).prop_map(|(name, value)| format!("{name}={value}")),
        1 => name,
        1 => Just(String::new()),
    ];
    prop_oneof![
        6 => prop::collection::vec(pair, 0..4).prop_map(|pairs| pairs.join("&")),
        1 => "[-A-Za-z0-9._~!$&'()*+,;=:@%/?]{0,24}",
    ]
}

/// A request target in origin form: mostly the routes, with any query string.
fn target() -> impl Strategy<Value = String> {
    let path = prop_oneof![
        4 => Just("/".to_owned()),
        4 => Just("/api/recommendations".to_owned()),
        2 => prop::sample::select(vec!["/search", "/api/search"]).prop_map(str::to_owned),
        3 => (prop::sample::select(vec!["/books/", "/api/books/", "/categories/"]), path_value())
            .prop_map(|(route, value)| format!("{route}{value}")),
        1 => prop::sample::select(vec![
            "/healthz", "/metrics", "/api", "/api/recommendations/", "//", "/favicon.ico",
            "/favicon.svg", "/books", "/books/", "/categories", "/search/", "/books/1/",
            marketplace::STYLESHEET_PATH, "/assets/style-0.css", "/assets/",
        ])
        .prop_map(str::to_owned),
        1 => prop::collection::vec("[-A-Za-z0-9._~!$&'()*+,;=:@%]{0,10}", 1..4)
            .prop_map(|parts| format!("/{}", parts.join("/"))),
    ];
    (path, prop::option::weighted(0.9, query())).prop_map(|(path, query)| match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    })
}

#[test]
fn every_target_gets_its_documented_status() {
    let system = System::start(true);
    proptest!(cases(256), |(target in target())| {
        check(&system, target.as_bytes(), &[])?;
    });
}

#[test]
fn with_recommendations_down_pages_still_render_and_the_api_is_503() {
    let system = System::start(false);
    proptest!(cases(64), |(target in target())| {
        check(&system, target.as_bytes(), &[])?;
    });
}

#[test]
fn arbitrary_bytes_in_the_request_line_get_a_response() {
    let system = System::start(true);
    let tail = prop::collection::vec(any::<u8>(), 0..40);
    proptest!(cases(256), |(tail in tail)| {
        let target = [b"/api/recommendations?".as_slice(), &tail].concat();
        check(&system, &target, &[])?;
    });
}

/// A header: a name from those the stack reads or any token, and any value HTTP allows.
fn header() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    arbitrary_header(&["accept-language", "if-none-match"])
}

#[test]
fn arbitrary_headers_change_nothing() {
    let system = System::start(true);
    let target = prop::sample::select(vec![
        "/?category=science",
        "/api/recommendations?category=science&max_results=2",
    ]);
    proptest!(cases(128), |(target in target, headers in prop::collection::vec(header(), 0..6))| {
        check(&system, target.as_bytes(), &headers)?;
    });
}
