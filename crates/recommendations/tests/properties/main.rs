//! Property tests (proptest) of what the Recommendations service parses from outside: catalog
//! files, and every request its two gRPC APIs can receive, as messages and as raw bytes; and
//! v1's search, paged any way, against a model of its documented rules.
//! `PROPTEST_CASES` sets the number of cases (`bench/fuzz.sh`).
//!
//! One test binary (rather than one per file) so the suite links once.

mod catalog;
mod grpc;
mod search;

use bookstore_testing::property_cases;
use proptest::test_runner::Config;

/// A property's configuration: `ci_default` cases, or `PROPTEST_CASES`.
fn cases(ci_default: u32) -> Config {
    Config {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..Config::with_cases(property_cases(ci_default))
    }
}
