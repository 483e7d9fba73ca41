//! `marketplace`: runs the Marketplace web app until SIGTERM/SIGINT.

use std::process::ExitCode;

use bookstore_platform::server::bind;
use bookstore_platform::{Shutdown, telemetry};
use clap::Parser;
use marketplace::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    telemetry::init(config.server.log_format);
    let listener = match bind(&config.host, config.port).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("marketplace: {error}");
            return ExitCode::FAILURE;
        }
    };
    match marketplace::run(listener, config, Shutdown::on_signals().wait_owned()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("marketplace: {error}");
            ExitCode::FAILURE
        }
    }
}
