//! The JSON API's book and search answers against the tests' fake Recommendations service
//! (`support`); `/api/recommendations` is in `marketplace.rs`.

mod support;

use bookstore_testing::free_port;
use serde_json::Value;
use support::{FakeRecommendations, HARMLESS, get, start_marketplace, system};

async fn json(web: &bookstore_testing::Running<marketplace::RunError>, path: &str) -> (u16, Value) {
    let (status, body) = get(web, path).await;
    assert!(
        !body.contains(['<', '>']),
        "markup is escaped in JSON: {body}"
    );
    (status, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn a_book_as_json() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, answer) = json(&web, "/api/books/7").await;
    assert_eq!(status, 200);
    let book = &answer["book"];
    assert_eq!(book["id"], 7);
    assert_eq!(book["title"], "Book 7 <of> category 7");
    assert_eq!(book["author"], "Cy Carter");
    assert_eq!(book["year"], -70);
    assert_eq!(book["category"], "classics");
    for (path, says) in [
        ("/api/books/401", "There is no book with the id \"401\"."),
        ("/api/books/0", "There is no book with the id \"0\"."),
        ("/api/books/x", "There is no book with the id \"x\"."),
    ] {
        let (status, answer) = json(&web, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(answer["error"], says);
    }
}

#[tokio::test]
async fn a_search_as_json() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, answer) = json(&web, "/api/search?q=harmless").await;
    assert_eq!(status, 200);
    assert_eq!(answer["total_size"], 1);
    assert_eq!(answer["books"][0]["id"], HARMLESS);
    assert_eq!(answer["next_page_token"], "");
    // Every fantasy book (50), twenty at a time.
    let (_, answer) = json(&web, "/api/search?category=fantasy").await;
    assert_eq!(answer["total_size"], 50);
    assert_eq!(answer["books"].as_array().unwrap().len(), 20);
    let token = answer["next_page_token"].as_str().unwrap();
    assert_eq!(token, "after 20/&");
    let (_, answer) = json(
        &web,
        "/api/search?category=fantasy&page_token=after+40%2F%26",
    )
    .await;
    assert_eq!(answer["books"].as_array().unwrap().len(), 10);
    assert_eq!(answer["books"][0]["category"], "fantasy");
    for (query, says) in [
        ("category=poetry", "There is no category called \"poetry\""),
        ("page_token=forged", "This page of results cannot be found"),
        (&format!("q={}", "x".repeat(201)), "at most 200 characters"),
        ("q=a&q=b", "The query string is not understood"),
    ] {
        let (status, answer) = json(&web, &format!("/api/search?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
}

#[tokio::test]
async fn with_recommendations_down_the_api_answers_503() {
    let web = start_marketplace(free_port()).await;
    for path in [
        "/api/books/1",
        "/api/search?q=archer",
        "/api/recommendations",
    ] {
        let (status, answer) = json(&web, path).await;
        assert_eq!(status, 503, "{path}");
        assert_eq!(
            answer["error"],
            "Recommendations are unavailable right now. Please try again in a moment."
        );
    }
}
