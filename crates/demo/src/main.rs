//! `demo-server`: runs the demo gRPC service (all four kinds of RPC) until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use demo::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        demo::run(listeners, config, shutdown)
    })
    .await
}
