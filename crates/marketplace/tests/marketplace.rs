//! The marketplace against a real gRPC upstream on 127.0.0.1: a fake Recommendations service
//! whose speed and availability each test controls — the tutorial's homepage, the JSON API,
//! the security headers, degraded answers, request ids and metrics. (The other pages are in
//! `pages.rs`.)

mod support;

use std::time::{Duration, Instant};

use bookstore_proto::recommendations::v1;
use bookstore_serve::Listeners;
use bookstore_testing::free_port;
use marketplace::STYLESHEET_PATH;
use support::{FakeRecommendations, assert_frame, get, start_marketplace, start_upstream, system};

#[tokio::test]
async fn homepage_passes_the_tutorials_integration_test() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Online Books For You</title>"));
    assert_eq!(html.matches("<li>").count(), 3, "{html}");
    assert!(html.contains("<h1>Mystery books you may like</h1>"));
    assert_frame(
        &html,
        "Online Books For You",
        "Mystery books you may like",
        3,
    );
    // Titles are escaped: a title cannot inject markup.
    assert!(
        html.contains("Book 1 &#60;of&#62; category 1")
            || html.contains("Book 1 &lt;of&gt; category 1"),
        "{html}"
    );
    assert!(!html.contains("<of>"), "{html}");
}

#[tokio::test]
async fn any_category_can_be_browsed() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/?category=science_fiction").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<h1>Science fiction books you may like</h1>"),
        "{html}"
    );
    assert!(html.contains(&format!("category {}", v1::Category::ScienceFiction as i32)));
    assert_eq!(html.matches("<li>").count(), 3);
    let (_, html) = get(&web, "/?category=history").await;
    assert!(html.contains("<h1>History books you may like</h1>"));
}

#[tokio::test]
async fn json_api_returns_books() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, body) = get(&web, "/api/recommendations?category=fantasy&max_results=5").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["category"], "fantasy");
    assert_eq!(json["books"].as_array().unwrap().len(), 5);
    // Fantasy (4) holds books 4, 12, 20, …: the first, by Ed Eliot, was published in 1804.
    assert_eq!(json["books"][0]["id"], 4);
    assert_eq!(json["books"][0]["author"], "Ed Eliot");
    assert_eq!(json["books"][0]["year"], 1804);
    assert_eq!(json["books"][0]["category"], "fantasy");
}

#[tokio::test]
async fn bad_queries_get_a_400_that_says_what_is_wrong() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/?category=poetry").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("There is no category called &#34;poetry&#34;")
            || html.contains("There is no category called &quot;poetry&quot;"),
        "{html}"
    );
    assert!(html.contains("science_fiction"));
    let (status, html) = get(&web, "/?category=%3Cscript%3E").await;
    assert_eq!(status, 400);
    assert!(!html.contains("<script>"));
    for query in [
        "max_results=0",
        "max_results=51",
        "max_results=three",
        "max_results=-1",
        "category=x",
    ] {
        let (status, body) = get(&web, &format!("/api/recommendations?{query}")).await;
        assert_eq!(status, 400, "{query}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(!json["error"].as_str().unwrap().is_empty(), "{query}");
    }
}

