//! The system's command-line clients: `bookstore recommend`, `books`, `factorial`, `ncr` and
//! `health`, each finding its service through the variables the system already uses (see
//! [`target`]), writing text for people or JSON for programs (`--json`), and failing with one
//! line and exit status 1: a service that is not running, a deadline that passed, or the
//! server's own words for a request it refused.
//!
//! One command per file: `recommend`, `books` (a group: list, get, add, update, delete),
//! `factorial`, `ncr`, `health`. What they share: `target` (where each service is, and the
//! deadline), `grpc` (a call through the platform's client side, and what a failed one means),
//! `web` (a GET from a web app, over hyper), `category` (categories as flags), `output` (text or
//! JSON), `error` ([`CliError`]).

pub mod books;
mod category;
mod error;
pub mod factorial;
mod grpc;
pub mod health;
pub mod ncr;
mod output;
pub mod recommend;
pub mod target;
mod web;

use std::io::Write;

use clap::Subcommand;

pub use error::CliError;
pub use output::OutputArgs;
pub use target::{
    Deadline, DemoAt, FactorialAt, MarketplaceAt, NcrGatewayAt, RecommendationsAt, Target,
};

/// A call to one of the system's services.
#[derive(Subcommand, Debug, Clone)]
pub enum Client {
    /// Asks the Recommendations service for books of a category.
    Recommend(recommend::RecommendArgs),
    /// Reads and changes the catalog: list, get, add, update and delete books.
    #[command(subcommand)]
    Books(books::BooksCommand),
    /// Asks the Factorial service for n!, exactly.
    Factorial(factorial::FactorialArgs),
    /// Asks the nCr gateway for nCr ("n choose r"), exactly.
    Ncr(ncr::NcrArgs),
    /// Checks every service's health: a table of service, address, status and latency.
    Health(health::HealthArgs),
}

impl Client {
    /// Makes the call, writing the answer to `out`.
    pub async fn run(&self, out: &mut dyn Write) -> Result<(), CliError> {
        match self {
            Self::Recommend(args) => recommend::run(args, out).await,
            Self::Books(command) => command.run(out).await,
            Self::Factorial(args) => factorial::run(args, out).await,
            Self::Ncr(args) => ncr::run(args, out).await,
            Self::Health(args) => health::run(args, out).await,
        }
    }
}
