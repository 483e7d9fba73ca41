//! `marketplace`: runs the Marketplace web app until SIGTERM/SIGINT.

use std::process::ExitCode;

use marketplace::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = bookstore_config::parse_args();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        marketplace::run(listeners, config, shutdown)
    })
    .await
}
