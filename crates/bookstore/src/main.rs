//! `bookstore`: the Online Books For You launcher and command-line client (see the library
//! docs).

use std::process::ExitCode;

use bookstore::{Cli, Command};
use bookstore_config::parse_args;
use bookstore_serve::{ServerSettings, Shutdown, exit_status};
use bookstore_telemetry::Telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = parse_args();
    match cli.command {
        // Alone in its process: the service's own telemetry, as its binary has it.
        Command::Serve(service) => bookstore::serve::run(service).await,
        // A call (or a migration) writes its answer, or one line saying why there is none: no
        // log lines.
        Command::Client(client) => {
            exit_status("bookstore", client.run(&mut std::io::stdout()).await)
        }
        Command::Db(db) => exit_status("bookstore", db.run(&mut std::io::stdout()).await),
        command => launch(command).await,
    }
}

/// `up`, `certs` and `demo`, with the launcher's own log lines (`bookstore up` gives each
/// service telemetry of its own).
async fn launch(command: Command) -> ExitCode {
    let telemetry = match Telemetry::new("bookstore", ServerSettings::default().log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => return exit_status("bookstore", Err(error)),
    };
    telemetry.install();
    let result = match command {
        Command::Up(args) => bookstore::up::run(args, Shutdown::on_signals()).await,
        Command::Certs(args) => bookstore::certs::run(&args).map_err(Into::into),
        Command::Demo(args) => demo_client::run_client(&args, &mut std::io::stdout())
            .await
            .map_err(Into::into),
        Command::Serve(_) | Command::Client(_) | Command::Db(_) => unreachable!("run by main"),
    };
    telemetry.shutdown();
    exit_status("bookstore", result)
}
