//! What the gateway answers: the article's results, exact beyond 2^53 and at the limit, and a
//! 400 for every kind of bad input.

use std::time::Duration;

use bookstore_serve::ServiceDefaults as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::{Gateway, binomial, config, real_factorial, system};

#[tokio::test]
async fn answers_like_the_article() {
    let (factorial, gateway) = system().await;
    let (status, body, _) = gateway.get("/api/ncr/10/3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"input": [10, 3], "ncr": 120, "ncr_decimal": "120", "msg": "Success"})
    );
    for (path, expected) in [
        ("/api/ncr/5/0", 1),
        ("/api/ncr/5/5", 1),
        ("/api/ncr/0/0", 1),
        ("/api/ncr/52/5", 2_598_960),
    ] {
        let (status, body, _) = gateway.get(path).await;
        assert_eq!(
            (status, &body["ncr"]),
            (StatusCode::OK, &json!(expected)),
            "{path}"
        );
    }
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn exact_beyond_2_pow_53() {
    let (factorial, gateway) = system().await;

    // The largest answers that are still JSON numbers, and the first that are not.
    let (_, body, _) = gateway.get("/api/ncr/56/28").await;
    assert_eq!(body["ncr"], json!(7_648_690_600_760_440u64)); // < 2^53
    let (_, body, _) = gateway.get("/api/ncr/58/29").await;
    assert_eq!(body["ncr"], json!("30067266499541040")); // > 2^53: a string
    assert_eq!(body["ncr_decimal"], json!("30067266499541040"));

    let (status, body, _) = gateway.get("/api/ncr/100/50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ncr"], json!("100891344545564193334812497256"));
    assert_eq!(body["ncr_decimal"], json!("100891344545564193334812497256"));
    assert_eq!(body["input"], json!([100, 50]));

    let (status, body, _) = gateway.get("/api/ncr/1000/500").await;
    assert_eq!(status, StatusCode::OK);
    let decimal = body["ncr_decimal"].as_str().unwrap();
    assert_eq!(decimal, binomial(1000, 500).to_string());
    assert_eq!(decimal.len(), 300);
    assert!(decimal.starts_with("2702882409454365"));
    assert_eq!(body["ncr"], json!(decimal));

    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn exact_at_the_limit() {
    let (factorial, gateway) = system().await;
    let n = ncr_gateway::DEFAULT_MAX_N;
    let (status, body, elapsed) = gateway.get(&format!("/api/ncr/{n}/{}", n / 2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decimal = body["ncr_decimal"].as_str().unwrap();
    assert_eq!(decimal.len(), 30_101);
    assert!(decimal.starts_with("252060836892200338850090011673"));
    assert_eq!(decimal, binomial(n, n / 2).to_string());
    println!("C({n}, {}) took {elapsed:?}", n / 2);
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn the_limits_agree_with_the_factorial_service() {
    assert_eq!(ncr_gateway::DEFAULT_MAX_N, factorial::DEFAULT_MAX_N);
    assert_eq!(
        ncr_gateway::DEFAULT_FACTORIAL_PORT,
        factorial::FactorialService::DEFAULT_PORT
    );
}

#[tokio::test]
async fn bad_input_is_400_with_the_expected_format() {
    let (factorial, gateway) = system().await;
    let cases = [
        (
            "abc/1",
            json!(["abc", 1]),
            "n must be a whole number (0, 1, 2, ...), got \"abc\"",
        ),
        ("-1/0", json!(["-1", 0]), "n must be a whole number"),
        ("2.5/1", json!(["2.5", 1]), "n must be a whole number"),
        ("5/-1", json!([5, "-1"]), "r must be a whole number"),
        ("5/1.5", json!([5, "1.5"]), "r must be a whole number"),
        ("5/x", json!([5, "x"]), "r must be a whole number"),
        (
            "3/5",
            json!([3, 5]),
            "r must not be larger than n, got n = 3 and r = 5",
        ),
        (
            "100001/1",
            json!([100_001, 1]),
            "n must be at most 100000, got 100001",
        ),
        (
            "99999999999999999999999/1",
            json!(["99999999999999999999999", 1]),
            "n must be at most 100000",
        ),
    ];
    for (path, input, reason) in cases {
        let (status, body, _) = gateway.get(&format!("/api/ncr/{path}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["ncr"], Value::Null, "{path}");
        assert_eq!(body["input"], input, "{path}");
        let msg = body["msg"].as_str().unwrap();
        assert!(msg.starts_with(reason), "{path}: {msg}");
        assert!(
            msg.ends_with(
                "use /api/ncr/{n}/{r} with whole numbers 0 <= r <= n <= 100000, e.g. /api/ncr/10/3"
            ),
            "{path}: {msg}"
        );
    }

    let (status, body, _) = gateway.get("/api/ncr/5").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["ncr"], Value::Null);
    assert!(body["msg"].as_str().unwrap().contains("/api/ncr/{n}/{r}"));

    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn a_lower_limit_in_the_factorial_service_is_400() {
    let factorial = real_factorial(factorial::Config {
        max_n: 50,
        ..factorial::Config::default()
    })
    .await;
    let gateway = Gateway::start(config(factorial.addr(), Duration::from_secs(5))).await;
    let (status, body, _) = gateway.get("/api/ncr/60/2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["ncr"], Value::Null);
    let msg = body["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("the factorial service rejected the input: n must be at most 50, got 60"),
        "{msg}"
    );
    gateway.stop().await;
    factorial.stop_cleanly().await;
}
