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

use std::io::Write;
use std::time::Duration;

use bookstore_platform::config::parse_duration;
use bookstore_platform::tls::{ClientTls, TlsError, UpstreamTlsSettings};
use bookstore_proto::demo::v1::demo_service_client::DemoServiceClient;
use bookstore_proto::demo::v1::{CountdownRequest, SumRequest};
use bookstore_proto::legacy::bidirectional::bidirectional_client::BidirectionalClient;
use bookstore_proto::legacy::{bidirectional, unary};
use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

/// Where the clients look for the server unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://localhost:50053";

/// The connection and call options, and the call to make.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct ClientArgs {
    /// URL of the demo server (`host:port` is accepted too).
    #[arg(long, env = "DEMO_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,

    /// Deadline of the whole call, e.g. `10s`; a countdown gets its own length on top.
    #[arg(long, env = "DEMO_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub timeout: Duration,

    /// TLS or mutual TLS to the server (the server must be run with --tls-cert).
    #[command(flatten)]
    pub tls: UpstreamTlsSettings,

    /// The call to make.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// One call of each kind.
#[derive(clap::Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    /// Unary: send one message and print the reply.
    Unary {
        /// The message, e.g. "Hello Server! Are you listening?".
        message: String,
    },
    /// Bidirectional streaming: send the messages one at a time, printing each reply as it
    /// arrives before sending the next.
    Bidi {
        /// The messages, in order.
        #[arg(required = true)]
        messages: Vec<String>,
    },
    /// Server streaming: count down from START to 1, printing each number as it arrives.
    Countdown {
        /// The first number (1 to 10000).
        start: u32,
        /// Pause between two numbers, e.g. `500ms` or `0s` (whole milliseconds).
        #[arg(long, default_value = "500ms", value_parser = parse_duration)]
        interval: Duration,
    },
    /// Client streaming: stream the values to the server and print their sum.
    Sum {
        /// The values (whole numbers; negative ones too).
        #[arg(allow_negative_numbers = true)]
        values: Vec<i64>,
    },
}

impl ClientCommand {
    /// How long the call takes by design, beyond the time to answer: a countdown's length.
    pub fn designed_duration(&self) -> Duration {
        match self {
            Self::Countdown { start, interval } => interval.saturating_mul(start.saturating_sub(1)),
            Self::Unary { .. } | Self::Bidi { .. } | Self::Sum { .. } => Duration::ZERO,
        }
    }
}

/// Why a client call failed; each displays as one line for a person at a terminal.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server address is not a URL.
    #[error("invalid server address {server:?}: expected a URL such as {DEFAULT_SERVER}")]
    InvalidServer {
        /// The address given.
        server: String,
    },
    /// No connection to the server could be made.
    #[error(
        "cannot connect to the demo server at {server}: {}",
        root_cause(source)
    )]
    Connect {
        /// The server's URL.
        server: String,
        /// The cause.
        #[source]
        source: tonic::transport::Error,
    },
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The server ended the call with an error status.
    #[error("the server answered {:?}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    /// The call did not finish within its deadline.
    #[error("no complete answer within the deadline of {deadline:?}")]
    DeadlineExceeded {
        /// The deadline.
        deadline: Duration,
    },
    /// A bidirectional call ended without a reply to a message.
    #[error("the server closed the stream without answering {message:?}")]
    Unanswered {
        /// The message left unanswered.
        message: String,
    },
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The innermost cause of an error: for a failed connection, the part a person can act on
/// ("Connection refused") rather than the wrapper ("transport error").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

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

/// Whether a status reports the call's deadline passing, whichever side noticed first: the
/// server (`DEADLINE_EXCEEDED`) or tonic's own enforcement of the deadline sent with the
/// request (which reports `CANCELLED`, caused by `TimeoutExpired`).
fn is_deadline(status: &Status) -> bool {
    let mut cause = std::error::Error::source(status);
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = error.source();
    }
    status.code() == tonic::Code::DeadlineExceeded
}

async fn call(
    args: &ClientArgs,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let channel = connect(&args.server, args.tls.load()?, args.timeout).await?;
    match &args.command {
        ClientCommand::Unary { message } => unary_call(channel, message, deadline, out).await,
        ClientCommand::Bidi { messages } => bidi_call(channel, messages, deadline, out).await,
        ClientCommand::Countdown { start, interval } => {
            countdown_call(channel, *start, *interval, deadline, out).await
        }
        ClientCommand::Sum { values } => sum_call(channel, values, deadline, out).await,
    }
}

async fn connect(
    server: &str,
    tls: Option<ClientTls>,
    connect_timeout: Duration,
) -> Result<Channel, ClientError> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = match server.split_once("://") {
        Some((_, rest)) => format!("{scheme}://{rest}"),
        None => format!("{scheme}://{server}"),
    };
    let invalid = || ClientError::InvalidServer {
        server: server.to_owned(),
    };
    let mut endpoint = Endpoint::from_shared(url.clone())
        .map_err(|_| invalid())?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true);
    if let Some(tls) = tls {
        let host = endpoint.uri().host().unwrap_or_default().to_owned();
        endpoint = endpoint
            .tls_config(tls.config(host.trim_start_matches('[').trim_end_matches(']')))
            .map_err(|_| invalid())?;
    }
    endpoint
        .connect()
        .await
        .map_err(|source| ClientError::Connect {
            server: url,
            source,
        })
}

