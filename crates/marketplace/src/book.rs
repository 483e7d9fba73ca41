//! `GET /books/{id}`: one book — title, author, year, category, cover — and up to
//! [`MORE_BOOKS`] others of its category. An id that is not a positive whole number written
//! canonically — ASCII digits, no sign, no leading zero — is a 404 like an id the catalog does
//! not hold (no call is made for it): `/books/007` and `/books/+7` would otherwise be
//! duplicates of `/books/7`, and a book has one URL. Without `GetBook` there is
//! no page (503 while Recommendations is down); without the other books, the page says so in
//! their place.

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tower_http::request_id::RequestId;

use crate::error::{Error, UNAVAILABLE_MESSAGE};
use crate::pages::BookPage;
use crate::request::{AppState, request_id};
use crate::respond::{PageError, render};

/// How many other books of its category a book's page shows at most.
pub(crate) const MORE_BOOKS: usize = 3;

/// The catalog id `path` names: a positive whole number in canonical form (what
/// `i64::to_string` writes), else [`Error::NoSuchBook`].
pub(crate) fn book_id(path: Result<Path<String>, PathRejection>) -> Result<i64, Error> {
    let text = match path {
        Ok(Path(text)) => text,
        // Not UTF-8 once percent-decoded: no book has such an id.
        Err(_) => String::from("?"),
    };
    // `parse` alone would take a sign and leading zeros.
    let canonical = text.bytes().all(|byte| byte.is_ascii_digit()) && !text.starts_with('0');
    canonical
        .then(|| text.parse::<i64>().ok())
        .flatten()
        .ok_or(Error::NoSuchBook { id: text })
}

pub(crate) async fn book_page(
    State(state): State<AppState>,
    id: Option<Extension<RequestId>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let book_id = book_id(path)?;
    let request_id = request_id(&id);
    let book = state.recommendations.get_book(book_id, request_id).await?;
    // One more than shown, since the book itself may be among them.
    let wanted = i32::try_from(MORE_BOOKS + 1).unwrap_or(i32::MAX);
    let more = if book.category_names().is_none() {
        Ok(Vec::new())
    } else {
        state
            .recommendations
            .recommend(book.category, wanted, request_id)
            .await
    };
    let more = more
        .map(|books| {
            books
                .into_iter()
                .filter(|other| other.id != book.id)
                .take(MORE_BOOKS)
                .collect()
        })
        .map_err(|_| UNAVAILABLE_MESSAGE);
    Ok(render(&BookPage::new(book, more), StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<i64, Error> {
        book_id(Ok(Path(text.to_owned())))
    }

    #[test]
    fn only_positive_whole_numbers_written_canonically_are_book_ids() {
        assert_eq!(parsed("7").unwrap(), 7);
        assert_eq!(parsed("10").unwrap(), 10);
        assert_eq!(parsed("9223372036854775807").unwrap(), i64::MAX);
        for bad in [
            "0",
            "-1",
            "abc",
            "1.5",
            "",
            " 1",
            "9223372036854775808",
            "+7",
            "007",
            "07",
            "00",
            "-0",
            "+0",
            "７",
        ] {
            let error = parsed(bad).unwrap_err();
            assert!(matches!(error, Error::NoSuchBook { .. }), "{bad}");
        }
    }
}
