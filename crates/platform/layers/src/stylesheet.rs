//! How a web app serves its pages' stylesheet — written once, here, for every web app.
//!
//! A [`Stylesheet`] is built at compile time from the sheet's content (`include_str!`), and
//! names the 64-bit FNV-1a hash of that content in its URL ([`Stylesheet::path`],
//! `/assets/style-<16 hex digits>.css`). Since an edited sheet comes at a new URL, browsers may
//! keep it for good ([`Stylesheet::response`]: `Cache-Control: public, max-age=31536000,
//! immutable`), and any other name under `/assets/` is simply not routed (a 404). The sheet is
//! served from the site itself rather than written into every page, as the
//! Content-Security-Policy allows styles from the site (`style-src 'self'`) and none inline.
//!
//! FNV-1a because it is tiny, `const`, and the same on every platform and Rust release (unlike
//! `std`'s `DefaultHasher`), so the URL is worked out by the compiler and never changes under an
//! upgrade.

use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

const PREFIX: &[u8] = b"/assets/style-";
const SUFFIX: &[u8] = b".css";
/// Hex digits of a 64-bit hash.
const DIGITS: usize = 16;
const PATH_LEN: usize = PREFIX.len() + DIGITS + SUFFIX.len();

/// A page stylesheet served at a URL naming its content's hash, cached for good.
///
/// ```
/// # use bookstore_layers::Stylesheet;
/// const STYLESHEET: Stylesheet = Stylesheet::new("body { margin: 0 }");
/// const PATH: &str = STYLESHEET.path();
/// assert!(PATH.starts_with("/assets/style-") && PATH.ends_with(".css"));
/// // In a router: `.route(PATH, get(|| async { STYLESHEET.response() }))`.
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Stylesheet {
    css: &'static str,
    path: [u8; PATH_LEN],
}

impl Stylesheet {
    /// The stylesheet `css`, its URL worked out (at compile time, in a `const`: a `static`
    /// whose path a `const` borrows crashes clippy).
    pub const fn new(css: &'static str) -> Self {
        Self {
            css,
            path: hashed_path(crate::fnv::hash(css.as_bytes())),
        }
    }

    /// Where it is served: `/assets/style-<its FNV-1a hash, in 16 lowercase hex digits>.css`.
    pub const fn path(&self) -> &str {
        match std::str::from_utf8(&self.path) {
            Ok(path) => path,
            Err(_) => panic!("the stylesheet's path is ASCII"),
        }
    }

    /// The sheet itself.
    pub const fn css(&self) -> &'static str {
        self.css
    }

    /// The answer to `GET` [`path`](Self::path): the sheet as `text/css`, cached for good.
    pub fn response(&self) -> Response {
        (
            [
                (CONTENT_TYPE, "text/css; charset=utf-8"),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            self.css,
        )
            .into_response()
    }
}

/// `/assets/style-<hash>.css`, `hash` in 16 lowercase hex digits.
const fn hashed_path(hash: u64) -> [u8; PATH_LEN] {
    let mut path = [0; PATH_LEN];
    let mut at = 0;
    while at < PATH_LEN {
        path[at] = if at < PREFIX.len() {
            PREFIX[at]
        } else if at < PREFIX.len() + DIGITS {
            let nibble = (hash >> (4 * (PREFIX.len() + DIGITS - 1 - at))) & 0xf;
            b"0123456789abcdef"[nibble as usize]
        } else {
            SUFFIX[at - PREFIX.len() - DIGITS]
        };
        at += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: Stylesheet = Stylesheet::new("foobar");
    const PATH: &str = SHEET.path();

    #[test]
    fn the_path_names_the_contents_hash() {
        assert_eq!(PATH, "/assets/style-85944171f73967e8.css");
        assert_eq!(SHEET.css(), "foobar");
        assert_ne!(Stylesheet::new("foobaz").path(), PATH);
    }

    #[tokio::test]
    async fn it_is_served_as_css_and_cached_for_good() {
        let response = SHEET.response();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers[CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(
            headers[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"foobar");
    }
}
