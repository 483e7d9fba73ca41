//! `recommendations`: runs the Recommendations gRPC service until SIGTERM/SIGINT.

use std::process::ExitCode;

use bookstore_platform::exit::exit_status;
use bookstore_platform::server::Listeners;
use bookstore_platform::{Shutdown, telemetry};
use clap::Parser;
use recommendations::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    telemetry::init(config.server.log_format);
    let result = async {
        let listeners =
            Listeners::bind(&config.host, config.port, Some(config.metrics_port)).await?;
        recommendations::run(listeners, config, Shutdown::on_signals().wait_owned()).await
    };
    exit_status("recommendations", result.await)
}
