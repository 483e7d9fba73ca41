//! The gateway's HTML pages, as askama templates checked at compile time (`templates/`): the
//! usage page at `/` with a form, the answer page the form leads to, and the 404 page. Every
//! value is HTML-escaped by askama, so input echoed back (in the form, in an error message, in a
//! path) cannot inject markup. The pages are plain HTML and one stylesheet from the gateway
//! itself: no script, no inline style and nothing from elsewhere, as the
//! Content-Security-Policy every response carries demands (`style-src 'self'`).
//!
//! The stylesheet (`templates/style.css`) is served at [`STYLESHEET_PATH`],
//! `/assets/style-<hash>.css`: the 64-bit FNV-1a hash of its content, worked out at compile
//! time, so browsers may keep it for good and an edited sheet comes at a new URL. (The
//! marketplace serves its own the same way: both use [`bookstore_layers::Stylesheet`].)

use askama::Template;
use bookstore_layers::Stylesheet;

/// The pages' stylesheet, served at [`STYLESHEET_PATH`].
pub(crate) const STYLESHEET: Stylesheet = Stylesheet::new(include_str!("../templates/style.css"));

/// Where the pages' stylesheet is served: `/assets/style-<its FNV-1a hash, in hex>.css`.
pub const STYLESHEET_PATH: &str = STYLESHEET.path();

/// The values of the form's `n` and `r` fields, as sent (empty on the usage page).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormInput {
    /// The `n` field.
    pub n: String,
    /// The `r` field.
    pub r: String,
}

/// The usage page: what the gateway does, its API, and a form.
#[derive(Template, Debug)]
#[template(path = "usage.html")]
pub struct UsagePage {
    max_n: u64,
    form: FormInput,
}

impl UsagePage {
    /// The page for a gateway accepting n up to `max_n`.
    pub fn new(max_n: u64) -> Self {
        Self {
            max_n,
            form: FormInput::default(),
        }
    }
}

/// The page answering the form: nCr, or what went wrong, and the form again with the values
/// sent.
#[derive(Template, Debug)]
#[template(path = "answer.html")]
pub struct AnswerPage {
    max_n: u64,
    form: FormInput,
    heading: String,
    answer: Option<String>,
    /// How many digits the answer has.
    digits: usize,
    error: Option<String>,
}

impl AnswerPage {
    /// nCr of `n` and `r` (as the API echoes them) is `decimal`.
    pub fn answer(max_n: u64, form: FormInput, (n, r): (&str, &str), decimal: String) -> Self {
        Self {
            max_n,
            form,
            heading: format!("{n} choose {r}"),
            digits: decimal.len(),
            answer: Some(decimal),
            error: None,
        }
    }

    /// nCr could not be computed from `form`, for the reason `message`.
    pub fn failure(max_n: u64, form: FormInput, message: String) -> Self {
        Self {
            max_n,
            form,
            heading: "nCr could not be computed".to_owned(),
            answer: None,
            digits: 0,
            error: Some(message),
        }
    }
}

/// The page for a path that is neither a page nor the API.
#[derive(Template, Debug)]
#[template(path = "not_found.html")]
pub struct NotFoundPage {
    /// The path asked for, quoted short.
    path: String,
}

impl NotFoundPage {
    /// The page for `path`, already quoted short.
    pub fn new(path: String) -> Self {
        Self { path }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheets_path_names_its_hash() {
        assert!(STYLESHEET_PATH.starts_with("/assets/style-"));
        assert!(STYLESHEET.css().contains(".answer {"));
        let page = UsagePage::new(10).render().unwrap();
        assert!(page.contains(&format!(
            r#"<link rel="stylesheet" href="{STYLESHEET_PATH}">"#
        )));
        assert!(
            !page.contains("<style") && !page.contains(" style="),
            "{page}"
        );
    }
}
