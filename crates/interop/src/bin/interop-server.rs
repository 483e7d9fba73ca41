//! `interop-server`: serves `grpc.testing.TestService` until SIGTERM/SIGINT.

use std::process::ExitCode;

use interop::server::{Config, run};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bookstore_config::parse_args::<Config>().checked() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("interop-server: {message}");
            return ExitCode::from(2);
        }
    };
    bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
        run(listeners, config, shutdown)
    })
    .await
}
