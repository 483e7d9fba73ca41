//! How a web app's answers quote what a client sent — written once, here, for every web app:
//! never the raw markup of the input.
//!
//! - A message that names a value the client sent quotes it with [`quote_input`] (or
//!   [`shorten_input`], for a value already known to be digits): at most [`ECHO_LIMIT`]
//!   characters, then `…`, so a long value cannot fill the answer; quotes, backslashes and
//!   control characters escaped, so the value cannot close its quotes.
//! - Markup is escaped where it is written, by the format's own rule: on a page by askama
//!   (`&lt;`), and in JSON by [`SafeJson`], which writes `<`, `>` and `&` as `\u003c`, `\u003e`
//!   and `\u0026` wherever they occur. That is the same JSON (every decoder reads the same
//!   strings back), but a browser that sniffs it, a page that pastes it into HTML unescaped,
//!   or a `<script>` block that embeds it finds no tag in it: what Go's `encoding/json` does
//!   by default.
//!
//! Why [`SafeJson`] is written here: `serde_json` leaves `<`, `>` and `&` alone and has no
//! option for them, and no well-kept crate adds one; its [`Formatter`] trait is the extension
//! point it offers for exactly this, so the escaping is one small method on it, and the rest
//! is `serde_json`'s own compact output.

use std::borrow::Cow;
use std::io;

use axum::response::{IntoResponse, Response};
use bytes::{BufMut as _, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::ser::Formatter;

/// How many characters of a client's value an answer quotes at most.
pub const ECHO_LIMIT: usize = 40;

/// `value`, cut to [`ECHO_LIMIT`] characters with `…` after them if it was longer.
pub fn shorten_input(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(ECHO_LIMIT) {
        Some((end, _)) => Cow::Owned(format!("{}…", &value[..end])),
        None => Cow::Borrowed(value),
    }
}

/// `value` shortened ([`shorten_input`]) and in double quotes, with quotes, backslashes and
/// control characters escaped as in Rust source: `"<b>"`, `"say \"hi\""`.
pub fn quote_input(value: &str) -> String {
    format!("{:?}", shorten_input(value))
}

/// A JSON response, `<`, `>` and `&` written as `\u003c`, `\u003e` and `\u0026` (see the
/// module docs); otherwise as `axum::Json` answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct SafeJson<T>(pub T);

impl<T: Serialize> IntoResponse for SafeJson<T> {
    fn into_response(self) -> Response {
        let mut body = BytesMut::with_capacity(128).writer();
        let mut serializer = serde_json::Serializer::with_formatter(&mut body, MarkupEscaping);
        match self.0.serialize(&mut serializer) {
            Ok(()) => (
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                body.into_inner().freeze(),
            )
                .into_response(),
            // A bug (a map with non-string keys, say): answered as `axum::Json` answers it.
            Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        }
    }
}

/// `serde_json`'s compact output, with `<`, `>` and `&` in strings (keys included) escaped.
/// Outside strings JSON has no such characters, so this is every place they can occur.
struct MarkupEscaping;

impl Formatter for MarkupEscaping {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (at, byte) in bytes.iter().enumerate() {
            let escaped: &[u8] = match byte {
                b'<' => br"\u003c",
                b'>' => br"\u003e",
                b'&' => br"\u0026",
                _ => continue,
            };
            writer.write_all(&bytes[start..at])?;
            writer.write_all(escaped)?;
            start = at + 1;
        }
        writer.write_all(&bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn encode(value: &Value) -> String {
        let mut out = Vec::new();
        value
            .serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                MarkupEscaping,
            ))
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn markup_is_escaped_and_decodes_to_the_same_json() {
        let value = json!({
            "<k>": ["<script>alert(1)</script>", "Pride & Prejudice", "a\"b\\c\n", 7, null],
            "plain": "no markup, ünïcödé",
        });
        let text = encode(&value);
        assert!(!text.contains(['<', '>', '&']), "{text}");
        assert!(
            text.contains(r#""\u003cscript\u003ealert(1)\u003c/script\u003e""#),
            "{text}"
        );
        assert!(text.contains(r#""Pride \u0026 Prejudice""#), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        // Without markup, exactly serde_json's own output.
        let plain = json!({"input": [10, 3], "ncr": 120, "msg": "Success"});
        assert_eq!(encode(&plain), plain.to_string());
    }

    #[test]
    fn values_are_quoted_short_with_their_quotes_escaped() {
        assert_eq!(quote_input("poetry"), r#""poetry""#);
        assert_eq!(quote_input(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote_input("line\nbreak"), r#""line\nbreak""#);
        let long = "é".repeat(ECHO_LIMIT + 10);
        let quoted = quote_input(&long);
        assert_eq!(quoted, format!("\"{}…\"", "é".repeat(ECHO_LIMIT)));
        assert_eq!(
            shorten_input(&"1".repeat(ECHO_LIMIT)),
            "1".repeat(ECHO_LIMIT)
        );
        assert_eq!(
            shorten_input(&"1".repeat(ECHO_LIMIT + 1)),
            format!("{}…", "1".repeat(ECHO_LIMIT))
        );
    }

    #[tokio::test]
    async fn safe_json_answers_as_axum_json_does() {
        let response = SafeJson(json!({"error": "no category called \"<b>\""})).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            &body[..],
            br#"{"error":"no category called \"\u003cb\u003e\""}"#
        );
    }
}
