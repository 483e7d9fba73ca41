//! The gateway's HTML pages, as askama templates checked at compile time (`templates/`): the
//! usage page at `/` with a form, the answer page the form leads to, and the 404 page. Every
//! value is HTML-escaped by askama, so input echoed back (in the form, in an error message, in a
//! path) cannot inject markup. The pages are plain HTML and an inline `<style>`: no script and
//! nothing to load, as the Content-Security-Policy every response carries demands.

use askama::Template;

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
