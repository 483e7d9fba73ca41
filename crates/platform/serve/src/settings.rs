//! Settings every server shares, as clap arguments that services flatten into their own
//! `Config` (so every binary documents them in `--help`, with an environment variable each).

use std::time::Duration;

use clap::Args;

use bookstore_telemetry::LogFormat;

use crate::server_threads::default_threads;

/// Default grace period for in-flight requests after SIGTERM: Kubernetes' default
/// `terminationGracePeriodSeconds`, as in the tutorial's `server.stop(30)`.
pub(crate) const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);
/// Default cap on one request's handling time.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on concurrent HTTP/2 streams per connection.
pub(crate) const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 1024;
/// Default cap on a decoded request message (tonic's own default).
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Parses durations such as `30s`, `500ms` or `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(text)
}

/// Limits and shutdown behaviour shared by every server.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// How long in-flight requests may run after SIGTERM/SIGINT before they are cancelled.
    #[arg(long, env = "GRACE_PERIOD", default_value = "30s", value_parser = parse_duration)]
    pub grace_period: Duration,

    /// Longest a single request may take before it fails with DEADLINE_EXCEEDED (gRPC) or 408 (HTTP).
    /// A streaming gRPC response is limited until it starts, not to its end (a health watch
    /// lasts as long as the client wants it).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Most concurrent HTTP/2 streams (calls) a client may open on one connection.
    #[arg(long, env = "MAX_CONCURRENT_STREAMS", default_value_t = DEFAULT_MAX_CONCURRENT_STREAMS)]
    pub max_concurrent_streams: u32,

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
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            grace_period: DEFAULT_GRACE_PERIOD,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            log_format: LogFormat::Text,
            access_log: true,
            server_threads: default_threads(),
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
}
