//! The Online Books For You launcher.
//!
//! `bookstore up` runs every service of the system in one process, on the same ports and with
//! the same code as their own binaries, so a newcomer sees the whole system with one command
//! and no external services. Ctrl+C (or SIGTERM) shuts everything down gracefully; a second
//! one exits at once.

pub mod certs;
pub mod serve;
pub mod up;

use clap::{Parser, Subcommand};

/// `bookstore`'s command line.
#[derive(Parser, Debug)]
#[command(
    name = "bookstore",
    version,
    about = "Runs Online Books For You locally."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `bookstore`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs every service locally until Ctrl+C.
    Up(up::UpArgs),
    /// Runs one service alone, with its own flags (`bookstore serve recommendations --help`).
    #[command(subcommand)]
    Serve(serve::Service),
    /// Writes a development CA and a certificate and key for every service.
    Certs(certs::CertsArgs),
    /// Calls the demo service: unary, bidirectional, server- or client-streaming.
    Demo(demo_client::ClientArgs),
}

/// Why the launcher failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listener could not be bound (a port already in use, say).
    #[error(transparent)]
    Bind(#[from] bookstore_serve::ServeError),
    /// A demo call failed.
    #[error(transparent)]
    Demo(#[from] demo_client::ClientError),
    /// Certificates could not be written.
    #[error(transparent)]
    Certs(#[from] bookstore_tls::dev_certs::CertsError),
    /// A service stopped with an error.
    #[error("{service}: {source}")]
    Service {
        /// Which service.
        service: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
