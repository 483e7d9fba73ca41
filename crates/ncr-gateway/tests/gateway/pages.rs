//! The pages for people: the usage page at `/` (what the gateway does, its API, a form), the
//! form's answer page computing through the API's code with the API's statuses and messages,
//! the 404 page, and every value echoed back escaped.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use ncr_gateway::pages::STYLESHEET_PATH;

use crate::fixtures::{Gateway, binomial, closed_port, config, system};

/// `text` as askama writes it into a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// GET `path`: the status, the content type, and the body.
async fn page(gateway: &Gateway, path: &str) -> (StatusCode, String, String) {
    let response = gateway.response(path).await;
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// Checks what every page has: a document in English that fits small screens, no script, no
/// inline style, and nothing to load but the gateway's own stylesheet.
fn assert_is_a_page(body: &str) {
    assert!(
        body.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{body}"
    );
    assert!(
        body.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(body.contains("<title>") && body.contains("<h1>"), "{body}");
    assert!(!body.to_lowercase().contains("<script"), "{body}");
    for tag in [
        "<img", "<iframe", "<object", "<embed", "<video", "<audio", "<style", " style=",
    ] {
        assert!(
            !body.contains(tag),
            "nothing to load, no inline style: {body}"
        );
    }
    let stylesheet = format!(r#"<link rel="stylesheet" href="{STYLESHEET_PATH}">"#);
    assert!(body.contains(&stylesheet), "{body}");
    assert_eq!(body.matches("<link").count(), 1, "{body}");
}

/// Checks the form: a GET to `/ncr`, with labelled number inputs `n` and `r` holding `values`.
fn assert_has_the_form(body: &str, (n, r): (&str, &str)) {
    assert!(
        body.contains(r#"<form action="/ncr" method="get">"#),
        "{body}"
    );
    for (name, value) in [("n", n), ("r", r)] {
        assert!(
            body.contains(&format!(r#"<label for="{name}">{name}</label>"#)),
            "{body}"
        );
        let input = format!(r#"<input id="{name}" name="{name}" type="number""#);
        assert!(body.contains(&input), "{body}");
        let value = format!(r#"required value="{value}">"#);
        assert!(body.contains(&value), "{name} = {value}: {body}");
    }
    assert!(body.contains(r#"<button type="submit">"#), "{body}");
}

#[tokio::test]
async fn the_usage_page_says_what_the_gateway_does_and_how_to_call_it() {
    let (factorial, gateway) = system().await;
    let (status, content_type, body) = page(&gateway, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_is_a_page(&body);
    assert!(body.contains("<title>nCr gateway</title>"), "{body}");
    assert!(body.contains("Factorial"), "{body}");
    for route in ["GET /api/ncr/{n}/{r}", "GET /healthz", "GET /metrics"] {
        assert!(body.contains(route), "{route}: {body}");
    }
    // The examples' answers are the API's, byte for byte (JSON with no `<`, `>` or `&`, so
    // written into the page as they are).
    for path in ["/api/ncr/10/3", "/api/ncr/3/5"] {
        let (_, api) = gateway.text(path).await;
        let example = format!("$ curl http://localhost:5001{path}\n{api}</code></pre>");
        assert!(body.contains(&example), "{example}\n{body}");
    }
    assert!(body.contains("100000"), "the limit: {body}");
    assert_has_the_form(&body, ("", ""));
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn the_form_answers_as_the_api_does() {
    let (factorial, gateway) = system().await;
    let (status, content_type, body) = page(&gateway, "/ncr?n=10&r=3").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    assert_is_a_page(&body);
    assert!(body.contains("<h1>10 choose 3</h1>"), "{body}");
    assert!(body.contains(r#"<p class="answer">120</p>"#), "{body}");
    assert_has_the_form(&body, ("10", "3"));
    assert!(body.contains(r#"<a href="/">"#), "{body}");

    // Exact beyond floats, and the same digits as the API; leading zeros read as the API reads them.
    let (status, _, body) = page(&gateway, "/ncr?n=1000&r=0500&n=7").await;
    assert_eq!(status, StatusCode::OK);
    let (_, api, _) = gateway.get("/api/ncr/1000/500").await;
    let decimal = binomial(1000, 500).to_string();
    assert_eq!(api["ncr_decimal"], Value::from(decimal.as_str()));
    assert!(
        body.contains(&format!(r#"<p class="answer">{decimal}</p>"#)),
        "{body}"
    );
    assert!(
        body.contains("<h1>1000 choose 500</h1>"),
        "the first n counts: {body}"
    );
    assert!(body.contains("<p>300 digits.</p>"), "{body}");
    assert_has_the_form(&body, ("1000", "0500"));
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn bad_input_on_the_form_gets_the_apis_status_and_message() {
    let (factorial, gateway) = system().await;
    for (query, api_path) in [
        ("n=3&r=5", "/api/ncr/3/5"),
        ("n=abc&r=1", "/api/ncr/abc/1"),
        ("n=-1&r=0", "/api/ncr/-1/0"),
        ("n=2.5&r=1", "/api/ncr/2.5/1"),
        ("n=100001&r=1", "/api/ncr/100001/1"),
    ] {
        let (status, _, body) = page(&gateway, &format!("/ncr?{query}")).await;
        let (api_status, api, _) = gateway.get(api_path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(status, api_status, "{query}");
        assert_is_a_page(&body);
        let message = escaped(api["msg"].as_str().unwrap());
        let alert = format!(r#"<p class="error" role="alert">{message}</p>"#);
        assert!(body.contains(&alert), "{query}: {body}");
        assert!(
            body.contains("<h1>nCr could not be computed</h1>"),
            "{body}"
        );
        assert!(!body.contains(r#"class="answer""#), "{body}");
    }
    // A missing field is empty.
    let (status, _, body) = page(&gateway, "/ncr?n=5").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = escaped(r#"r must be a whole number (0, 1, 2, ...), got """#);
    assert!(body.contains(&message), "{body}");
    assert_has_the_form(&body, ("5", ""));
    let (status, _, body) = page(&gateway, "/ncr").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains(&escaped(
        r#"n must be a whole number (0, 1, 2, ...), got """#
    )));
    gateway.stop().await;
    factorial.stop_cleanly().await;
}

#[tokio::test]
async fn an_unavailable_factorial_service_is_a_503_page() {
    let gateway = Gateway::start(config(closed_port(), Duration::from_secs(2))).await;
    let (status, _, body) = page(&gateway, "/ncr?n=5&r=2").await;
    let (api_status, api, _) = gateway.get("/api/ncr/5/2").await;
    assert_eq!(
        (status, api_status),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::SERVICE_UNAVAILABLE
        )
    );
    let message = api["msg"].as_str().unwrap();
    assert_eq!(
        message,
        "the factorial service is unavailable; try again later"
    );
    assert!(
        body.contains(&format!(r#"<p class="error" role="alert">{message}</p>"#)),
        "{body}"
    );
    assert!(!body.contains("127.0.0.1"), "no detail: {body}");
    // The usage page needs no upstream.
    let (status, _, _) = page(&gateway, "/").await;
    assert_eq!(status, StatusCode::OK);
    gateway.stop().await;
}

#[tokio::test]
async fn the_stylesheet_is_served_and_cached_for_good() {
    let gateway = Gateway::start(config(closed_port(), Duration::from_secs(2))).await;
    let response = gateway.response(STYLESHEET_PATH).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.text().await.unwrap().contains(".answer {"));
    // Its URL names its content: any other is not found.
    let (status, _) = gateway.text("/assets/style-0000000000000000.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    gateway.stop().await;
}

#[tokio::test]
async fn input_echoed_back_is_escaped() {
    let (factorial, gateway) = system().await;
    let n = r#"<script>alert(1)</script>"#;
    let r = r#""><img src=x onerror=alert(2)>'"#;
    let query = format!(
        "/ncr?n={}&r={}",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%22%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E%27"
    );
    let (status, _, body) = page(&gateway, &query).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_is_a_page(&body);
    assert!(
        !body.contains("<img") && !body.contains("onerror=alert(2)>"),
        "{body}"
    );
    assert_has_the_form(&body, (&escaped(n), &escaped(r)));
    let message = format!(r#"n must be a whole number (0, 1, 2, ...), got "{n}""#);
    assert!(body.contains(&escaped(&message)), "{body}");

    // An unknown path is quoted, short and escaped, on an HTML 404 pointing to the usage page.
    let long = "%3Cb%3E".repeat(30);
    for (path, quoted) in [
        ("/nowhere".to_owned(), "\"/nowhere\"".to_owned()),
        (format!("/{long}"), format!("\"/{}…\"", &long[..39])),
        ("/ncr/10/3".to_owned(), "\"/ncr/10/3\"".to_owned()),
    ] {
        let (status, content_type, body) = page(&gateway, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
        assert_is_a_page(&body);
        assert!(
            body.contains(&format!("There is no page at {}.", escaped(&quoted))),
            "{path}: {body}"
        );
        assert!(
            body.contains(r#"<a href="/">the usage page</a>"#),
            "{path}: {body}"
        );
    }
    // Under /api, a 404 stays JSON.
    let (status, content_type, body) = page(&gateway, "/api/nowhere").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::NOT_FOUND, "application/json")
    );
    assert!(
        body.starts_with(r#"{"input":null,"ncr":null,"msg":"no such endpoint"#),
        "{body}"
    );
    gateway.stop().await;
    factorial.stop_cleanly().await;
}
