//! `interop-client`: runs gRPC's interop test cases against a server; exits 0 if all passed.

use std::process::ExitCode;

use interop::cases::{NAMES, run_named};
use interop::client::{Args, Clients};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = bookstore_config::parse_args();
    if args.list {
        for name in NAMES {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let clients = match Clients::connect(&args) {
        Ok(clients) => clients,
        Err(message) => {
            eprintln!("interop-client: {message}");
            return ExitCode::from(2);
        }
    };
    let failures = run_named(&args.test_case, &clients).await;
    for (name, failure) in &failures {
        eprintln!("interop-client: {name} failed: {failure}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
