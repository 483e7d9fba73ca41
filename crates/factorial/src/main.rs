//! `factorial`: runs the Factorial gRPC service until SIGTERM/SIGINT.

use std::process::ExitCode;

use factorial::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = bookstore_config::parse_args();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        factorial::run(listeners, config, shutdown)
    })
    .await
}
