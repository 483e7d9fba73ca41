//! Settings every server shares, as clap arguments that services flatten into their own
//! `Config` (so every binary documents them in `--help`, with an environment variable each).

use std::time::Duration;

use clap::Args;

use bookstore_config::{parse_duration, parse_positive_duration};
use bookstore_telemetry::LogFormat;

use crate::server_threads::default_threads;

/// Default grace period for in-flight requests after SIGTERM: Kubernetes' default
/// `terminationGracePeriodSeconds`, as in the tutorial's `server.stop(30)`.
pub(crate) const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);
/// Default cap on one request's handling time.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on concurrent HTTP/2 streams per connection.
pub(crate) const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 1024;
/// Default cap on calls (or web requests) in progress at once per server, beyond which the
/// next ones are shed: above the most the repository's own benchmarks keep in flight (h2load's
/// 50 connections × 20 streams = 1,000 in `bench/run.sh` and `bench/ab-recommend.sh`; the
/// homepage runs at 50 connections at most), so they measure the server, never the shedder,
/// and equal to the streams one connection may open, so one client alone cannot be shed.
pub(crate) const DEFAULT_MAX_CONCURRENT_CALLS: usize = 1024;
/// Default cap on a decoded request message (tonic's own default).
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default time a new connection gets for its TLS handshake, then again for its first bytes.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an HTTP/1 request gets to finish sending its headers.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on open connections per server: below the 1024 descriptors many containers
/// allow a process, leaving room for upstream connections, files and the admin endpoint's 64.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 900;
/// Default quiet time after which an HTTP/2 connection is pinged, so dead peers are noticed.
pub(crate) const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// Default time a keepalive ping may go unanswered before the connection is closed.
pub(crate) const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a connection limit: a whole number, at least 1.
fn parse_connection_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(limit) => Ok(limit),
        Err(error) => Err(format!("{error} (a whole number of connections, e.g. 900)")),
    }
}

/// Parses a limit of calls in progress: a whole number, at least 1.
fn parse_call_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (a server that admits no call serves nothing)".to_owned()),
        Ok(limit) => Ok(limit),
        Err(error) => Err(format!("{error} (a whole number of calls, e.g. 1024)")),
    }
}

/// Limits and shutdown behaviour shared by every server.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// How long in-flight requests may run after SIGTERM/SIGINT before they are cancelled
    /// (`0s` cancels them at once).
    #[arg(long, env = "GRACE_PERIOD", default_value = "30s", value_parser = parse_duration)]
    pub grace_period: Duration,

    /// Longest a single request may take before it fails with DEADLINE_EXCEEDED (gRPC) or 408 (HTTP).
    /// A streaming gRPC response is limited until it starts, not to its end (a health watch
    /// lasts as long as the client wants it).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_positive_duration)]
    pub request_timeout: Duration,

    /// Most concurrent HTTP/2 streams (calls) a client may open on one connection.
    #[arg(long, env = "MAX_CONCURRENT_STREAMS", default_value_t = DEFAULT_MAX_CONCURRENT_STREAMS)]
    pub max_concurrent_streams: u32,

    /// Most calls (gRPC) or requests (web apps) in progress at once, over all connections;
    /// beyond it the next ones are refused at once — RESOURCE_EXHAUSTED (gRPC) or 503 with
    /// Retry-After (HTTP) — rather than queued, so the ones admitted keep their latency. Health
    /// checks, reflection, /healthz and /readyz are never refused. The default is above what
    /// the repository's benchmarks keep in flight (1,000).
    #[arg(long, env = "MAX_CONCURRENT_CALLS", default_value_t = DEFAULT_MAX_CONCURRENT_CALLS,
          value_parser = parse_call_limit)]
    pub max_concurrent_calls: usize,

    /// Largest request message accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED.
    #[arg(long, env = "MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,

    /// Log output format: `text` for people, `json` for log shippers. Levels come from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// One access-log line per HTTP request at info (web apps): `false` turns them off.
    #[arg(long, env = "ACCESS_LOG", default_value_t = true, action = clap::ArgAction::Set)]
    pub access_log: bool,

    /// Threads serving connections, each on its own single-threaded runtime (thread-per-core;
    /// default: one per CPU this process may use). 0 serves on the process's main runtime.
    #[arg(long, env = "SERVER_THREADS", default_value_t = default_threads())]
    pub server_threads: usize,

    /// Connection hygiene: timeouts and limits that keep stalled or excess connections from
    /// holding the server's descriptors.
    #[command(flatten)]
    pub connections: ConnectionSettings,
}

