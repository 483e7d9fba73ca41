//! How every binary ends: a fatal error is one line on stderr, prefixed with the program's name,
//! and a non-zero exit status; success is status 0.

use std::fmt::Display;
use std::process::ExitCode;

/// The exit status for `result`, printing its error as one line if it failed.
pub fn exit_status<E: Display>(program: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}
