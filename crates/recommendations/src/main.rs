//! `recommendations`: runs the Recommendations gRPC service until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use recommendations::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        recommendations::run(listeners, config, shutdown)
    })
    .await
}
