//! The command-line clients as a user runs them — `bookstore recommend`, `factorial`, `ncr`
//! and `health` — against real services started in this test on free ports: what they print
//! as text and as JSON, their exit status, and the one line they print when a service refuses
//! a request or is not running.

use std::process::{Command, Output};

use bookstore_testing::{Running, free_port, spawn};
use serde_json::Value;

const BOOKSTORE: &str = env!("CARGO_BIN_EXE_bookstore");

/// Variables the commands read, cleared so the developer's shell cannot steer the test.
const SETTINGS: [&str; 16] = [
    "RECOMMENDATIONS_HOST",
    "RECOMMENDATIONS_PORT",
    "FACTORIAL_HOST",
    "FACTORIAL_PORT",
    "DEMO_HOST",
    "DEMO_PORT",
    "MARKETPLACE_HOST",
    "MARKETPLACE_PORT",
    "NCR_GATEWAY_HOST",
    "NCR_GATEWAY_PORT",
    "BOOKSTORE_TIMEOUT",
    "UPSTREAM_CA",
    "UPSTREAM_CERT",
    "UPSTREAM_KEY",
    "UPSTREAM_SERVER_NAME",
    "RUST_LOG",
];

/// `bookstore ARGS...`, run to completion off the async runtime (the services run on it).
async fn bookstore(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(BOOKSTORE);
        for name in SETTINGS {
            command.env_remove(name);
        }
        command.args(args).output().expect("the binary runs")
    })
    .await
    .unwrap()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What the command wrote on stderr, which must be one line, and its exit status 1.
fn the_one_error_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

/// The `--<service>-host` and `--<service>-port` flags for a service at `server`.
fn at<E>(service: &str, server: &Running<E>) -> Vec<String>
where
    E: std::fmt::Debug,
{
    vec![
        format!("--{service}-host"),
        "127.0.0.1".to_owned(),
        format!("--{service}-port"),
        server.addr().port().to_string(),
    ]
}

async fn recommendations() -> Running<recommendations::RunError> {
    spawn(|listeners, shutdown| {
        recommendations::run(listeners, recommendations::Config::default(), shutdown)
    })
    .await
}

async fn factorial(max_n: u64) -> Running<bookstore_serve::ServeError> {
    let config = factorial::Config {
        max_n,
        ..factorial::Config::default()
    };
    spawn(|listeners, shutdown| factorial::run(listeners, config, shutdown)).await
}

