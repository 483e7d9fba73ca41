//! `bookstore`: the Online Books For You launcher (see the library docs).

use std::process::ExitCode;

use bookstore::{Cli, Command};
use bookstore_serve::{ServerSettings, Shutdown, exit_status};
use bookstore_telemetry::Telemetry;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Serve(service) = cli.command {
        // Alone in its process: the service's own telemetry, as its binary has it.
        return bookstore::serve::run(service).await;
    }
    // The launcher's own lines; `bookstore up` gives each service telemetry of its own.
    let telemetry = match Telemetry::new("bookstore", ServerSettings::default().log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => return exit_status("bookstore", Err(error)),
    };
    telemetry.install();
    let result = match cli.command {
        Command::Up(args) => bookstore::up::run(args, Shutdown::on_signals()).await,
        Command::Serve(_) => unreachable!("served above"),
        Command::Certs(args) => bookstore::certs::run(&args).map_err(Into::into),
        Command::Demo(args) => demo_client::run_client(&args, &mut std::io::stdout())
            .await
            .map_err(Into::into),
    };
    telemetry.shutdown();
    exit_status("bookstore", result)
}
