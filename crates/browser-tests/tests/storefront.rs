//! The storefront in headless Chromium: a reader's way through it by clicking and typing
//! (homepage → book → category, search → book), the 404 page, the notice when
//! Recommendations is down, and a layout that fits a phone and a laptop, with no console
//! errors (failed loads, a missing favicon, CSP violations, script errors) on the way.
//!
//! Needs `chromium` and `chromium-driver`: ignored by a plain `cargo test`, run by
//! `tests/browser/run.sh` (which installs them) with `--ignored`.

use storefront_browser::page::{self, SITE_NAME};
use storefront_browser::{Browser, Storefront};
use thirtyfour::{By, Key};

/// Whether `path` is a book page's, `/books/{id}`.
fn is_book_path(path: &str) -> bool {
    path.strip_prefix("/books/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit()))
}

/// The path of the search results for `words`, encoded as the header's search form sends
/// them (`application/x-www-form-urlencoded`: `Dune & co` is `/search?q=Dune+%26+co`).
fn search_path(words: &str) -> String {
    let mut url = reqwest::Url::parse("http://storefront/search").expect("a valid URL");
    url.query_pairs_mut().append_pair("q", words);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

#[test]
fn search_paths_are_encoded_as_the_search_form_sends_them() {
    assert_eq!(search_path("Dune"), "/search?q=Dune");
    assert_eq!(search_path("Dune & co"), "/search?q=Dune+%26+co");
    assert_eq!(search_path("#1?"), "/search?q=%231%3F");
}

/// The `href` of every book link in the homepage's `<li>`s, failing unless there are exactly
/// three `<li>`, each linking to a book page.
async fn homepage_books(browser: &Browser) -> Vec<String> {
    let items = browser.all("li").await;
    assert_eq!(items.len(), 3, "the homepage shows exactly three <li>");
    let mut books = Vec::new();
    for item in &items {
        let link = item
            .find(By::Css("a"))
            .await
            .expect("each recommendation is a link");
        let href = link.attr("href").await.unwrap().unwrap_or_default();
        assert!(is_book_path(&href), "a recommendation links to {href:?}");
        books.push(href);
    }
    books
}

/// The favicon the page names (or `/favicon.ico`, where browsers look without one) is served.
async fn assert_favicon(browser: &Browser, system: &Storefront) {
    let named = browser
        .eval("const l = document.querySelector('link[rel~=\"icon\"]'); return l && l.getAttribute('href')")
        .await;
    let href = named.as_str().unwrap_or("/favicon.ico");
    let url = if href.starts_with('/') {
        system.url(href)
    } else {
        href.to_owned()
    };
    if url.starts_with("data:") {
        return;
    }
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200, "the favicon {url}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("image/"), "the favicon {url} is {kind}");
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run tests/browser/run.sh"]
async fn a_reader_reaches_a_book_from_the_homepage_its_category_and_the_search() {
    let system = Storefront::start().await;
    let browser = Browser::open().await;

    // The homepage: the tutorial's title and three recommendations, each a book page's link.
    browser.goto(&system.url("/")).await;
    assert_eq!(browser.client().title().await.unwrap(), SITE_NAME);
    page::assert_frame(&browser, "the homepage").await;
    let books = homepage_books(&browser).await;
    assert_favicon(&browser, &system).await;
    browser.assert_clean_console("the homepage").await;

    // Click the first recommendation: its book page.
    browser.one("li a").await.click().await.unwrap();
    let book = browser
        .wait_for_path(|path| path == books[0], "the first book's page")
        .await;
    page::assert_frame(&browser, &book).await;
    let title = page::heading(&browser).await;
    assert!(!title.is_empty(), "{book}: the <h1> names the book");
    browser.assert_clean_console(&book).await;

    // Its category link: the category's page, listing books.
    let category_link = browser.one("main a[href^='/categories/']").await;
    let category = category_link.attr("href").await.unwrap().unwrap();
    category_link.click().await.unwrap();
    browser
        .wait_for_path(|path| path == category, "the category's page")
        .await;
    page::assert_frame(&browser, &category).await;
    assert!(!page::heading(&browser).await.is_empty());
    let mut listed = Vec::new();
    for link in browser.all("main a[href^='/books/']").await {
        listed.push(link.attr("href").await.unwrap().unwrap_or_default());
    }
    // Every category holds at most 12 books, one page: the book we came from is on it.
    assert!(
        listed.contains(&book),
        "{category} lists the book we came from, {book}: {listed:?}"
    );
    browser.assert_clean_console(&category).await;

    // Search for the book by its title, typed into the header's search box, then Enter.
    let input = browser.one("form[role='search'] input[name='q']").await;
    input
        .send_keys(format!("{title}{}", Key::Enter.value()))
        .await
        .unwrap();
    let results = browser
        .wait_for_path(|path| path.starts_with("/search?q="), "the search results")
        .await;
    page::assert_frame(&browser, &results).await;
    let hit = browser.one(&format!("main a[href='{book}']")).await;
    browser.assert_clean_console(&results).await;
    hit.click().await.unwrap();
    browser
        .wait_for_path(|path| path == book, "the book found by the search")
        .await;
    assert_eq!(page::heading(&browser).await, title);
    browser.assert_clean_console(&book).await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run tests/browser/run.sh"]
async fn an_unknown_path_shows_the_sites_own_404_page_with_a_way_home() {
    let system = Storefront::start().await;
    let browser = Browser::open().await;
    browser.goto(&system.url("/")).await;
    let site_look = page::look(&browser).await;
    browser.assert_clean_console("the homepage").await;

    let missing = system.url("/no/such/page");
    let status = reqwest::get(&missing).await.unwrap().status();
    assert_eq!(status, 404, "{missing}");
    browser.goto(&missing).await;
    page::assert_frame(&browser, "the 404 page").await;
    let look = page::look(&browser).await;
    assert!(
        look["rules"].as_u64() > Some(0),
        "the 404 page is styled: {look}"
    );
    assert_eq!(look, site_look, "the 404 page is styled as the homepage");
    // The page's own 404 is the one error the console shows.
    let errors = browser.console_errors().await;
    assert!(
        errors.len() == 1
            && errors[0].message.starts_with(&missing)
            && errors[0].message.contains("status of 404"),
        "the 404 page's console shows its own status and nothing else: {errors:#?}"
    );

    browser.one("main a[href='/']").await.click().await.unwrap();
    browser
        .wait_for_path(|path| path == "/", "the homepage")
        .await;
    assert_eq!(homepage_books(&browser).await.len(), 3);
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run tests/browser/run.sh"]
async fn the_homepage_shows_a_notice_while_recommendations_are_down() {
    const NOTICE: &str = ".notice[role='status']";
    let mut system = Storefront::start().await;
    let browser = Browser::open().await;
    browser.goto(&system.url("/")).await;
    assert!(
        browser.all(NOTICE).await.is_empty(),
        "no notice while all is well"
    );
    homepage_books(&browser).await;

    // Recommendations stops: the same page, with a notice instead of books.
    system.stop_recommendations().await;
    browser.goto(&system.url("/")).await;
    page::assert_frame(&browser, "the degraded homepage").await;
    let notice = browser.one(NOTICE).await;
    assert!(
        notice.is_displayed().await.unwrap(),
        "the notice is visible"
    );
    assert!(
        !notice.text().await.unwrap().trim().is_empty(),
        "the notice says something"
    );
    assert!(browser.all("main a[href^='/books/']").await.is_empty());
    browser.assert_clean_console("the degraded homepage").await;

    // A marketplace whose Recommendations never came up says the same.
    let alone = Storefront::without_recommendations().await;
    browser.goto(&alone.url("/")).await;
    assert!(browser.one(NOTICE).await.is_displayed().await.unwrap());
    browser
        .assert_clean_console("the homepage without Recommendations")
        .await;
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run tests/browser/run.sh"]
async fn every_kind_of_page_fits_a_phone_and_a_laptop_screen() {
    let system = Storefront::start().await;
    let browser = Browser::open().await;
    browser.goto(&system.url("/")).await;
    let book = homepage_books(&browser).await.remove(0);
    browser.goto(&system.url(&book)).await;
    let title = page::heading(&browser).await;
    let category = browser
        .one("main a[href^='/categories/']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let word = title.split_whitespace().next().unwrap_or("the").to_owned();
    let pages = [
        "/".to_owned(),
        book,
        category,
        search_path(&word),
        "/no/such/page".to_owned(),
    ];

    for (width, height, mobile) in [(390, 844, true), (1280, 800, false)] {
        browser.emulate_screen(width, height, mobile).await;
        for path in &pages {
            browser.goto(&system.url(path)).await;
            page::assert_fits(&browser, width, path).await;
        }
    }
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run tests/browser/run.sh"]
async fn the_console_check_sees_failed_loads_and_blocked_scripts() {
    // The other tests pass on an empty console; this one shows the log is read at all.
    let system = Storefront::start().await;
    let browser = Browser::open().await;
    browser.goto(&system.url("/")).await;
    browser.assert_clean_console("the homepage").await;
    browser
        .eval(
            "const image = document.createElement('img'); image.src = '/no-such-image.png'; \
             const script = document.createElement('script'); script.textContent = 'void 0'; \
             document.body.append(image, script);",
        )
        .await;
    let errors = browser.console_errors().await;
    assert!(
        errors.iter().any(|entry| entry.source == "network"
            && entry.message.contains("/no-such-image.png")
            && entry.message.contains("status of 404")),
        "a missing image is an error: {errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|entry| entry.source == "security"
                && entry.message.contains("Content Security Policy")),
        "an inline script blocked by the CSP is an error: {errors:#?}"
    );
    browser.close().await;
}
