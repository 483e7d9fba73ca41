//! `recommendations`: runs the Recommendations gRPC service until SIGTERM/SIGINT.

use std::process::ExitCode;

use recommendations::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = bookstore_config::parse_args();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        recommendations::run(listeners, config, shutdown)
    })
    .await
}
