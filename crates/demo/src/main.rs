//! `demo-server`: runs the demo gRPC service (all four kinds of RPC) until SIGTERM/SIGINT.

use std::process::ExitCode;

use demo::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config: Config = bookstore_config::parse_args();
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        demo::run(listeners, config, shutdown)
    })
    .await
}
