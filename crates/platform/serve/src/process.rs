//! How every service binary runs, written once: telemetry set up (log lines, and traces when
//! the `OTEL_*` variables say where), signals handled, listeners bound, the service run, the
//! last spans sent, and one line on stderr with a non-zero status if any of it fails.
//! A service's `main` is then two lines:
//!
//! ```ignore
//! let config = Config::parse();
//! bookstore_serve::run_service(config.serve.clone(), |listeners, shutdown| {
//!     recommendations::run(listeners, config, shutdown)
//! })
//! .await
//! ```

use std::fmt::Display;
use std::process::ExitCode;

use bookstore_telemetry::Telemetry;

use crate::args::ServeArgs;
use crate::listeners::Listeners;
use crate::shutdown::{Shutdown, ShutdownSignal};

/// Runs a service as its binary: logs as `args` say and traces as the `OTEL_*` variables say,
/// shuts down gracefully on the first SIGTERM/SIGINT (at once on the second), binds the
/// listeners `args` name, then runs `run` until it returns. Must be called inside a Tokio
/// runtime.
pub async fn run_service<A, F, Fut, E>(args: A, run: F) -> ExitCode
where
    A: ServeArgs,
    F: FnOnce(Listeners, ShutdownSignal) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let telemetry = match Telemetry::new(args.name(), args.server().log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => return exit_status(args.name(), Err(error)),
    };
    telemetry.install();
    // Before anything else, so a signal that arrives during start-up is already ours.
    let shutdown = Shutdown::on_signals();
    let status = match args.bind().await {
        Ok(listeners) => exit_status(args.name(), run(listeners, shutdown.signal()).await),
        Err(error) => exit_status(args.name(), Err(error)),
    };
    telemetry.shutdown();
    status
}

/// The exit status for `result`, printing its error as one line, prefixed with the program's
/// name, if it failed.
pub fn exit_status<E: Display>(program: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}
