//! Categories on the command line: named by their slugs (`science_fiction`), as in the
//! marketplace's addresses, and refused by clap (listing the valid ones) before any call.

use bookstore_proto::recommendations::v1::Category;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use marketplace::category::{from_slug, named};

/// Accepts the categories' slugs (and lists them in `--help` and in the error for any other).
pub(crate) fn category_parser() -> impl TypedValueParser<Value = Category> {
    PossibleValuesParser::new(named().iter().map(|named| named.slug.as_str()))
        .map(|slug| from_slug(&slug).expect("only the categories' own slugs are accepted"))
}
