//! `demo`: calls the demo service — one subcommand per kind of RPC — and prints the replies as
//! they arrive. `demo --help` lists the subcommands.

use std::process::ExitCode;

use bookstore_config::parse_args;
use bookstore_serve::exit_status;
use clap::Parser;
use demo_client::ClientArgs;

/// Calls the demo gRPC service: unary, server streaming, client streaming or bidirectional.
#[derive(Parser)]
#[command(name = "demo", version)]
struct Cli {
    #[command(flatten)]
    args: ClientArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = parse_args();
    exit_status(
        "demo",
        demo_client::run_client(&cli.args, &mut std::io::stdout()).await,
    )
}