async fn ncr_gateway(factorial_port: u16) -> Running<ncr_gateway::RunError> {
    let config = ncr_gateway::Config {
        factorial_host: "127.0.0.1".to_owned(),
        factorial_port,
        ..ncr_gateway::Config::default()
    };
    spawn(|listeners, shutdown| ncr_gateway::run(listeners, config, shutdown)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn recommend_lists_books_of_the_category_as_text_and_as_json() {
    let server = recommendations().await;
    let recommend = |extra: &[&str]| {
        let mut words = args(&["recommend", "--category", "science_fiction"]);
        words.extend(at("recommendations", &server));
        words.extend(args(extra));
        bookstore(words)
    };

    let text = recommend(&["--max-results", "2"]).await;
    assert!(text.status.success(), "{text:?}");
    let text = stdout(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Science fiction books you may like:", "{text}");
    assert!(
        lines[1]
            .split_whitespace()
            .eq(["ID", "TITLE", "AUTHOR", "YEAR"]),
        "{text}"
    );
    assert_eq!(lines.len(), 4, "a heading, a header and two books: {text}");

    let answer = json(&recommend(&["--max-results", "50", "--json"]).await);
    assert_eq!(answer["category"], "science_fiction");
    let books = answer["books"].as_array().unwrap();
    let catalog = recommendations::Catalog::built_in().unwrap();
    let in_category = catalog.books(recommendations::Category::ScienceFiction);
    assert_eq!(books.len(), in_category.len(), "all of them: {answer}");
    for book in books {
        assert_eq!(book["category"], "science_fiction", "{book}");
        assert!(
            book["id"].as_i64().unwrap() > 0 && book["year"].is_i64(),
            "{book}"
        );
        let title = book["title"].as_str().unwrap();
        assert!(
            in_category.iter().any(|known| known.title == title),
            "{title}"
        );
    }
    server.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn factorial_prints_n_factorial_or_the_services_refusal() {
    let server = factorial(1000).await;
    let factorial = |words: &[&str]| {
        let mut words = args(words);
        words.extend(at("factorial", &server));
        bookstore(words)
    };

    let text = factorial(&["factorial", "30"]).await;
    assert!(text.status.success(), "{text:?}");
    assert_eq!(stdout(&text), "30! = 265252859812191058636308480000000\n");

    let answer = json(&factorial(&["factorial", "100", "--json"]).await);
    let decimal = answer["factorial"].as_str().unwrap();
    assert_eq!(answer["n"], 100);
    assert_eq!(answer["digits"], 158);
    assert!(decimal.starts_with("93326215443944152681") && decimal.ends_with(&"0".repeat(24)));

    // Above the service's limit: the service's own words.
    let refused = factorial(&["factorial", "1001"]).await;
    assert_eq!(
        the_one_error_line(&refused),
        "bookstore: factorial answered OUT_OF_RANGE: n must be at most 1000, got 1001"
    );
    server.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ncr_prints_exact_answers_or_the_gateways_refusal() {
    let factorial = factorial(100_000).await;
    let gateway = ncr_gateway(factorial.addr().port()).await;
    let ncr = |words: &[&str]| {
        let mut words = args(words);
        words.extend(at("ncr-gateway", &gateway));
        bookstore(words)
    };

    let text = ncr(&["ncr", "10", "3"]).await;
    assert!(text.status.success(), "{text:?}");
    assert_eq!(stdout(&text), "C(10, 3) = 120\n");

    let small = json(&ncr(&["ncr", "10", "3", "--json"]).await);
    assert_eq!(
        small,
        serde_json::json!({"n": 10, "r": 3, "ncr": 120, "ncr_decimal": "120"})
    );
    // Past 2^53 the answer is a string, never a rounded number.
    let big = json(&ncr(&["ncr", "100", "50", "--json"]).await);
    assert_eq!(big["ncr"], "100891344545564193334812497256");
    assert_eq!(big["ncr_decimal"], "100891344545564193334812497256");
    let text = ncr(&["ncr", "100", "50"]).await;
    assert_eq!(
        stdout(&text),
        "C(100, 50) = 100891344545564193334812497256\n"
    );

    let refused = the_one_error_line(&ncr(&["ncr", "3", "10"]).await);
    assert!(
        refused.starts_with(
            "bookstore: ncr-gateway answered 400 Bad Request: r must not be larger than n"
        ),
        "{refused}"
    );

    // The gateway is up but its factorial service is not: the gateway's 503, in its words.
    factorial.stop_cleanly().await;
    let unavailable = the_one_error_line(&ncr(&["ncr", "10", "3"]).await);
    assert!(
        unavailable.starts_with("bookstore: ncr-gateway answered 503 Service Unavailable: "),
        "{unavailable}"
    );
    gateway.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_shows_every_service_and_fails_when_one_is_down() {
    let recommendations = recommendations().await;
    let factorial = factorial(100).await;
    let demo =
        spawn(|listeners, shutdown| demo::run(listeners, demo::Config::default(), shutdown)).await;
    let gateway = ncr_gateway(factorial.addr().port()).await;
    let marketplace = spawn(|listeners, shutdown| {
        let config = marketplace::Config {
            recommendations_host: "127.0.0.1".to_owned(),
            recommendations_port: recommendations.addr().port(),
            ..marketplace::Config::default()
        };
        marketplace::run(listeners, config, shutdown)
    })
    .await;
    let mut flags = args(&["health"]);
    flags.extend(at("marketplace", &marketplace));
    flags.extend(at("ncr-gateway", &gateway));
    flags.extend(at("recommendations", &recommendations));
    flags.extend(at("factorial", &factorial));
    flags.extend(at("demo", &demo));
    let health = |extra: &[&str]| {
        let mut words = flags.clone();
        words.extend(args(extra));
        bookstore(words)
    };

    let text = health(&[]).await;
    assert!(text.status.success(), "{text:?}");
    let text = stdout(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0]
            .split_whitespace()
            .eq(["SERVICE", "ADDRESS", "STATUS", "LATENCY"]),
        "{text}"
    );
    for (line, (service, scheme, port)) in lines[1..].iter().zip([
        ("marketplace", "http", marketplace.addr().port()),
        ("ncr-gateway", "http", gateway.addr().port()),
        ("recommendations", "grpc", recommendations.addr().port()),
        ("factorial", "grpc", factorial.addr().port()),
        ("demo", "grpc", demo.addr().port()),
    ]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let address = format!("{scheme}://127.0.0.1:{port}");
        assert_eq!(&cells[..3], [service, &address, "serving"], "{text}");
        assert_eq!(cells[4], "ms", "a latency: {text}");
    }
    assert_eq!(lines.len(), 6, "{text}");

    let answer = json(&health(&["--json"]).await);
    assert_eq!(answer["serving"], true);
    let services = answer["services"].as_array().unwrap();
    assert_eq!(services.len(), 5);
    assert!(
        services
            .iter()
            .all(|check| check["status"] == "serving" && check["latency_ms"].as_f64().is_some()),
        "{answer}"
    );

    factorial.stop_cleanly().await;
    let down = health(&["--json"]).await;
    assert_eq!(
        the_one_error_line(&down),
        "bookstore: 1 of 5 services not serving: factorial"
    );
    let answer: Value = serde_json::from_slice(&down.stdout).unwrap();
    assert_eq!(answer["serving"], false);
    let factorial = &answer["services"][3];
    assert_eq!(factorial["service"], "factorial");
    assert_eq!(factorial["status"], "unreachable", "{answer}");
    assert_eq!(factorial["latency_ms"], Value::Null);
    assert_eq!(answer["services"][2]["status"], "serving");
    let text = stdout(&health(&[]).await);
    assert!(
        text.lines()
            .any(|line| line.contains("factorial") && line.contains("unreachable")),
        "{text}"
    );

    marketplace.stop_cleanly().await;
    gateway.stop_cleanly().await;
    recommendations.stop_cleanly().await;
    demo.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_is_not_running_is_one_line_and_status_1() {
    let port = free_port().to_string();
    for (command, service) in [
        (vec!["recommend"], "recommendations"),
        (vec!["factorial", "5"], "factorial"),
        (vec!["ncr", "10", "3"], "ncr-gateway"),
    ] {
        let mut words = args(&command);
        words.extend(args(&[
            &format!("--{service}-host"),
            "127.0.0.1",
            &format!("--{service}-port"),
            &port,
        ]));
        let output = bookstore(words).await;
        assert_eq!(
            the_one_error_line(&output),
            format!(
                "bookstore: cannot reach {service} at 127.0.0.1:{port} — is `bookstore up` running?"
            )
        );
        assert!(output.stdout.is_empty());
    }
}
