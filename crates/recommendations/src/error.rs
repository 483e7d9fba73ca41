//! Everything a request to the Recommendations service can get wrong, and which gRPC status
//! each failure is. The mapping to `tonic::Status` is written once, here. (What can stop the
//! process — a bad catalog, a port in use — is [`RunError`](crate::RunError).) A database's
//! answer to a write ([`StoreError`]) becomes one of these here too.

use bookstore_layers::GrpcError;

use crate::database::StoreError;
use tonic::{Code, Status};

/// A request the Recommendations service refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested category is not one the API knows. The message is the tutorial's.
    #[error("Category not found")]
    CategoryNotFound,
    /// A v1 request without a category.
    #[error("category is required")]
    CategoryRequired,
    /// A search filtered by a category number the API does not define. (A filter is an
    /// argument, not a resource, so unlike `Recommend`'s tutorial-compatible NOT_FOUND this is
    /// INVALID_ARGUMENT.)
    #[error(
        "category {value} is not a known category; leave it CATEGORY_UNSPECIFIED to search every category"
    )]
    UnknownCategory {
        /// The number sent.
        value: i32,
    },
    /// A count or id below zero.
    #[error("{field} must not be negative, got {value}")]
    Negative {
        /// The request field.
        field: &'static str,
        /// The value sent.
        value: i64,
    },
    /// An id of zero or below.
    #[error("{field} must be positive, got {value}")]
    NotPositive {
        /// The request field.
        field: &'static str,
        /// The value sent.
        value: i64,
    },
    /// No book has this id.
    #[error("no book with id {id}")]
    BookNotFound {
        /// The id asked for.
        id: i64,
    },
    /// A search query over the limit.
    #[error("query must be at most {max} characters, got {length}")]
    QueryTooLong {
        /// The query's length in characters.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// A search query with more different words (after lowercasing) than the limit, which
    /// bounds the work a search does per book.
    #[error("query must have at most {max} different words, got {count}")]
    TooManyWords {
        /// How many different words the query has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The catalog has not been loaded yet (its database was unreachable at start).
    #[error("the catalog is not loaded yet: its database is unreachable; try again shortly")]
    CatalogLoading,
    /// A field of a book or request breaks a rule.
    #[error("{field} {problem}")]
    InvalidField {
        /// The field, as the request names it (e.g. `book.title`).
        field: &'static str,
        /// The rule, e.g. "must not be empty".
        problem: String,
    },
    /// A book's resource name that is not `books/{id}`.
    #[error("{field} must be books/{{id}} with a positive id, e.g. books/42, got {name:?}")]
    InvalidName {
        /// The field.
        field: &'static str,
        /// What was sent (cut short if long).
        name: String,
    },
    /// A book with this title and author is already in the catalog.
    #[error("a book with this title and author is already in the catalog")]
    DuplicateBook,
    /// A conditional write whose etag is no longer the book's.
    #[error(
        "books/{id} changed since it was read (its etag is now {current}); read it again, then retry"
    )]
    EtagMismatch {
        /// The book's id.
        id: u32,
        /// Its etag now.
        current: String,
    },
    /// A write to the built-in, read-only catalog.
    #[error(
        "the catalog is read-only: this service serves its built-in catalog; start it with \
         DATABASE_URL=sqlite://PATH (or postgres://…) to keep books in a database and change them"
    )]
    ReadOnly,
    /// A write while the database is unreachable.
    #[error(
        "the catalog database is unreachable, so the catalog cannot be changed now (reads still \
         work); try again later"
    )]
    DatabaseUnavailable,
    /// A write the database could not take now (locked, a conflict): nothing was changed.
    #[error("the catalog database is busy, so nothing was changed; try again")]
    DatabaseBusy,
    /// A write the database did not answer in time: it may or may not have been made.
    #[error(
        "the catalog database did not answer in time; the change may have been made: read the \
         book before trying again"
    )]
    DatabaseTimedOut,
    /// A write by a client that may only read.
    #[error("only {writers} may change the catalog; client {client:?} may only read it")]
    WriteForbidden {
        /// Who may write.
        writers: String,
        /// Who asked.
        client: String,
    },
    /// The database failed in a way the client cannot mend (logged in full where it happens).
    #[error("the catalog database failed; nothing was changed")]
    DatabaseFailed,
    /// A `page_token` that does not continue this search.
    #[error("page_token {problem}, or leave it empty for the first page")]
    InvalidPageToken {
        /// What is wrong with it.
        problem: PageTokenProblem,
    },
}

/// Why a page token cannot be followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTokenProblem {
    /// It is not a token the service wrote (or was altered).
    Malformed,
    /// It belongs to a search with another query or category.
    OtherSearch,
}

impl std::fmt::Display for PageTokenProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Malformed => {
                "is not a token this service issued; pass a next_page_token back unchanged"
            }
            Self::OtherSearch => {
                "belongs to a search with another query or category; send it with the query and category it came from"
            }
        })
    }
}

/// Checks that a signed request field is not negative.
pub fn non_negative(field: &'static str, value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::Negative { field, value })
}

impl GrpcError for Error {
    fn code(&self) -> Code {
        match self {
            Self::CategoryNotFound | Self::BookNotFound { .. } => Code::NotFound,
            Self::CatalogLoading | Self::DatabaseUnavailable | Self::DatabaseBusy => {
                Code::Unavailable
            }
            Self::DatabaseTimedOut => Code::DeadlineExceeded,
            Self::DuplicateBook => Code::AlreadyExists,
            Self::EtagMismatch { .. } => Code::Aborted,
            Self::ReadOnly => Code::FailedPrecondition,
            Self::WriteForbidden { .. } => Code::PermissionDenied,
            Self::DatabaseFailed => Code::Internal,
            Self::CategoryRequired
            | Self::UnknownCategory { .. }
            | Self::Negative { .. }
            | Self::NotPositive { .. }
            | Self::QueryTooLong { .. }
            | Self::TooManyWords { .. }
            | Self::InvalidPageToken { .. }
            | Self::InvalidField { .. }
            | Self::InvalidName { .. } => Code::InvalidArgument,
        }
    }
}

impl From<StoreError> for Error {
    /// What a client is told when the database refuses or fails a write. Failures it cannot
    /// mend are logged here in full and reach it without their details.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unreachable(_) | StoreError::Away => Self::DatabaseUnavailable,
            StoreError::Busy(_) => Self::DatabaseBusy,
            StoreError::TimedOut(_) => Self::DatabaseTimedOut,
            StoreError::Duplicate => Self::DuplicateBook,
            StoreError::NotFound { id } => Self::BookNotFound { id: id.into() },
            StoreError::EtagMismatch { id, current } => Self::EtagMismatch { id, current },
            other => {
                tracing::error!(error = %other, "catalog write failed");
                Self::DatabaseFailed
            }
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        bookstore_layers::into_status(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_fields_are_named_in_the_error() {
        assert_eq!(non_negative("max_results", 3).unwrap(), 3);
        let error = non_negative("user_id", -1).unwrap_err();
        assert_eq!(error.to_string(), "user_id must not be negative, got -1");
    }
}
