//! What every handler shares: the app state, and reading a request's query string, category
//! and request id.

use axum::Extension;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use bookstore_proto::recommendations::v1;
use tower_http::request_id::RequestId;

use crate::category;
use crate::error::Error;
use crate::upstream::Recommendations;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Recommendations client.
    pub recommendations: Recommendations,
}

/// The query string as `T`, or why it cannot be read.
pub(crate) fn parse_query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, Error> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| Error::BadQueryString(rejection.body_text()))
}

/// The category a query string's `category` names; `default` when it names none.
pub(crate) fn category_of(
    slug: Option<&str>,
    default: v1::Category,
) -> Result<v1::Category, Error> {
    match slug {
        None | Some("") => Ok(default),
        Some(slug) => category::from_slug(slug).ok_or_else(|| Error::UnknownCategory {
            slug: slug.to_owned(),
            known: category::named()
                .iter()
                .map(|named| named.slug.as_str())
                .collect(),
        }),
    }
}

/// The request's id, passed on to Recommendations.
pub(crate) fn request_id(id: &Option<Extension<RequestId>>) -> Option<&str> {
    id.as_ref()
        .and_then(|Extension(id)| id.header_value().to_str().ok())
}
