//! What the routes document (`routes.rs`), as a model the properties check the marketplace
//! against: the status a GET of any path and query string gets, with Recommendations up (the
//! tests' fake, `support`) or down.

use bookstore_proto::recommendations::v1;
use bookstore_testing::percent_decoded;
use marketplace::STYLESHEET_PATH;

use crate::support::{CATALOG_SIZE, matching, token_offset};

/// The category slugs, from the API's enum: `CATEGORY_SCIENCE_FICTION` is `science_fiction`.
pub(crate) fn slugs() -> Vec<String> {
    (1..)
        .map_while(|value| v1::Category::try_from(value).ok())
        .map(|category| {
            let name = category.as_str_name().trim_start_matches("CATEGORY_");
            name.to_ascii_lowercase()
        })
        .collect()
}

/// A query string as `application/x-www-form-urlencoded` reads it: `&`-separated pairs, `+`
/// for a space, `%XX` escapes, text that is not UTF-8 read with replacement characters.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    let decoded = |text: &str| {
        String::from_utf8_lossy(&percent_decoded(&text.replace('+', " "))).into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decoded(name), decoded(value))
        })
        .collect()
}

/// What the documentation promises for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Documented {
    /// The homepage: 200 (with a notice if Recommendations is down).
    Page,
    /// This many books of this category as JSON: 200, or 503 if Recommendations is down.
    Books(String, usize),
    /// This status from Recommendations' answer, or 503 if it is down.
    Calls(u16),
    /// This status.
    Status(u16),
}

/// `max_results` as documented: a whole number from 1 to 50 (an optional `+`, then digits).
fn max_results(text: &str) -> Option<usize> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    let value: usize = if significant.len() > 2 {
        0
    } else {
        significant.parse().unwrap_or(0)
    };
    (1..=50).contains(&value).then_some(value)
}

/// A book id as documented: ASCII digits without a leading zero (so no sign either), up to
/// `i64::MAX`.
fn canonical_id(text: &str) -> Option<i64> {
    let digits = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if digits && !text.starts_with('0') {
        text.parse().ok()
    } else {
        None
    }
}

/// A path segment as a route reads it: percent-decoded, and UTF-8 (else no route's value).
fn segment(raw: &str) -> Option<String> {
    String::from_utf8(percent_decoded(raw)).ok()
}

/// The status of a search for `words` in `category` (0: all) from the page `token`: the
/// words' length is checked first; then, if the catalog answers, it refuses a bad token.
fn searched(words: &str, category: i32, token: &str) -> Documented {
    if words.trim().chars().count() > 200 {
        return Documented::Status(400);
    }
    let matches = matching(words.trim(), category).len();
    Documented::Calls(if token_offset(token, matches).is_some() {
        200
    } else {
        400
    })
}

/// What a GET of `path?query` answers.
pub(crate) fn documented(path: &str, query: Option<&str>) -> Documented {
    let pairs = form_pairs(query.unwrap_or(""));
    // A field's value: `Err` when given twice (the query string is not understood).
    let single = |name: &str| {
        let mut values = pairs.iter().filter(|(key, _)| key == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(Documented::Status(400)),
            (value, None) => Ok(value.cloned().filter(|value| !value.is_empty())),
        }
    };
    let known = |slug: &str| slugs().iter().position(|known| known == slug);
    let answer = || -> Result<Documented, Documented> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        Ok(match (path, segments.as_slice()) {
            ("/healthz" | "/metrics" | "/favicon.svg" | "/favicon.ico", _) => {
                Documented::Status(200)
            }
            (path, _) if path == STYLESHEET_PATH => Documented::Status(200),
            ("/", _) => {
                let category = single("category")?.unwrap_or_else(|| "mystery".to_owned());
                known(&category).map_or(Documented::Status(400), |_| Documented::Page)
            }
            ("/api/recommendations", _) => {
                let (category, wanted) = (single("category")?, single("max_results")?);
                let category = category.unwrap_or_else(|| "mystery".to_owned());
                if known(&category).is_none() {
                    return Ok(Documented::Status(400));
                }
                match wanted {
                    None => Documented::Books(category, 3),
                    Some(text) => max_results(&text).map_or(Documented::Status(400), |wanted| {
                        Documented::Books(category, wanted)
                    }),
                }
            }
            ("/search", _) => {
                let (words, token) = (single("q")?.unwrap_or_default(), single("page_token")?);
                if words.trim().is_empty() {
                    // No words: the hint, without a call.
                    Documented::Status(200)
                } else {
                    searched(&words, 0, &token.unwrap_or_default())
                }
            }
            ("/api/search", _) => {
                let (words, slug) = (single("q")?.unwrap_or_default(), single("category")?);
                let token = single("page_token")?.unwrap_or_default();
                let category = match slug.map(|slug| known(&slug)) {
                    None => 0,
                    Some(Some(index)) => i32::try_from(index).unwrap() + 1,
                    Some(None) => return Ok(Documented::Status(400)),
                };
                searched(&words, category, &token)
            }
            (_, ["books", id] | ["api", "books", id]) => {
                match segment(id).as_deref().and_then(canonical_id) {
                    Some(id) if (1..=CATALOG_SIZE).contains(&id) => Documented::Calls(200),
                    Some(id) if id > 0 => Documented::Calls(404),
                    _ => Documented::Status(404),
                }
            }
            (_, ["categories", slug]) => match segment(slug).and_then(|slug| known(&slug)) {
                None => Documented::Status(404),
                Some(index) => {
                    let token = single("page_token")?.unwrap_or_default();
                    searched("", i32::try_from(index).unwrap() + 1, &token)
                }
            },
            _ => Documented::Status(404),
        })
    };
    answer().unwrap_or_else(|status| status)
}
