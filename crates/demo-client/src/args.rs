//! What a user asks the demo client for: the server, the deadline, TLS, and the call to make.

use std::time::Duration;

use bookstore_config::{parse_duration, parse_positive_duration};
use bookstore_tls::UpstreamTlsSettings;

/// Where the clients look for the server unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://localhost:50053";

/// The connection and call options, and the call to make.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct ClientArgs {
    /// URL of the demo server (`host:port` is accepted too).
    #[arg(long, env = "DEMO_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,

    /// Deadline of the whole call, e.g. `10s` (more than zero); a countdown gets its own length
    /// on top.
    #[arg(long, env = "DEMO_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration, global = true)]
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
    fn the_deadline_is_above_zero_but_a_countdown_may_not_pause() {
        for zero in ["0s", "0ms"] {
            let error = Cli::try_parse_from(["demo", "unary", "hi", "--timeout", zero])
                .err()
                .unwrap()
                .to_string();
            assert!(
                error.contains(&format!(
                    "invalid value '{zero}' for '--timeout <TIMEOUT>': must be more than zero"
                )),
                "{error}"
            );
        }
        let args = parse(&["countdown", "3", "--interval", "0s"]);
        assert_eq!(
            args.command,
            ClientCommand::Countdown {
                start: 3,
                interval: Duration::ZERO
            }
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
