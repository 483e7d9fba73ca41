//! `bookstore`: the Online Books For You launcher (see the library docs).

use std::process::ExitCode;

use bookstore::{Cli, Command};
use bookstore_serve::{ServerSettings, Shutdown, exit_status};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    bookstore_telemetry::init(ServerSettings::default().log_format);
    let result = match cli.command {
        Command::Up(args) => bookstore::up::run(args, Shutdown::on_signals()).await,
        Command::Certs(args) => bookstore::certs::run(&args).map_err(Into::into),
        Command::Demo(args) => demo_client::run_client(&args, &mut std::io::stdout())
            .await
            .map_err(Into::into),
    };
    exit_status("bookstore", result)
}