/// How long connections may stall, and how many may be open (see `guard` and `refusal`).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Longest a new connection may take to finish its TLS handshake, and then again to send
    /// its first bytes (the HTTP/2 preface, or an HTTP/1 request line); stalled ones are closed.
    #[arg(long, env = "HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    pub handshake_timeout: Duration,

    /// Longest an HTTP/1 request may take to send all of its headers (web apps and admin ports).
    /// hyper starts it whenever it waits for a request, so it is also how long an idle
    /// keep-alive connection is kept: behind a load balancer that reuses idle connections
    /// longer than this, raise it above the balancer's idle timeout.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    pub header_read_timeout: Duration,

    /// Most connections open at once; beyond it, a new connection is answered with
    /// UNAVAILABLE (gRPC) or 503 (HTTP), saying why, and closed.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = parse_connection_limit)]
    pub max_connections: usize,

    /// Quiet time after which an HTTP/2 connection is pinged.
    #[arg(long, env = "HTTP2_KEEPALIVE_INTERVAL", default_value = "30s", value_parser = parse_positive_duration)]
    pub http2_keepalive_interval: Duration,

    /// How long a ping may go unanswered before the connection is closed as dead.
    #[arg(long, env = "HTTP2_KEEPALIVE_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    pub http2_keepalive_timeout: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            http2_keepalive_interval: DEFAULT_KEEPALIVE_INTERVAL,
            http2_keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            grace_period: DEFAULT_GRACE_PERIOD,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            log_format: LogFormat::Text,
            access_log: true,
            server_threads: default_threads(),
            connections: ConnectionSettings::default(),
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
        settings: ServerSettings,
    }

    #[test]
    fn defaults_match_the_documented_constants() {
        let cli = Cli::try_parse_from(["test"]).unwrap();
        assert_eq!(cli.settings, ServerSettings::default());
    }

    #[test]
    fn parses_human_durations() {
        let cli = Cli::try_parse_from(["test", "--grace-period", "1500ms"]).unwrap();
        assert_eq!(cli.settings.grace_period, Duration::from_millis(1500));
        assert!(Cli::try_parse_from(["test", "--grace-period", "soon"]).is_err());
    }

    #[test]
    fn zero_timeouts_and_limits_are_refused_at_start() {
        for flag in [
            "--request-timeout",
            "--handshake-timeout",
            "--header-read-timeout",
            "--http2-keepalive-interval",
            "--http2-keepalive-timeout",
        ] {
            for zero in ["0s", "0ms", "0"] {
                let error = Cli::try_parse_from(["test", flag, zero]).err().unwrap();
                assert!(
                    error
                        .to_string()
                        .contains(&format!("invalid value '{zero}' for '{flag} <"))
                        && error.to_string().contains("must be more than zero"),
                    "{flag} {zero}: {error}"
                );
            }
        }
        assert!(Cli::try_parse_from(["test", "--max-connections", "0"]).is_err());
        let error = Cli::try_parse_from(["test", "--max-concurrent-calls", "0"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("invalid value '0' for '--max-concurrent-calls <MAX_CONCURRENT_CALLS>'")
                && error.contains("must be at least 1"),
            "{error}"
        );
        let cli = Cli::try_parse_from(["test", "--max-concurrent-calls", "2"]).unwrap();
        assert_eq!(cli.settings.max_concurrent_calls, 2);
        // Zero grace means "cancel in-flight requests at once": a choice, not a mistake.
        let cli = Cli::try_parse_from(["test", "--grace-period", "0s"]).unwrap();
        assert_eq!(cli.settings.grace_period, Duration::ZERO);
    }

    #[test]
    fn a_bad_duration_is_clap_s_error_with_the_parser_s_words() {
        let error = Cli::try_parse_from(["test", "--handshake-timeout", "soon"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains(
                "invalid value 'soon' for '--handshake-timeout <HANDSHAKE_TIMEOUT>': \
                 not a duration: use a number with a unit, such as 250ms, 2s or 1m"
            ),
            "{error}"
        );
    }
}
