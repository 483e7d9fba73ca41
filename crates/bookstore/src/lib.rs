//! The Online Books For You launcher and command-line client.
//!
//! `bookstore up` runs every service of the system in one process, on the same ports and with
//! the same code as their own binaries, so a newcomer sees the whole system with one command
//! and no external services. Ctrl+C (or SIGTERM) shuts everything down gracefully; a second
//! one exits at once. `bookstore recommend`, `books`, `factorial`, `ncr` and `health` call the
//! running system ([`cli`]); `serve` runs one service alone; `db migrate` brings a catalog
//! database up to date ([`db`]); `certs` writes development certificates; `demo` calls the demo
//! service.

pub mod certs;
pub mod cli;
pub mod db;
pub mod serve;
pub mod up;

use clap::{Parser, Subcommand};

/// `bookstore`'s command line.
#[derive(Parser, Debug)]
#[command(
    name = "bookstore",
    version,
    about = "Runs Online Books For You locally, and calls its services."
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
    /// Manages the catalog's database (`bookstore db migrate`).
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Calls to the system's services.
    #[command(flatten)]
    Client(cli::Client),
}

/// Why the launcher failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A port could not be listened on (already in use, say); says which setting moves it.
    #[error(
        "{service} cannot listen on {addr}{purpose}: {reason} — set {env} (or {flag}) to a free \
         port"
    )]
    Listen {
        /// The service.
        service: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
        /// What the port is for, when not the service's own traffic: " (metrics and health)".
        purpose: &'static str,
        /// Why it could not.
        reason: String,
        /// The flag that moves it, e.g. `--marketplace-port`.
        flag: String,
        /// The variable that moves it, e.g. `MARKETPLACE_PORT`.
        env: String,
    },
    /// A demo call failed.
    #[error(transparent)]
    Demo(#[from] demo_client::ClientError),
    /// The catalog's data directory could not be prepared.
    #[error(transparent)]
    CatalogLocation(#[from] up::CatalogLocationError),
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
