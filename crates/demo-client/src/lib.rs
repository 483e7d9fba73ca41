//! The demo's clients: one call of each kind, printing what comes back as it arrives.
//!
//! Used by the `demo` binary and by the launcher (`bookstore demo ...`), which flattens
//! [`ClientArgs`] into its own command line and calls [`run_client`]:
//!
//! ```text
//! demo unary "Hello Server! Are you listening?"
//! demo bidi "first message" "second message"
//! demo countdown 5 --interval 500ms
//! demo sum 1 2 3
//! ```
//!
//! Every call has a deadline covering all of it — connecting, sending, and reading every reply
//! — which is also sent to the server (`grpc-timeout`). A countdown's deadline is `--timeout`
//! plus the time the countdown itself takes, so a long countdown is not cut short.
//!
//! `args` ([`ClientArgs`]: the command line), `connect` (reaching the server), `calls` (one
//! function per kind of call), `error` ([`ClientError`]).

mod args;
mod calls;
mod connect;
mod error;

use std::io::Write;
use std::time::Duration;

pub use args::{ClientArgs, ClientCommand, DEFAULT_SERVER};
pub use error::ClientError;

use crate::error::is_deadline;

/// Makes the call `args` describe, writing what comes back to `out` line by line as it arrives.
pub async fn run_client(args: &ClientArgs, out: &mut impl Write) -> Result<(), ClientError> {
    let deadline = args
        .timeout
        .saturating_add(args.command.designed_duration());
    let result = tokio::time::timeout(deadline, call(args, deadline, out))
        .await
        .unwrap_or(Err(ClientError::DeadlineExceeded { deadline }));
    result.map_err(|error| match error {
        ClientError::Status(status) if is_deadline(&status) => {
            ClientError::DeadlineExceeded { deadline }
        }
        error => error,
    })
}

async fn call(
    args: &ClientArgs,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let channel = connect::connect(&args.server, args.tls.load()?, args.timeout).await?;
    match &args.command {
        ClientCommand::Unary { message } => {
            calls::unary_call(channel, message, deadline, out).await
        }
        ClientCommand::Bidi { messages } => {
            calls::bidi_call(channel, messages, deadline, out).await
        }
        ClientCommand::Countdown { start, interval } => {
            calls::countdown_call(channel, *start, *interval, deadline, out).await
        }
        ClientCommand::Sum { values } => calls::sum_call(channel, values, deadline, out).await,
    }
}
