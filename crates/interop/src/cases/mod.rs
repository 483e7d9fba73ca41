//! The interop test cases (grpc/grpc `doc/interop-test-descriptions.md`), each asserting what
//! its description says the client asserts. [`NAMES`] lists them in the suite's own names;
//! [`run`] runs one.

mod cancel;
mod expect;
mod metadata;
mod streaming;
mod unary;

pub use expect::Failure;

use std::time::Instant;

use crate::client::Clients;

/// Every case this client runs, by the suite's names.
pub const NAMES: [&str; 18] = [
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_compressed_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "custom_metadata",
];

/// Runs the case called `name`.
pub async fn run(name: &str, clients: &Clients) -> Result<(), Failure> {
    match name {
        "empty_unary" => unary::empty_unary(clients).await,
        "large_unary" => unary::large_unary(clients).await,
        "client_compressed_unary" => unary::client_compressed_unary(clients).await,
        "server_compressed_unary" => unary::server_compressed_unary(clients).await,
        "client_streaming" => streaming::client_streaming(clients).await,
        "client_compressed_streaming" => streaming::client_compressed_streaming(clients).await,
        "server_compressed_streaming" => streaming::server_compressed_streaming(clients).await,
        "server_streaming" => streaming::server_streaming(clients).await,
        "ping_pong" => streaming::ping_pong(clients).await,
        "empty_stream" => streaming::empty_stream(clients).await,
        "cancel_after_begin" => cancel::cancel_after_begin(clients).await,
        "cancel_after_first_response" => cancel::cancel_after_first_response(clients).await,
        "timeout_on_sleeping_server" => cancel::timeout_on_sleeping_server(clients).await,
        "status_code_and_message" => unary::status_code_and_message(clients).await,
        "special_status_message" => unary::special_status_message(clients).await,
        "unimplemented_method" => unary::unimplemented_method(clients).await,
        "unimplemented_service" => unary::unimplemented_service(clients).await,
        "custom_metadata" => metadata::custom_metadata(clients).await,
        other => Err(Failure::new(format!(
            "no such case {other:?} (interop-client --list names them)"
        ))),
    }
}

/// Runs the cases `test_case` names (comma-separated, or `all`), printing one line per case;
/// the failures.
pub async fn run_named(test_case: &str, clients: &Clients) -> Vec<(String, Failure)> {
    let names: Vec<&str> = if test_case == "all" {
        NAMES.to_vec()
    } else {
        test_case.split(',').collect()
    };
    let mut failures = Vec::new();
    for name in names {
        let started = Instant::now();
        match run(name, clients).await {
            Ok(()) => println!("PASS {name} ({} ms)", started.elapsed().as_millis()),
            Err(failure) => {
                println!("FAIL {name}: {failure}");
                failures.push((name.to_owned(), failure));
            }
        }
    }
    failures
}
