//! Response hygiene: no answer echoes markup from a request — a path segment is quoted short in
//! the message and echoed short in `"input"`, and `<`, `>` and `&` reach the wire only as
//! `\u003c`, `\u003e` and `\u0026` — and every answer carries the security headers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::system;

#[tokio::test]
async fn markup_in_a_path_is_never_echoed() {
    let (factorial, gateway) = system().await;
    let script = "<script>alert(1)</script>";
    let long = "<b>".repeat(30);
    let short = format!("{}…", &long[..40]);
    let cases = [
        (
            "/api/ncr/%3Cscript%3Ealert(1)%3C%2Fscript%3E/1".to_owned(),
            StatusCode::BAD_REQUEST,
            json!([script, 1]),
            format!("n must be a whole number (0, 1, 2, ...), got \"{script}\""),
        ),
        (
            format!("/api/ncr/5/{}", "%3Cb%3E".repeat(30)),
            StatusCode::BAD_REQUEST,
            json!([5, short]),
            format!("r must be a whole number (0, 1, 2, ...), got \"{short}\""),
        ),
        (
            "/api/%3Cscript%3E".to_owned(),
            StatusCode::NOT_FOUND,
            Value::Null,
            "no such endpoint \"/api/%3Cscript%3E\"".to_owned(),
        ),
    ];
    for (path, status, input, reason) in cases {
        let (got, raw) = gateway.text(&path).await;
        assert_eq!(got, status, "{path}: {raw}");
        // The usage hint's `<=` is escaped as well: no `<` at all.
        assert!(!raw.contains(['<', '>', '&']), "{path}: {raw}");
        let body: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(body["input"], input, "{path}");
        let msg = body["msg"].as_str().unwrap();
        assert!(msg.starts_with(&reason), "{path}: {msg}");
        assert!(msg.contains("0 <= r <= n"), "{path}: {msg}");
    }
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (factorial, gateway) = system().await;
    let paths = [
        "/api/ncr/10/3",
        "/api/ncr/x/1",
        "/nowhere",
        "/healthz",
        "/",
        "/ncr?n=10&r=3",
        "/ncr?n=x&r=1",
    ];
    for path in paths {
        let response = gateway.response(path).await;
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.starts_with("default-src 'none';"),
            "{path}: {policy}"
        );
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    gateway.stop().await;
    factorial.stop_cleanly().await;
}
