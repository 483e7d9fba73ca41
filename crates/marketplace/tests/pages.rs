//! The storefront's pages against the tests' fake Recommendations service (`support`): a
//! book's page, search, a category's page, the 404, 405 and 503 pages, and the favicon — each
//! route's status and what a visitor reads on it.

mod support;

use bookstore_proto::recommendations::v1;
use bookstore_testing::free_port;
use marketplace::STYLESHEET_PATH;
use support::{
    FakeRecommendations, HARMLESS, assert_frame, book_links, fake_book, get, next_link,
    start_marketplace, system,
};

/// `text` as askama writes it into a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
}

#[tokio::test]
async fn a_books_page_shows_the_book_and_more_of_its_category() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    // Book 7: Classics (7), by Cy Carter (7 % 5 = 2), a multiple of 7, so 70 BCE.
    let (status, html) = get(&web, "/books/7").await;
    assert_eq!(status, 200, "{html}");
    let title = escaped("Book 7 <of> category 7");
    assert_frame(&html, &format!("{title} — Online Books For You"), &title, 0);
    assert!(html.contains(r#"<p class="byline">by <span class="author">Cy Carter</span></p>"#));
    assert!(html.contains(r#"<dd class="year">70 BCE</dd>"#), "{html}");
    assert!(
        html.contains(r#"<dd class="category"><a href="/categories/classics">Classics</a></dd>"#)
    );
    // The cover: one macro's markup, its colours drawn in its SVG.
    let cover = r#"<div class="cover" aria-hidden="true"><svg viewBox="0 0 100 150" "#;
    assert_eq!(
        html.matches(cover).count(),
        4,
        "the book's and three cards': {html}"
    );
    assert!(html.contains(&format!(
        r#"</svg><span class="cover-title">{title}</span><span class="cover-author">Cy Carter</span></div>"#
    )));
    assert!(html.contains("<h2 id=\"more-heading\">More Classics books</h2>"));
    // Recommend gave books 7, 15, 23 and 31: the page drops itself and shows the other three,
    // as cards (no list items), each linking to its page.
    assert_eq!(book_links(&html), [15, 23, 31]);
    assert_eq!(html.matches("<article class=\"card\">").count(), 3);
    assert!(html.contains(&escaped("Book 15 <of> category 7")));
    assert!(html.contains("<h3 class=\"card-title\"><a href=\"/books/15\">"));

    let (status, html) = get(&web, "/books/9").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<dd class="year">1809</dd>"#), "{html}");
    assert!(html.contains("More Mystery books"));
    assert_eq!(book_links(&html), [1, 17, 25]);
}

#[tokio::test]
async fn a_books_page_without_more_books_still_shows_the_book() {
    let fake = FakeRecommendations {
        recommend_fails: true,
        ..Default::default()
    };
    let (_upstream, web) = system(fake).await;
    let (status, html) = get(&web, &format!("/books/{HARMLESS}")).await;
    assert_eq!(status, 200);
    let title = escaped("Mostly Harmless & <Other> Stories");
    assert!(html.contains(&format!("<h1>{title}</h1>")), "{html}");
    assert!(html.contains("Recommendations are unavailable right now"));
    assert!(book_links(&html).is_empty());
}

#[tokio::test]
async fn unknown_or_malformed_book_ids_get_a_404_page() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    for id in [
        "401",
        "0",
        "-1",
        "abc",
        "1.5",
        "%FF",
        "99999999999999999999",
        // Book 7 exists, but its one URL is /books/7.
        "+7",
        "%2B7",
        "07",
        "007",
        "%207",
    ] {
        let (status, html) = get(&web, &format!("/books/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert_frame(
            &html,
            "Book not found — Online Books For You",
            "Book not found",
            0,
        );
        assert!(html.contains("There is no book with the id"), "{html}");
        assert!(html.contains(r#"<a href="/">Back to the homepage</a>"#));
    }
}

#[tokio::test]
async fn search_finds_books_a_page_at_a_time() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    // Ann Archer wrote every fifth book: 80.
    let (status, html) = get(&web, "/search?q=Archer").await;
    assert_eq!(status, 200);
    assert_frame(
        &html,
        "Search results for “Archer” — Online Books For You",
        "Search",
        0,
    );
    assert!(html.contains("80 books match “Archer”"), "{html}");
    assert!(
        html.contains(r#"name="q" value="Archer""#),
        "the box keeps the words"
    );
    let mut seen = book_links(&html);
    assert_eq!(seen, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    // The fake's page tokens hold a space, `/` and `&`: the link carries them encoded.
    let mut next = next_link(&html);
    assert_eq!(
        next.as_deref(),
        Some("/search?q=Archer&page_token=after%2012%2F%26")
    );
    let mut pages = 1;
    while let Some(path) = next.take() {
        let (status, html) = get(&web, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("<a href=\"/search?q=Archer\">First page</a>"));
        seen.extend(book_links(&html));
        next = next_link(&html);
        pages += 1;
    }
    assert_eq!(pages, 7);
    assert_eq!(seen, (1..=80).map(|n| n * 5).collect::<Vec<_>>());
}

#[tokio::test]
async fn search_says_how_many_match_or_that_none_do() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/search?q=+harmless+").await;
    assert_eq!(status, 200);
    assert!(html.contains("1 book matches “harmless”"), "{html}");
    assert_eq!(book_links(&html), [HARMLESS]);
    assert!(next_link(&html).is_none());
    let (status, html) = get(&web, "/search?q=no+such+words").await;
    assert_eq!(status, 200);
    assert!(html.contains("No books match “no such words”"), "{html}");
    assert!(book_links(&html).is_empty());
    // Words in any case and order, across title and author.
    let (_, html) = get(&web, "/search?q=DOUGLAS+stories").await;
    assert_eq!(book_links(&html), [HARMLESS]);
}

#[tokio::test]
async fn search_without_words_shows_the_form_and_a_hint() {
    let web = start_marketplace(free_port()).await;
    // No call is made, so it answers even with Recommendations down.
    for path in [
        "/search",
        "/search?q=",
        "/search?q=+++",
        "/search?page_token=x",
    ] {
        let (status, html) = get(&web, path).await;
        assert_eq!(status, 200, "{path}");
        assert_frame(&html, "Search — Online Books For You", "Search", 0);
        assert!(html.contains(r#"<p class="hint">"#), "{html}");
        assert!(!html.contains("books match") && !html.contains("book matches"));
    }
}

#[tokio::test]
async fn a_query_is_echoed_escaped() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/search?q=%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("<script") && !html.contains("alert(\"x\")"),
        "{html}"
    );
    let shown = escaped("<script>alert(\"x\")</script>");
    assert!(
        html.contains(&format!("No books match “{shown}”")),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{shown}\"")), "{html}");
    assert!(html.contains(&format!("<title>Search results for “{shown}”")));
}

#[tokio::test]
async fn bad_search_input_gets_a_400_page_that_says_why() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let long = "a".repeat(201);
    for (path, says) in [
        (format!("/search?q={long}"), "at most 200 characters"),
        (
            "/search?q=archer&page_token=forged".to_owned(),
            "This page of results cannot be found",
        ),
        (
            "/categories/mystery?page_token=forged".to_owned(),
            "This page of results cannot be found",
        ),
        (
            "/search?q=a&q=b".to_owned(),
            "The query string is not understood",
        ),
    ] {
        let (status, html) = get(&web, &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(html.contains(says), "{path}: {html}");
        assert!(
            html.contains("<h1>That request is not understood</h1>"),
            "{html}"
        );
    }
    // 200 characters are allowed (and match nothing).
    let (status, _) = get(&web, &format!("/search?q={}", &long[1..])).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_category_page_lists_every_book_of_it() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let (status, html) = get(&web, "/categories/science_fiction").await;
    assert_eq!(status, 200);
    assert_frame(
        &html,
        "Science fiction — Online Books For You",
        "Science fiction",
        0,
    );
    assert!(html.contains(r#"<a href="/categories/science_fiction" aria-current="page">"#));
    assert!(html.contains("50 books in Science fiction."), "{html}");
    let mut seen = book_links(&html);
    assert_eq!(seen.len(), 12);
    let mut next = next_link(&html);
    assert_eq!(
        next.as_deref(),
        Some("/categories/science_fiction?page_token=after%2012%2F%26")
    );
    while let Some(path) = next.take() {
        let (status, html) = get(&web, &path).await;
        assert_eq!(status, 200, "{path}");
        seen.extend(book_links(&html));
        next = next_link(&html);
    }
    let science_fiction = v1::Category::ScienceFiction as i32;
    let expected: Vec<i64> = (1..=400)
        .filter(|id| fake_book(*id).unwrap().category == science_fiction)
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn unknown_categories_and_paths_get_a_404_page() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    for path in [
        "/categories/poetry",
        "/categories/MYSTERY",
        "/categories/%FF",
    ] {
        let (status, html) = get(&web, path).await;
        assert_eq!(status, 404, "{path}");
        assert_frame(
            &html,
            "Category not found — Online Books For You",
            "Category not found",
            0,
        );
    }
    for path in [
        "/books",
        "/books/",
        "/books/1/",
        "/nope",
        "/categories",
        "/search/x",
    ] {
        let (status, html) = get(&web, path).await;
        assert_eq!(status, 404, "{path}");
        assert_frame(
            &html,
            "Page not found — Online Books For You",
            "Page not found",
            0,
        );
        assert!(html.contains(r#"<a href="/">Back to the homepage</a>"#));
    }
    // Under /api/, the 404 is JSON.
    let response = reqwest::get(format!("{}/api/nope", web.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn another_method_gets_a_clear_405() {
    let (_upstream, web) = system(FakeRecommendations::default()).await;
    let client = reqwest::Client::new();
    for path in ["/", "/books/1", "/search"] {
        let response = client
            .post(format!("{}{path}", web.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "GET,HEAD", "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<h1>Method not allowed</h1>"), "{html}");
        assert!(html.contains("This address does not accept POST requests."));
    }
}

#[tokio::test]
async fn the_stylesheet_is_served_at_its_hash_and_cached_for_good() {
    let web = start_marketplace(free_port()).await;
    let response = reqwest::get(format!("{}{STYLESHEET_PATH}", web.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.text().await.unwrap().contains(".cover {"));
    // Its URL names its content: any other name is not found.
    let (status, _) = get(&web, "/assets/style-0000000000000000.css").await;
    assert_eq!(status, 404);
    // Every page links to it, even the page of a path that does not exist.
    let (_, html) = get(&web, "/no/such/page").await;
    assert!(html.contains(&format!(
        r#"<link rel="stylesheet" href="{STYLESHEET_PATH}">"#
    )));
}

#[tokio::test]
async fn the_favicon_is_served_with_its_type_and_cached() {
    let web = start_marketplace(free_port()).await;
    for (path, content_type, starts) in [
        ("/favicon.svg", "image/svg+xml", b"<svg xmlns=".as_slice()),
        (
            "/favicon.ico",
            "image/x-icon",
            [0, 0, 1, 0, 1, 0].as_slice(),
        ),
    ] {
        let response = reqwest::get(format!("{}{path}", web.url())).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000"
        );
        let body = response.bytes().await.unwrap();
        assert!(body.starts_with(starts), "{path}");
    }
}

#[tokio::test]
async fn with_recommendations_down_pages_say_so_with_a_503() {
    let web = start_marketplace(free_port()).await;
    for path in ["/books/1", "/search?q=archer", "/categories/mystery"] {
        let (status, html) = get(&web, path).await;
        assert_eq!(status, 503, "{path}");
        assert_frame(
            &html,
            "Temporarily unavailable — Online Books For You",
            "Temporarily unavailable",
            0,
        );
        assert!(html.contains("Recommendations are unavailable right now"));
    }
    // The homepage still answers, with its notice.
    let (status, html) = get(&web, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<p class="notice" role="status">"#));
}
