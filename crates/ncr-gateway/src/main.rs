//! `ncr-gateway`: runs the nCr HTTP API gateway until SIGTERM/SIGINT.

use std::process::ExitCode;

use bookstore_platform::exit::exit_status;
use bookstore_platform::server::bind;
use bookstore_platform::{Shutdown, telemetry};
use clap::Parser;
use ncr_gateway::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    telemetry::init(config.server.log_format);
    let result = async {
        let listener = bind(&config.host, config.port).await?;
        ncr_gateway::run(listener, config, Shutdown::on_signals().wait_owned()).await
    };
    exit_status("ncr-gateway", result.await)
}
