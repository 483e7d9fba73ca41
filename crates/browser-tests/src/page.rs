//! What every storefront page must be, checked in the browser: the shared frame (language,
//! header, search form, category navigation, one `<h1>`), a console without errors, and a
//! layout no wider than the screen.

use serde_json::Value;

use crate::browser::Browser;

/// The site's name: the homepage's title and the header's link home.
pub const SITE_NAME: &str = "Online Books For You";

/// Reads the frame's facts in one round trip, as JSON.
const FRAME_FACTS: &str = r#"
const header = document.querySelector("body > header, header");
const home = header && [...header.querySelectorAll("a")].find(a => a.getAttribute("href") === "/");
const form = document.querySelector('form[role="search"]');
const input = form && form.querySelector('input[name="q"]');
const label = input && ([...input.labels].map(l => l.textContent.trim()).join(" ")
    || input.getAttribute("aria-label") || "");
const nav = document.querySelector('nav[aria-label="Categories"]');
const navLinks = nav ? [...nav.querySelectorAll("a")].map(a => a.getAttribute("href")) : null;
const mains = document.querySelectorAll("main");
return {
    lang: document.documentElement.getAttribute("lang"),
    home: home ? home.textContent.trim() : null,
    formAction: form ? form.getAttribute("action") : null,
    formMethod: form ? (form.getAttribute("method") || "get").toLowerCase() : null,
    inputType: input ? input.getAttribute("type") : null,
    label: label,
    navLinks: navLinks,
    mains: mains.length,
    h1s: document.querySelectorAll("h1").length,
    h1sInMain: mains.length === 1 ? mains[0].querySelectorAll("h1").length : 0,
};
"#;

/// Fails the test unless the page shown has the storefront's frame: `<html lang="en">`, a
/// `<header>` whose link to `/` names the site, `<form role="search" action="/search">` with a
/// labelled `<input type="search" name="q">`, `<nav aria-label="Categories">` of plain links
/// to category pages, and one `<main>` holding the page's one `<h1>`.
pub async fn assert_frame(browser: &Browser, page: &str) {
    let facts = browser.eval(FRAME_FACTS).await;
    let fact = |name: &str| facts[name].clone();
    assert_eq!(fact("lang"), "en", "{page}: <html lang>");
    assert_eq!(
        fact("home"),
        SITE_NAME,
        "{page}: the header's link to / names the site"
    );
    assert_eq!(fact("formAction"), "/search", "{page}: the search form");
    assert_eq!(
        fact("formMethod"),
        "get",
        "{page}: the search form's method"
    );
    assert_eq!(fact("inputType"), "search", "{page}: the search input");
    assert!(
        fact("label")
            .as_str()
            .is_some_and(|label| !label.is_empty()),
        "{page}: the search input has no label: {facts}"
    );
    let nav_links = fact("navLinks");
    let nav_links = nav_links
        .as_array()
        .unwrap_or_else(|| panic!("{page}: no <nav aria-label=\"Categories\">: {facts}"));
    assert!(
        !nav_links.is_empty()
            && nav_links.iter().all(|href| href
                .as_str()
                .is_some_and(|href| href.starts_with("/categories/"))),
        "{page}: the category navigation links to category pages: {nav_links:?}"
    );
    assert_eq!(fact("mains"), 1, "{page}: one <main>");
    assert_eq!(fact("h1s"), 1, "{page}: one <h1>");
    assert_eq!(fact("h1sInMain"), 1, "{page}: the <h1> is inside <main>");
}

/// The page's `<h1>`, as shown.
pub async fn heading(browser: &Browser) -> String {
    browser
        .one("main h1")
        .await
        .text()
        .await
        .expect("the heading's text")
}

/// Fails the test if the page is wider than the screen (anything a reader would have to
/// scroll sideways to see), or if it was not laid out for the screen's `width` at all (a page
/// without a viewport `<meta>` is laid out 980 px wide on a phone and shrunk).
pub async fn assert_fits(browser: &Browser, width: u32, page: &str) {
    let sizes = browser
        .eval(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             [...document.querySelectorAll('body *')].filter(e => \
                e.getBoundingClientRect().right > window.innerWidth + 0.5) \
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))]",
        )
        .await;
    let pixels = |value: &Value| value.as_f64().expect("a number of pixels");
    let (scroll, inner) = (pixels(&sizes[0]), pixels(&sizes[1]));
    assert_eq!(
        inner,
        f64::from(width),
        "{page} at {width} px: laid out {inner} px wide (a viewport <meta>?)"
    );
    assert!(
        scroll <= inner,
        "{page} at {width} px: {scroll} px wide; past the right edge: {}",
        sizes[2]
    );
}

/// What the page looks like, in a few computed styles: the same on every page that uses the
/// site's stylesheet, and a browser's defaults on one that does not.
pub async fn look(browser: &Browser) -> Value {
    browser
        .eval(
            r#"const style = (selector, property) => {
                const element = document.querySelector(selector);
                return element ? getComputedStyle(element).getPropertyValue(property) : null;
            };
            return {
                stylesheets: document.styleSheets.length,
                rules: [...document.styleSheets].reduce((n, sheet) => n + sheet.cssRules.length, 0),
                bodyFont: style("body", "font-family"),
                bodyBackground: style("body", "background-color"),
                bodyMargin: style("body", "margin"),
                headerBackground: style("header", "background-color"),
                headerPadding: style("header", "padding"),
                mainMaxWidth: style("main", "max-width"),
            };"#,
        )
        .await
}
