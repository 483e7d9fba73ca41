//! `ncr-gateway`: runs the nCr HTTP API gateway until SIGTERM/SIGINT.

use std::process::ExitCode;

use ncr_gateway::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = bookstore_config::parse_args();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        ncr_gateway::run(listeners, config, shutdown)
    })
    .await
}
