//! `factorial`: runs the Factorial gRPC service until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use factorial::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        factorial::run(listeners, config, shutdown)
    })
    .await
}
