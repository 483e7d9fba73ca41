//! `marketplace`: runs the Marketplace web app until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use marketplace::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        marketplace::run(listeners, config, shutdown)
    })
    .await
}