#[tokio::test]
async fn markup_in_a_query_is_never_echoed() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let script = "<script>alert(1)</script>";
    let long = "<b>".repeat(30);
    for (query, quoted) in [
        (format!("category={script}"), format!("\"{script}\"")),
        (format!("category={long}"), format!("\"{}…\"", &long[..40])),
        (format!("max_results={script}"), format!("\"{script}\"")),
    ] {
        let (status, raw) = get(&web, &format!("/api/recommendations?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(!raw.contains(['<', '>', '&']), "{query}: {raw}");
        assert!(raw.contains(r"\u003c"), "{query}: {raw}");
        let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let message = json["error"].as_str().unwrap();
        assert!(message.contains(&quoted), "{query}: {message}");
        // The page (which reads only the category) says the same, escaped by the template.
        let (_, html) = get(&web, &format!("/?{query}")).await;
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    for path in [
        "/",
        "/?category=nope",
        "/api/recommendations",
        "/healthz",
        "/nowhere",
    ] {
        let response = reqwest::get(format!("{}{path}", web.url())).await.unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert_eq!(
            policy,
            "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    // The policy allows what the pages use and nothing else: the site's own stylesheet and
    // favicon, inline SVG (no inline style: no `<style>`, no `style` attribute), links and a
    // form to the site itself.
    let stylesheet = format!(r#"<link rel="stylesheet" href="{STYLESHEET_PATH}">"#);
    for path in [
        "/",
        "/books/7",
        "/search?q=archer",
        "/categories/history",
        "/nope",
    ] {
        let (_, html) = get(&web, path).await;
        for needs_more in [
            "<script", "<img", "<iframe", "<object", "src=", "url(http", "http", "<style",
            " style=",
        ] {
            assert!(!html.contains(needs_more), "{needs_more} in {path}: {html}");
        }
        assert_eq!(html.matches("<link").count(), 2, "{path}");
        assert!(
            html.contains(r#"<link rel="icon" href="/favicon.svg""#),
            "{path}"
        );
        assert!(html.contains(&stylesheet), "{path}: {html}");
        assert_eq!(html.matches("<form").count(), 1, "{path}");
        assert_eq!(html.matches(" action=").count(), 1, "{path}");
        assert!(html.contains(r#"action="/search""#), "{path}");
        // The only `url(…)`s are covers' pattern tiles, in the page itself.
        for reference in html.split("url(").skip(1) {
            assert!(reference.starts_with("#cover-"), "{path}: {reference}");
        }
    }
}

#[tokio::test]
async fn upstream_down_still_renders_the_page_with_a_notice() {
    let web = start_marketplace(free_port()).await;
    let started = Instant::now();
    let (status, html) = get(&web, "/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Recommendations are unavailable right now"),
        "{html}"
    );
    assert_eq!(html.matches("<li>").count(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered promptly"
    );
    let (status, body) = get(&web, "/api/recommendations").await;
    assert_eq!(status, 503);
    assert!(body.contains("unavailable"));
}

#[tokio::test]
async fn slow_upstream_is_cut_at_the_deadline() {
    let fake = FakeRecommendations {
        delay: Duration::from_secs(10),
        ..Default::default()
    };
    let (_upstream, web) = system(fake).await;
    let started = Instant::now();
    let (status, html) = get(&web, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Recommendations are unavailable right now"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 300 ms deadline held, not the 10 s delay"
    );
}

#[tokio::test]
async fn recommendations_come_back_without_a_restart() {
    let port = free_port();
    let web = start_marketplace(port).await;
    let (_, html) = get(&web, "/").await;
    assert!(html.contains("unavailable"));
    let listeners = Listeners::bind("127.0.0.1", port, Some(0)).await.unwrap();
    let _upstream = start_upstream(listeners, FakeRecommendations::default());
    let mut last = String::new();
    for _ in 0..50 {
        let (status, html) = get(&web, "/").await;
        assert_eq!(status, 200);
        if html.matches("<li>").count() == 3 {
            return;
        }
        last = html;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("recommendations never came back: {last}");
}

#[tokio::test]
async fn request_id_reaches_the_upstream_and_comes_back() {
    let fake = FakeRecommendations::default();
    let seen = fake.request_ids.clone();
    let (_upstream, web) = system(fake).await;
    let response = reqwest::Client::new()
        .get(format!("{}/", web.url()))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
    assert_eq!(*seen.lock().unwrap(), ["req-42"]);
    // Without one, the marketplace assigns an id and still propagates it.
    let response = reqwest::get(format!("{}/", web.url())).await.unwrap();
    let assigned = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(seen.lock().unwrap().last().unwrap(), &assigned);
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    assert_eq!(get(&web, "/healthz").await, (200, "ok\n".to_owned()));
    get(&web, "/").await;
    get(&web, "/?category=nope").await;
    let (status, metrics) = get(&web, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/",status="200"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"http_requests_total{method="GET",route="/",status="400"} 1"#));
    assert!(metrics.contains(
        r#"grpc_client_handled_total{grpc_type="unary",grpc_service="bookstore.recommendations.v1.RecommendationsService",grpc_method="Recommend",grpc_code="OK"} 1"#
    ), "{metrics}");
}

#[tokio::test]
async fn metrics_show_only_what_the_marketplace_serves_and_calls() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    get(&web, "/").await;
    let (_, metrics) = get(&web, "/metrics").await;
    // Client series for the one method it called, none for the methods it never calls (nor
    // for the test harness's dummy service), and no gRPC server series at all.
    assert!(metrics.contains(r#"grpc_method="Recommend""#), "{metrics}");
    for absent in [
        "ListCategories",
        "DummyService",
        "grpc_server_",
        "Factorial",
    ] {
        assert!(!metrics.contains(absent), "{absent} in\n{metrics}");
    }
    // The standard process metrics, and help text that reads as written.
    for present in [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(metrics.contains(present), "no {present} in\n{metrics}");
    }
    let help: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("# HELP"))
        .collect();
    assert!(help.iter().all(|line| !line.ends_with("..")), "{help:#?}");
    assert!(
        metrics.len() < 20_000,
        "{} bytes:\n{metrics}",
        metrics.len()
    );
}