/// `message` in a request carrying the call's deadline.
fn with_deadline<T>(message: T, deadline: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(deadline);
    request
}

async fn unary_call(
    channel: Channel,
    message: &str,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let request = with_deadline(
        unary::Message {
            message: message.to_owned(),
        },
        deadline,
    );
    let reply = unary::unary_client::UnaryClient::new(channel)
        .get_server_response(request)
        .await?
        .into_inner();
    writeln!(out, "{}", reply.message)?;
    writeln!(out, "received: {}", reply.received)?;
    Ok(())
}

/// Sends one message, waits for its reply, then sends the next: the replies visibly arrive while
/// the request stream is still open.
async fn bidi_call(
    channel: Channel,
    messages: &[String],
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let Some((first, rest)) = messages.split_first() else {
        return Ok(());
    };
    let message = |text: &String| bidirectional::Message {
        message: text.clone(),
    };
    // The first message goes out with the call: some servers (Python's grpcio among them) send
    // their response headers only with their first reply, so waiting for the headers before
    // sending anything could wait forever.
    let (outbox, queued) = mpsc::channel(1);
    let outgoing = stream::iter([message(first)]).chain(ReceiverStream::new(queued));
    let mut replies = BidirectionalClient::new(channel)
        .get_server_response(with_deadline(outgoing, deadline))
        .await?
        .into_inner();
    let mut sent = first;
    for next in rest.iter().map(Some).chain([None]) {
        let reply = replies
            .message()
            .await?
            .ok_or_else(|| ClientError::Unanswered {
                message: sent.clone(),
            })?;
        writeln!(out, "{}", reply.message)?;
        out.flush()?;
        let Some(next) = next else { break };
        // A failed send means the call is already over; reading the next reply reports why.
        let _ = outbox.send(message(next)).await;
        sent = next;
    }
    drop(outbox);
    // Our stream is closed; the server's ends too, with the call's status.
    while let Some(reply) = replies.message().await? {
        writeln!(out, "{}", reply.message)?;
    }
    Ok(())
}

async fn countdown_call(
    channel: Channel,
    start: u32,
    interval: Duration,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let interval_ms = u32::try_from(interval.as_millis()).unwrap_or(u32::MAX);
    let request = with_deadline(CountdownRequest { start, interval_ms }, deadline);
    let mut numbers = DemoServiceClient::new(channel)
        .countdown(request)
        .await?
        .into_inner();
    while let Some(response) = numbers.message().await? {
        writeln!(out, "{}", response.number)?;
        out.flush()?;
    }
    Ok(())
}

async fn sum_call(
    channel: Channel,
    values: &[i64],
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let requests: Vec<SumRequest> = values.iter().map(|&value| SumRequest { value }).collect();
    let request = with_deadline(stream::iter(requests), deadline);
    let response = DemoServiceClient::new(channel)
        .sum(request)
        .await?
        .into_inner();
    let plural = if response.count == 1 { "" } else { "s" };
    writeln!(out, "{} ({} value{plural})", response.sum, response.count)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ClientArgs,
    }

    fn parse(argv: &[&str]) -> ClientArgs {
        Cli::try_parse_from(std::iter::once("demo").chain(argv.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn parses_each_subcommand() {
        let args = parse(&["unary", "Hello Server! Are you listening?"]);
        assert_eq!(
            args.command,
            ClientCommand::Unary {
                message: "Hello Server! Are you listening?".into()
            }
        );
        let args = parse(&["bidi", "a", "b"]);
        assert_eq!(
            args.command,
            ClientCommand::Bidi {
                messages: vec!["a".into(), "b".into()]
            }
        );
        let args = parse(&["countdown", "5"]);
        assert_eq!(
            args.command,
            ClientCommand::Countdown {
                start: 5,
                interval: Duration::from_millis(500)
            }
        );
        let args = parse(&["sum", "1", "-2", "3"]);
        assert_eq!(
            args.command,
            ClientCommand::Sum {
                values: vec![1, -2, 3]
            }
        );
        assert!(
            Cli::try_parse_from(["demo", "bidi"]).is_err(),
            "bidi needs a message"
        );
    }

    #[test]
    fn options_go_before_or_after_the_subcommand() {
        let args = parse(&["--server", "http://a:1", "sum", "1", "--timeout", "2s"]);
        assert_eq!(
            (args.server.as_str(), args.timeout),
            ("http://a:1", Duration::from_secs(2))
        );
    }

    #[test]
    fn a_countdown_deadline_covers_the_countdown() {
        let command = ClientCommand::Countdown {
            start: 5,
            interval: Duration::from_secs(2),
        };
        assert_eq!(command.designed_duration(), Duration::from_secs(8));
        assert_eq!(
            ClientCommand::Sum { values: vec![] }.designed_duration(),
            Duration::ZERO
        );
    }
}
